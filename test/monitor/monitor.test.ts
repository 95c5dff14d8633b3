// Monitors and links between separate processes: one 'down' per death, for exit, throw and
// SIGKILL, for a child and for a process that is not one, for mailbox members and channels; the
// fallback (no pidfds) forced; links reject the operations they guard with an error naming the dead.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, Link, link, listen, MailboxGroup, Monitor, monitor, type DownInfo } from '../../dist';
import { Worker } from 'node:worker_threads';
import { exited, forkFixture, killAll, leftoverShm, nextMessage, sleep, uniqueName } from '../helpers/util';
import { layout } from '../../dist/mailbox/ring';

const children: ChildProcess[] = [];
afterEach(() => killAll(children));

async function start(args: string[]): Promise<{ child: ChildProcess; pid: number; member?: number }> {
  const child = forkFixture('monitor/ender.cjs', args);
  children.push(child);
  const m = await nextMessage<{ pid: number; member?: number }>(child, (x) => x.ready);
  return { child, ...m };
}

/** Counts 'down' events for a while after the first: a monitor fires exactly once. */
async function downsOf(m: ReturnType<typeof monitor>): Promise<{ info: DownInfo; count: number }> {
  let count = 0;
  m.on('down', () => count++);
  const info = await m.down;
  await sleep(50);
  return { info, count };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('monitor(pid): one down event per death, with what the kernel tells', () => {
  it('an exit gives its code', async () => {
    const { child, pid } = await start(['wait', '3']);
    const m = monitor(pid);
    child.send({ go: 'exit' });
    const { info, count } = await downsOf(m);
    expect(count).toBe(1);
    expect(info).toMatchObject({ reason: 'exited', pid, code: 3, signal: null, via: 'pidfd' });
    expect(info.description).toBe(`pid ${pid} exited with code 3`);
    expect(m.active).toBe(false);
  });

  it('a throw (uncaught) gives code 1', async () => {
    const { child, pid } = await start(['wait']);
    const m = monitor(pid);
    child.send({ go: 'throw' });
    const { info, count } = await downsOf(m);
    expect(count).toBe(1);
    expect(info).toMatchObject({ reason: 'exited', code: 1 });
  });

  it('SIGKILL gives the signal, and Node still sees the exit of its child', async () => {
    const { child, pid } = await start(['wait']);
    const m = monitor(pid);
    const gone = exited(child);
    child.kill('SIGKILL');
    const { info, count } = await downsOf(m);
    expect(count).toBe(1);
    expect(info).toMatchObject({ reason: 'killed', code: null, signal: 'SIGKILL', via: 'pidfd' });
    expect((await gone).signal).toBe('SIGKILL'); // WNOWAIT left the reaping to child_process
  });

  it('a ChildProcess as the target', async () => {
    const { child } = await start(['wait']);
    const m = monitor(child);
    child.kill('SIGTERM');
    const { info, count } = await downsOf(m);
    expect(count).toBe(1);
    expect(info).toMatchObject({ reason: 'killed', signal: 'SIGTERM', pid: child.pid });
  });

  it('a process that is not a child: its end is reported, its status plainly unknown', async () => {
    const { pid } = await start(['orphan']);
    expect(isAlive(pid)).toBe(true);
    const m = monitor(pid);
    try {
      process.kill(pid, 'SIGKILL');
      const { info, count } = await downsOf(m);
      expect(count).toBe(1);
      expect(info).toMatchObject({ reason: 'ended', pid, code: null, signal: null, via: 'pidfd' });
      expect(info.description).toContain('known only to its parent');
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a pid that runs no process: noproc at once', async () => {
    const { child, pid } = await start(['wait']);
    child.kill('SIGKILL');
    await exited(child); // reaped: the pid names nobody now
    const { info } = await downsOf(monitor(pid));
    expect(info.reason).toBe('noproc');
  });

  it('demonitor(): no event', async () => {
    const { child, pid } = await start(['wait']);
    const m = monitor(pid);
    let fired = false;
    m.on('down', () => (fired = true));
    m.demonitor();
    child.kill('SIGKILL');
    await exited(child);
    await sleep(50);
    expect(fired).toBe(false);
  });

  it('without pidfds (forced), the liveness fallback reports the death once', async () => {
    const saved = process.env.INTERPROC_PIDFD;
    process.env.INTERPROC_PIDFD = '0';
    try {
      const { child, pid } = await start(['wait']);
      const m = monitor(pid);
      child.kill('SIGKILL');
      const { info, count } = await downsOf(m);
      expect(count).toBe(1);
      expect(info).toMatchObject({ reason: 'ended', pid, via: 'liveness' });
    } finally {
      if (saved === undefined) delete process.env.INTERPROC_PIDFD;
      else process.env.INTERPROC_PIDFD = saved;
    }
  });
});

describe('monitor({ group, member }) and monitor(channel)', () => {
  it('a SIGKILLed mailbox member', async () => {
    const name = uniqueName('monitor');
    const g = MailboxGroup.create(name, { members: 3 });
    try {
      const { child, pid, member } = await start(['member', name]);
      const m = monitor({ group: g, member: member as number });
      const byPid = monitor(pid); // the same death through the pidfd: with the status, a child's
      child.kill('SIGKILL');
      const { info, count } = await downsOf(m);
      expect(count).toBe(1);
      // The member's death word: marked as the exit began, before the status exists.
      expect(info).toMatchObject({ reason: 'ended', pid, member, signal: null, via: 'death-word' });
      expect(info.description).toContain(`mailbox member ${member}`);
      expect(await byPid.down).toMatchObject({ reason: 'killed', pid, signal: 'SIGKILL', via: 'pidfd' });
      // A slot nobody holds: noproc.
      expect((await monitor({ group: g, member: 2 }).down).reason).toBe('noproc');
    } finally {
      g.close();
      MailboxGroup.unlink(name);
    }
    expect(leftoverShm()).toEqual([]);
  });

  it('a member whose death word a peer rewrites (no owner-dead mark): no false down, the pidfd still tells', async () => {
    const name = uniqueName('monitor');
    const g = MailboxGroup.create(name, { members: 3 });
    try {
      const { child, pid, member } = await start(['member', name]);
      const m = monitor({ group: g, member: member as number });
      const seg = (MailboxGroup as unknown as { segmentOf(g: MailboxGroup): any }).segmentOf(g);
      const at = (layout.groupHeaderSize + (member as number) * layout.memberSlotSize + layout.slotDeath) >> 2;
      expect(seg.deathHolder(member as number)).not.toBe(0); // the child's thread holds it
      Atomics.store(seg.u32, at, 12345); // a scribbler: another "holder", no mark
      await sleep(200);
      expect(m.active).toBe(true);
      child.kill('SIGKILL');
      const { info, count } = await downsOf(m);
      expect(count).toBe(1);
      expect(info).toMatchObject({ reason: 'killed', pid, member, signal: 'SIGKILL', via: 'pidfd' });
    } finally {
      g.close();
      MailboxGroup.unlink(name);
    }
  });

  it('with death words forced off, a member is told by its pidfd, with the status', async () => {
    const name = uniqueName('monitor');
    const g = MailboxGroup.create(name, { members: 3 });
    const saved = process.env.INTERPROC_DEATH_WORD;
    process.env.INTERPROC_DEATH_WORD = '0';
    try {
      const { child, pid, member } = await start(['member', name]);
      const m = monitor({ group: g, member: member as number });
      child.kill('SIGKILL');
      expect((await downsOf(m)).info).toMatchObject({ reason: 'killed', pid, member, signal: 'SIGKILL', via: 'pidfd' });
    } finally {
      if (saved === undefined) delete process.env.INTERPROC_DEATH_WORD;
      else process.env.INTERPROC_DEATH_WORD = saved;
      g.close();
      MailboxGroup.unlink(name);
    }
  });

  it('a channel: its close is the down event (any host)', async () => {
    const where = path.join(os.tmpdir(), `interproc-monitor-${process.pid}.sock`);
    const server = await listen({ path: where });
    try {
      const accepted = new Promise<import('../../dist').Channel>((r) => server.once('connection', r));
      const ch = await connect({ path: where });
      const theirs = await accepted;
      const m = monitor(ch);
      theirs.destroy();
      const { info, count } = await downsOf(m);
      expect(count).toBe(1);
      expect(info).toMatchObject({ reason: 'closed', pid: null, via: 'channel' });
    } finally {
      await server.close();
      rmSync(where, { force: true });
    }
  });
});

describe('link', () => {
  it('a death rejects every guarded operation with an error naming the dead; a monitor lets work go on', async () => {
    const a = await start(['wait']);
    const b = await start(['wait']);
    const l = link([a.pid, b.pid]);
    const watchB = monitor(b.pid);
    const never = new Promise<string>(() => {});
    const ops = [l.guard(never), l.guard((signal) => delay(60_000, 'late', { signal }))];
    a.child.kill('SIGKILL');
    for (const op of ops) {
      await expect(op).rejects.toMatchObject({ code: 'ERR_PROCESS_DOWN', pid: a.pid, signal: 'SIGKILL' });
    }
    const err = l.error;
    expect(err?.message).toContain(`pid ${a.pid} was killed by SIGKILL`);
    expect(l.signal.aborted).toBe(true);
    expect(l.signal.reason).toBe(err);
    await expect(l.guard(Promise.resolve(1))).rejects.toBe(err); // broken for good
    // The monitor of b only reports; b is still alive and work on it goes on.
    expect(watchB.active).toBe(true);
    expect(isAlive(b.pid)).toBe(true);
    watchB.demonitor();
  });

  it('{ exit: true }: the linked process fails with the one it linked to', async () => {
    const target = await start(['wait']);
    const linked = await start(['link', String(target.pid)]);
    const done = exited(linked.child);
    target.child.kill('SIGKILL');
    const r = await done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_PROCESS_DOWN');
    expect(r.stderr).toContain(`pid ${target.pid} `);
  });

  it('misuse throws at once', () => {
    expect(() => monitor('x' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => monitor(0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new (Monitor as any)(Symbol('x'), process.pid)).toThrow(TypeError);
    expect(() => new (Link as any)(Symbol('x'), [process.pid], {})).toThrow(TypeError);
  });
});

/** Open pidfds of this process. */
function pidfds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[pidfd]') n++;
    } catch {} // closed while listing
  }
  return n;
}

describe('pidfd watchers leave nothing behind', () => {
  it('demonitor, a fired monitor and a terminated worker each release their pidfd', async () => {
    const before = pidfds();
    for (let i = 0; i < 100; i++) monitor(process.pid).demonitor();
    expect(pidfds()).toBe(before);
    const { child, pid } = await start(['wait']);
    const ms = Array.from({ length: 10 }, () => monitor(pid));
    expect(pidfds()).toBe(before + 10);
    child.kill('SIGKILL');
    await Promise.all(ms.map((m) => m.down));
    expect(pidfds()).toBe(before);
    // A worker whose monitor never fires: its environment's teardown closes the handle and the fd.
    const dist = path.join(__dirname, '..', '..', 'dist');
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads'); const { monitor } = require(${JSON.stringify(dist)});
       for (let i = 0; i < 20; i++) monitor(process.pid); parentPort.postMessage('watching');`,
      { eval: true },
    );
    await new Promise((r) => w.once('message', r));
    expect(pidfds()).toBe(before + 20);
    await w.terminate();
    expect(pidfds()).toBe(before);
  });
});
