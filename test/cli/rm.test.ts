// `interproc rm NAME`: removes a named object of the library; refuses one a live process uses
// (unless --force) and, even with --force, a file that does not carry the library's mark.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib';
import { cli, cliJson, holder, kill9 } from '../helpers/cli';
import { leftoverShm, uniqueName } from '../helpers/util';

const children: ChildProcess[] = [];
const names: string[] = [];
const foreign = `/not-ours-${process.pid}-rm`;
const exists = (nm: string) => existsSync(`/dev/shm${nm}`);

function name(): string {
  const nm = uniqueName('cli-rm');
  names.push(nm);
  return nm;
}

afterAll(async () => {
  await Promise.all(children.map(kill9));
  for (const x of names) SharedMemory.unlink(x);
  rmSync(`/dev/shm${foreign}`, { force: true });
  expect(leftoverShm()).toEqual([]);
});

describe('interproc rm', () => {
  it('removes an object whose holder is dead, by name with or without its /', async () => {
    const a = name();
    const b = name();
    await kill9(await holder('mutex', a));
    await kill9(await holder('mailbox', b, 2));
    const r = await cliJson(['rm', a, b.slice(1)]);
    expect(r).toEqual({ removed: [a, b], refused: [] });
    expect(exists(a)).toBe(false);
    expect(exists(b)).toBe(false);
  });

  it('refuses an object a live process uses, and removes it with --force (its holder keeps its mapping)', async () => {
    const a = name();
    children.push(await holder('mutex', a));
    const r = await cli(['rm', a]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`interproc rm: ${a}: in use by ${children[0]!.pid}`);
    expect(exists(a)).toBe(true);
    const forced = await cli(['rm', '--force', a]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(`removed ${a}\n`);
    expect(exists(a)).toBe(false);
    expect(children[0]!.exitCode).toBeNull();
  });

  it("refuses, even with --force, a file that does not carry the library's mark", async () => {
    writeFileSync(`/dev/shm${foreign}`, randomBytes(512));
    const r = await cli(['rm', '--force', foreign]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not carry the library's mark/);
    expect(exists(foreign)).toBe(true);
  });

  it('exits 1 for a name that is not there, and removes the others given', async () => {
    const a = name();
    await kill9(await holder('barrier', a, 2));
    const missing = uniqueName('cli-rm-missing');
    const r = await cli(['rm', '--json', missing, a]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ removed: [a], refused: [{ name: missing, reason: 'no such object in /dev/shm' }] });
  });
});
