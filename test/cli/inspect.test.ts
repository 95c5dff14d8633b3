// `interproc inspect NAME`: a mailbox group's members (pid, state) and each ring's fill, a lock's
// holder, a barrier's parties, a semaphore's holders, a store's owners, a process group's area;
// read-only: inspecting changes no byte of the object.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib';
import { SharedArea } from '../../lib/group/shared-area';
import { cli, cliJson, holder, kill9 } from '../helpers/cli';
import { leftoverShm, uniqueName } from '../helpers/util';

const children: ChildProcess[] = [];
const names: string[] = [];
const n = {} as Record<string, string>;
const pid = {} as Record<string, number>;

async function hold(key: string, kind: string, nm: string, arg?: number): Promise<void> {
  const c = await holder(kind, nm, arg);
  children.push(c);
  pid[key] = c.pid as number;
}

function bytesOf(nm: string): Buffer {
  const shm = SharedMemory.open(nm, { readonly: true });
  const copy = Buffer.from(new Uint8Array(shm.buffer).slice());
  shm.close();
  return copy;
}

beforeAll(async () => {
  for (const k of ['mailbox', 'mutex', 'barrier', 'semaphore', 'rwlock', 'store']) {
    n[k] = uniqueName('cli-inspect');
    names.push(n[k] as string);
  }
  names.push(`${n.store}-store`);
  await hold('member0', 'mailbox', n.mailbox as string, 3);
  await hold('member2', 'join', n.mailbox as string, 2);
  await hold('mutex', 'mutex', n.mutex as string);
  await hold('barrier', 'barrier', n.barrier as string, 3);
  await hold('semaphore', 'semaphore', n.semaphore as string);
  await hold('rwlock', 'rwlock', n.rwlock as string);
  await hold('store', 'store', n.store as string, 2);
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map(kill9));
  for (const x of names) SharedMemory.unlink(x);
  expect(leftoverShm()).toEqual([]);
});

describe('interproc inspect', () => {
  it("shows a mailbox group's members with their pids and each ring's fill, and changes nothing", async () => {
    const before = bytesOf(n.mailbox as string);
    const o = await cliJson(['inspect', n.mailbox as string]);
    expect(bytesOf(n.mailbox as string).equals(before)).toBe(true);
    expect(o.kind).toBe('mailbox-group');
    expect(o.detail.members).toBe(3);
    expect(o.detail.slots.map((s: any) => [s.id, s.pid, s.state])).toEqual([
      [0, pid.member0, 'alive'],
      [1, null, 'free'],
      [2, pid.member2, 'alive'],
    ]);
    expect(o.detail.rings).toHaveLength(6);
    const ring = (from: number, to: number) => o.detail.rings.find((r: any) => r.from === from && r.to === to);
    // 100 bytes sent from member 0 to member 1: an 8-byte header and the payload padded to 8
    expect(ring(0, 1)).toMatchObject({ bytes: 112, capacity: 4096, intact: true });
    expect(ring(0, 2).bytes).toBe(0);
    expect(ring(2, 0).bytes).toBe(0);

    const text = await cli(['inspect', n.mailbox as string]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`\\b0 +${pid.member0} +alive`));
    expect(text.stdout).toMatch(new RegExp(`\\b2 +${pid.member2} +alive`));
    expect(text.stdout).toMatch(/\b0 +1 +2\.7% +112\/4096/);
  });

  it('shows a member killed with SIGKILL as dead, and the other as alive', async () => {
    await kill9(children.find((c) => c.pid === pid.member2) as ChildProcess);
    const o = await cliJson(['inspect', n.mailbox as string]);
    expect(o.detail.slots[2]).toMatchObject({ pid: pid.member2, state: 'dead' });
    expect(o.users).toBe('alive');
    expect(o.pids).toEqual([pid.member0]);
  });

  it("shows a mutex's holder, a barrier's party, a semaphore's and an rwlock's holders", async () => {
    const m = await cliJson(['inspect', n.mutex as string]);
    expect(m.detail.lock).toMatchObject({ tid: pid.mutex, ownerDied: false });
    expect(m.recorded).toEqual([{ role: 'holder', pid: pid.mutex, tid: pid.mutex, alive: true }]);
    expect((await cli(['inspect', n.mutex as string])).stdout).toContain(
      `holder: thread ${pid.mutex} (process ${pid.mutex}, alive)`,
    );

    const b = await cliJson(['inspect', n.barrier as string]);
    expect(b.detail).toMatchObject({ parties: 3, arrived: 1, broken: false });
    expect(b.recorded).toEqual([{ role: 'party 0', pid: pid.barrier, tid: pid.barrier, alive: true }]);

    const s = await cliJson(['inspect', n.semaphore as string]);
    expect(s.detail).toMatchObject({ value: 1, robust: true });
    expect(s.recorded).toEqual([{ role: 'holder', pid: pid.semaphore, tid: pid.semaphore, alive: true }]);

    const r = await cliJson(['inspect', n.rwlock as string]);
    expect(r.recorded).toEqual([{ role: 'reader', pid: pid.rwlock, tid: pid.rwlock, alive: true }]);
    expect(r.detail.writer.tid).toBe(0);
  });

  it("shows a store's layout and its owners, member by member", async () => {
    const o = await cliJson(['inspect', `${n.store}-store`]);
    expect(o.kind).toBe('store');
    expect(o.detail).toMatchObject({ store: n.store, members: 2, size: 65536, blockSize: 4096, blocks: 16, ownership: 'cyclic' });
    expect(o.detail.owners).toEqual([
      { member: 0, pid: pid.store, state: 'alive', blocks: { first: 0, stride: 2, count: 8 } },
      { member: 1, pid: null, state: 'free', blocks: { first: 1, stride: 2, count: 8 } },
    ]);
    expect(o.users).toBe('alive');
    expect(o.pids).toEqual([pid.store]);
  });

  it("shows a process group's shared area and who maps it", async () => {
    const nm = uniqueName('cli-inspect');
    const failure = new AbortController();
    const area = SharedArea.attach(nm, 2, 0, 16384, 4096, {
      poll: false,
      oversubscribed: false,
      spin: 0,
      failure: () => undefined,
      signal: failure.signal,
    });
    try {
      const o = await cliJson(['inspect', nm]);
      expect(o).toMatchObject({ kind: 'group-area', users: 'alive', mappedBy: [process.pid] });
      expect(o.detail).toMatchObject({ size: 2, smallBytes: 16384, largeBytes: 4096 });
    } finally {
      area.close();
      SharedMemory.unlink(nm);
    }
  });

  it('exits 1 for a name that is not there', async () => {
    const r = await cli(['inspect', uniqueName('cli-inspect-none')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no such object/);
  });
});
