// `interproc ls`: every kind the library makes, held by live processes, is listed with its kind,
// size, mode, owner and live users; after a SIGKILL its users read 'dead'. A file the library did
// not make (random bytes) and a plain segment are 'unknown'. Unix socket files of a folder: one a
// live server listens on, one whose server was killed.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib';
import { cli, cliJson, holder, kill9 } from '../helpers/cli';
import { leftoverShm, uniqueName } from '../helpers/util';

const children: ChildProcess[] = [];
const names: string[] = [];
const foreign = `/dev/shm/not-ours-${process.pid}-ls`;
const match = ['--match', `/interproc-cli-ls-${process.pid}-*`];
let sockets: string;

function name(): string {
  const n = uniqueName('cli-ls');
  names.push(n);
  return n;
}

async function hold(kind: string, n: string, arg?: number | string): Promise<ChildProcess> {
  const c = await holder(kind, n, arg);
  children.push(c);
  return c;
}

const n = {} as Record<string, string>;
const pid = {} as Record<string, number>;

beforeAll(async () => {
  for (const k of ['mailbox', 'mutex', 'barrier', 'semaphore', 'rwlock', 'store', 'segment']) n[k] = name();
  names.push(`${n.store}-store`);
  for (const [k, arg] of [['mailbox', 3], ['mutex'], ['barrier', 2], ['semaphore'], ['rwlock'], ['store', 2], ['segment']] as [
    string,
    number?,
  ][]) {
    pid[k] = (await hold(k, n[k] as string, arg)).pid as number;
  }
  pid.member2 = (await hold('join', n.mailbox as string, 2)).pid as number;
  writeFileSync(foreign, randomBytes(4096));
  sockets = mkdtempSync(path.join(os.tmpdir(), 'interproc-cli-ls-'));
  pid.socket = (await hold('socket', path.join(sockets, 'live.sock'))).pid as number;
  await kill9(await holder('socket', path.join(sockets, 'stale.sock'))); // leaves its file behind
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map(kill9));
  for (const x of names) SharedMemory.unlink(x);
  rmSync(foreign, { force: true });
  rmSync(sockets, { recursive: true, force: true });
  expect(leftoverShm()).toEqual([]);
});

describe('interproc ls', () => {
  it('lists each kind with its size, mode, owner, age and live users', async () => {
    const { objects } = await cliJson<{ objects: any[] }>(['ls', ...match]);
    const by = new Map(objects.map((o) => [o.name, o]));
    const expectKind: [string, string, number][] = [
      [n.mailbox as string, 'mailbox-group', pid.mailbox as number],
      [n.mutex as string, 'mutex', pid.mutex as number],
      [n.barrier as string, 'barrier', pid.barrier as number],
      [n.semaphore as string, 'semaphore', pid.semaphore as number],
      [n.rwlock as string, 'rwlock', pid.rwlock as number],
      [n.store as string, 'mailbox-group', pid.store as number],
      [`${n.store}-store`, 'store', pid.store as number],
      [n.segment as string, 'unknown', pid.segment as number],
    ];
    for (const [nm, kind, p] of expectKind) {
      const o = by.get(nm);
      expect(o, nm).toBeDefined();
      expect(o.kind, nm).toBe(kind);
      expect(o.ours, nm).toBe(kind !== 'unknown');
      expect(o.users, nm).toBe('alive');
      expect(o.pids, nm).toContain(p);
      expect(o.mode, nm).toBe(0o600);
      expect(o.uid, nm).toBe(process.getuid!());
      const shm = SharedMemory.open(nm, { readonly: true });
      expect(o.size, nm).toBe(shm.size);
      shm.close();
      expect(o.ageMs, nm).toBeGreaterThanOrEqual(0);
      expect(o.damaged, nm).toBeNull();
    }
    expect(by.get(n.mutex as string).size).toBe(64);
    // both members of the group count, from its slots and from /proc
    expect(by.get(n.mailbox as string).pids).toEqual([pid.mailbox, pid.member2].sort((a, b) => (a as number) - (b as number)));
    expect(by.get(n.mailbox as string).recorded).toEqual([
      { role: 'member 0', pid: pid.mailbox, alive: true },
      { role: 'member 2', pid: pid.member2, alive: true },
    ]);
    expect(by.get(n.mutex as string).recorded).toEqual([{ role: 'holder', pid: pid.mutex, tid: pid.mutex, alive: true }]);
    // the store's record is used by whoever uses its group
    expect(by.get(`${n.store}-store`).related).toEqual([n.store]);
    expect(objects.filter((o) => !names.includes(o.name))).toEqual([]);
  });

  it('lists a file it did not make as unknown, and --ours leaves it out', async () => {
    const all = await cliJson<{ objects: any[] }>(['ls', '--match', `/not-ours-${process.pid}-ls`]);
    expect(all.objects).toHaveLength(1);
    expect(all.objects[0]).toMatchObject({ kind: 'unknown', ours: false, users: 'none', size: 4096 });
    const ours = await cliJson<{ objects: any[] }>(['ls', '--ours', '--match', `/not-ours-${process.pid}-ls`]);
    expect(ours.objects).toEqual([]);
  });

  it('lists the socket files of a folder: bound by a live server, or left by a dead one', async () => {
    const { objects } = await cliJson<{ objects: any[] }>(['ls', sockets, '--match', '/nothing-at-all']);
    const by = new Map(objects.map((o) => [path.basename(o.name), o]));
    expect(by.get('live.sock')).toMatchObject({ kind: 'socket', ours: false, users: 'alive' });
    expect(by.get('live.sock').pids).toContain(pid.socket);
    expect(by.get('stale.sock')).toMatchObject({ kind: 'socket', users: 'none', pids: [] });
  });

  it('prints aligned columns, without colour when not a TTY', async () => {
    const r = await cli(['ls', ...match], { NO_COLOR: '' }); // colour allowed, but stdout is a pipe
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\x1b[');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +KIND +SIZE +MODE +UID +AGE +USERS +PIDS +NOTE$/);
    expect(lines).toHaveLength(1 + names.length);
    const kindAt = (lines[0] as string).indexOf('KIND');
    const usersAt = (lines[0] as string).indexOf('USERS');
    for (const l of lines.slice(1)) {
      expect(l[kindAt - 1], l).toBe(' ');
      expect(l[kindAt], l).not.toBe(' ');
      expect(l.slice(usersAt).split(' ')[0], l).toMatch(/^(alive|dead|none|unknown)$/);
    }
    expect(r.stdout).toContain(`${n.mutex} `);
  });

  it('after a SIGKILL of the holder shows its users dead', async () => {
    const c = children.find((x) => x.pid === pid.mutex) as ChildProcess;
    await kill9(c);
    const { objects } = await cliJson<{ objects: any[] }>(['ls', '--match', n.mutex as string]);
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({ kind: 'mutex', users: 'dead', pids: [], mappedBy: [] });
    expect(objects[0].recorded).toEqual([{ role: 'holder', pid: null, alive: false }]); // the kernel marked it owner-dead
    expect(existsSync(`/dev/shm${n.mutex}`)).toBe(true);
  });
});
