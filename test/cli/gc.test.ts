// `interproc gc`: removes exactly the library's objects whose every user is dead (or that nobody
// uses), keeps the ones a live process uses, a file it did not make, a plain segment, and a
// damaged one; --dry-run lists the same and removes nothing.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib';
import { layout } from '../../lib/mailbox/ring';
import { cliJson, holder, kill9 } from '../helpers/cli';
import { leftoverShm, uniqueName } from '../helpers/util';

const children: ChildProcess[] = [];
const names: string[] = [];
const n = {} as Record<string, string>;
const foreign = `/not-ours-${process.pid}-gc`;
let unfinished: string;
const exists = (nm: string) => existsSync(`/dev/shm${nm}`);

beforeAll(async () => {
  for (const k of ['liveMutex', 'deadMutex', 'deadGroup', 'deadStore', 'leftSegment', 'damagedGroup', 'deadBarrier']) {
    n[k] = uniqueName('cli-gc');
    names.push(n[k] as string);
  }
  names.push(`${n.deadStore}-store`);
  children.push(await holder('mutex', n.liveMutex as string));
  await kill9(await holder('mutex', n.deadMutex as string));
  await kill9(await holder('mailbox', n.deadGroup as string, 2));
  await kill9(await holder('store', n.deadStore as string, 2));
  await kill9(await holder('barrier', n.deadBarrier as string, 2));
  await kill9(await holder('segment', n.leftSegment as string)); // a plain segment: no mark, kept
  // A creator killed between building a segment and publishing it leaves its temporary name.
  const creator = await holder('unfinished', uniqueName('cli-gc-never'));
  const tmp = readdirSync('/dev/shm').filter((f) => f.startsWith(`.interproc-tmp-${creator.pid}-`));
  expect(tmp).toHaveLength(1);
  unfinished = `/${tmp[0]}`;
  await kill9(creator);
  // The mailbox group's magic, then garbage: it says it is ours, but cannot be read.
  const garbage = randomBytes(8192);
  garbage.writeUInt32LE(layout.magic, 0);
  writeFileSync(`/dev/shm${n.damagedGroup}`, garbage, { mode: 0o600 });
  writeFileSync(`/dev/shm${foreign}`, randomBytes(4096));
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map(kill9));
  for (const x of [...names, unfinished]) if (x) SharedMemory.unlink(x);
  rmSync(`/dev/shm${foreign}`, { force: true });
  expect(leftoverShm()).toEqual([]);
});

const matchArgs = () => ['--match', `/interproc-cli-gc-${process.pid}-*`, '--match', unfinished, '--match', foreign];

describe('interproc gc', () => {
  const stale = () => [n.deadBarrier, n.deadGroup, n.deadMutex, n.deadStore, `${n.deadStore}-store`, unfinished].sort();

  it('--dry-run lists the dead objects and removes nothing', async () => {
    const r = await cliJson(['gc', '--dry-run', ...matchArgs()]);
    expect(r.dryRun).toBe(true);
    expect(r.removed.map((o: any) => o.name).sort()).toEqual(stale());
    for (const nm of stale()) expect(exists(nm as string), nm).toBe(true);
    const kept = new Map(r.kept.map((k: any) => [k.name, k.reason]));
    expect(kept.get(n.liveMutex)).toMatch(/in use by/);
    expect(kept.get(n.leftSegment)).toMatch(/not identified/);
    expect(kept.get(foreign)).toMatch(/not identified/);
    expect(kept.get(n.damagedGroup)).toMatch(/damaged/);
  });

  it('removes exactly the dead ones and keeps the live one, a plain segment, a foreign file and a damaged one', async () => {
    const r = await cliJson(['gc', ...matchArgs()]);
    expect(r.dryRun).toBe(false);
    expect(r.failed).toEqual([]);
    expect(r.removed.map((o: any) => o.name).sort()).toEqual(stale());
    for (const nm of stale()) expect(exists(nm as string), nm).toBe(false);
    for (const nm of [n.liveMutex, n.leftSegment, foreign, n.damagedGroup]) expect(exists(nm as string), nm).toBe(true);
    // and a second sweep finds nothing more
    const again = await cliJson(['gc', ...matchArgs()]);
    expect(again.removed).toEqual([]);
  });

  it('removes the live one once its holder is killed', async () => {
    await kill9(children[0] as ChildProcess);
    const r = await cliJson(['gc', '--match', n.liveMutex as string]);
    expect(r.removed.map((o: any) => o.name)).toEqual([n.liveMutex]);
    expect(exists(n.liveMutex as string)).toBe(false);
  });
});
