// Sync waits (receiveSync, sendSync) and the death of the peer they wait on. With the eventfd doorbell
// a sync wait sleeps on the eventfd and on that peer's pidfd at once (raising its sleep flag as
// EVENTFD), so a SIGKILL ends it at once. The waiting children run with the liveness re-check made
// huge (INTERPROC_MAILBOX_LIVENESS_MS) and no timeout: a wait that only the re-check could end would
// still be asleep when the test times out. Either the peer's death word or its pidfd alone ends it.
// The control cases (the futex doorbell, neither pidfds nor death words) find the
// death only when their timeout ends the sleep, or with the default re-check. Also: a receive from
// any member is not ended by an unrelated death and does not spin; a slot taken over during the
// sleep is watched anew; a peer that cannot ring the eventfd still gets through (and the waits go back
// to the futex); worker.terminate() still ends a sync wait in a worker thread.
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MailboxGroup } from '../../lib';
import { AWAKE, EVENTFD, FUTEX, layout } from '../../lib/mailbox/ring';
import { exited, nextMessage, sleep } from '../helpers/util';
import { mailboxTestbed, ringAt } from './setup';

const { name, child, keep } = mailboxTestbed();

const RING = 4096;
/** Ten minutes between liveness re-checks: longer than any test here may take. */
const HUGE = { INTERPROC_MAILBOX_LIVENESS_MS: '600000' };

interface Outcome {
  result: { code?: string; member?: number; from?: number; data?: string; sent?: boolean };
  ms: number;
  cpuMs: number;
}

/** Reads a sleep flag of ring (from → to) of group `g` (`side` 'consumer': the receiver's; 'producer': the sender's). */
function sleepFlag(g: MailboxGroup, from: number, to: number, side: 'consumer' | 'producer'): () => number {
  const { u32 } = MailboxGroup.segmentOf(g);
  const at = ringAt(g.members, RING, from, to) + (side === 'consumer' ? layout.ringConsumerSleep : layout.ringProducerSleep);
  return () => Atomics.load(u32, at >> 2);
}

/** Resolves with the flag's value once it is raised (the child is asleep, or just about to be). */
async function raised(flag: () => number): Promise<number> {
  for (let i = 0; i < 2000 && flag() === AWAKE; i++) await sleep(5);
  await sleep(50); // the flag is raised just before the re-check and the sleep
  return flag();
}

/** A child holding member `id` until it is killed (it sends nothing); its pid. */
async function holder(n: string, id: number): Promise<{ c: ChildProcess; pid: number }> {
  const c = child({ role: 'stream', name: n, id, to: 0, count: 0, seed: 0, stay: true });
  const { pid } = await nextMessage<{ pid: number }>(c, (m) => m.joined !== undefined);
  return { c, pid };
}

function waiter(args: Record<string, unknown>): ChildProcess {
  return child({ role: 'syncWait', env: HUGE, ...args });
}

describe('a sync wait whose peer is SIGKILLed', () => {
  for (const op of ['receive', 'send'] as const) {
    it(`${op}Sync ends with ERR_MAILBOX_PEER_DEAD though no liveness re-check comes (it slept on the peer's pidfd)`, async () => {
      const n = name('syncdeath');
      const g = keep(MailboxGroup.create(n, { members: 3, ringSize: RING }));
      const victim = await holder(n, 1);
      const w = waiter({ name: n, id: 2, peer: 1, op });
      await nextMessage(w, (m) => m.waiting === 0);
      const flag = op === 'receive' ? sleepFlag(g, 1, 2, 'consumer') : sleepFlag(g, 2, 1, 'producer');
      expect(await raised(flag)).toBe(EVENTFD);
      victim.c.kill('SIGKILL');
      const r = await nextMessage<Outcome>(w, (m) => m.result !== undefined);
      expect(r.result).toEqual({ code: 'ERR_MAILBOX_PEER_DEAD', member: 1 });
      expect((await exited(victim.c)).signal).toBe('SIGKILL');
    });
  }

  for (const [label, env] of [
    ['the death word alone (pidfds forced off)', { INTERPROC_PIDFD: '0' }],
    ['the pidfd alone (death words forced off)', { INTERPROC_DEATH_WORD: '0' }],
  ] as const) {
    it(`receiveSync ends with ERR_MAILBOX_PEER_DEAD through ${label}, no re-check coming`, async () => {
      const n = name('syncdeath-one');
      const g = keep(MailboxGroup.create(n, { members: 3, ringSize: RING }));
      const victim = await holder(n, 1);
      const w = waiter({ name: n, id: 2, peer: 1, op: 'receive', env: { ...HUGE, ...env } });
      await nextMessage(w, (m) => m.waiting === 0);
      expect(await raised(sleepFlag(g, 1, 2, 'consumer'))).toBe(EVENTFD);
      victim.c.kill('SIGKILL');
      const r = await nextMessage<Outcome>(w, (m) => m.result !== undefined);
      expect(r.result).toEqual({ code: 'ERR_MAILBOX_PEER_DEAD', member: 1 });
    });
  }

  // The control cases: the wait sleeps on the futex bell, and a death is found by the re-check alone.
  for (const [label, doorbell, env] of [
    ["the 'futex' doorbell", 'futex', {}],
    ['pidfds and death words forced off', 'eventfd', { INTERPROC_PIDFD: '0', INTERPROC_DEATH_WORD: '0' }],
  ] as const) {
    it(`with ${label}, sleeps on the futex: finds the death only at its timeout when the re-check is made huge, at once with the default one`, async () => {
      const n = name('syncdeath-futex');
      const g = keep(MailboxGroup.create(n, { members: 4, ringSize: RING }));
      const victim = await holder(n, 1);
      const slow = waiter({ name: n, id: 2, peer: 1, op: 'receive', timeout: 1500, doorbell, env: { ...HUGE, ...env } });
      const quick = waiter({ name: n, id: 3, peer: 1, op: 'receive', timeout: 20_000, doorbell, env });
      await Promise.all([nextMessage(slow, (m) => m.waiting === 0), nextMessage(quick, (m) => m.waiting === 0)]);
      expect(await raised(sleepFlag(g, 1, 2, 'consumer'))).toBe(FUTEX);
      expect(await raised(sleepFlag(g, 1, 3, 'consumer'))).toBe(FUTEX);
      victim.c.kill('SIGKILL');
      const [s, q] = await Promise.all([
        nextMessage<Outcome>(slow, (m) => m.result !== undefined),
        nextMessage<Outcome>(quick, (m) => m.result !== undefined),
      ]);
      // The slot is read once more when the timeout ends the last slice: that, not the kill, ended it.
      expect(s.result).toEqual({ code: 'ERR_MAILBOX_PEER_DEAD', member: 1 });
      expect(s.ms).toBeGreaterThanOrEqual(1400);
      expect(q.result).toEqual({ code: 'ERR_MAILBOX_PEER_DEAD', member: 1 });
    });
  }
});

describe('sync waits that a death does not end', () => {
  it('a receive from any member keeps waiting through an unrelated death, without spinning, and gets the live member’s message', async () => {
    const n = name('syncdeath-any');
    const g = keep(MailboxGroup.create(n, { members: 3, ringSize: RING }));
    const victim = await holder(n, 1);
    const w = waiter({ name: n, id: 2, op: 'receiveAny', timeout: 20_000 });
    await nextMessage(w, (m) => m.waiting === 0);
    expect(await raised(sleepFlag(g, 0, 2, 'consumer'))).not.toBe(AWAKE);
    const t0 = performance.now();
    victim.c.kill('SIGKILL');
    await exited(victim.c);
    await sleep(500);
    const window = performance.now() - t0;
    g.sendSync(2, 'from the live one');
    const r = await nextMessage<Outcome>(w, (m) => m.result !== undefined);
    expect(r.result).toEqual({ from: 0, data: 'from the live one' });
    // Asleep all along: a wait that spun after the death would have used most of that window's CPU time.
    expect(r.cpuMs).toBeLessThan(window / 4);
  });

  it('a receive from a member whose slot a new process takes during the sleep waits on the new one (no spin) and gets its message', async () => {
    const n = name('syncdeath-rejoin');
    const g = keep(MailboxGroup.create(n, { members: 3, ringSize: RING }));
    const victim = await holder(n, 1);
    const w = waiter({ name: n, id: 2, peer: 1, op: 'receive' });
    await nextMessage(w, (m) => m.waiting === 0);
    expect(await raised(sleepFlag(g, 1, 2, 'consumer'))).toBe(EVENTFD);
    // The waiter is stopped while member 1 dies and a new process joins in its place: when it runs
    // again, the pidfd it sleeps on has fired, but the slot is alive.
    w.kill('SIGSTOP');
    victim.c.kill('SIGKILL');
    await exited(victim.c);
    const next = child({ role: 'stream', name: n, id: 1, to: 2, count: 0, seed: 0, stay: true });
    await nextMessage(next, (m) => m.joined === 1);
    const t0 = performance.now();
    w.kill('SIGCONT');
    await sleep(1000);
    const window = performance.now() - t0;
    next.kill('SIGKILL');
    const r = await nextMessage<Outcome>(w, (m) => m.result !== undefined);
    // Slept on the new holder's pidfd: its death ended the wait (the re-check is ten minutes away).
    expect(r.result).toEqual({ code: 'ERR_MAILBOX_PEER_DEAD', member: 1 });
    // And slept: a wait woken again and again by the old pidfd would have used most of the window's CPU time.
    expect(r.cpuMs).toBeLessThan(window / 4);
  });
});

describe('sync waits and doorbells', () => {
  it('a peer that cannot ring the eventfd still wakes the wait (at its next re-check), and later sync waits sleep on the futex', async () => {
    const n = name('syncdeath-noring');
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: RING }));
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const w = child({ role: 'syncWait', name: n, id: 1, peer: 0, op: 'receive', timeout: 20_000, count: 6 });
      const flag = sleepFlag(g, 0, 1, 'consumer');
      await nextMessage(w, (m) => m.waiting === 0);
      // The slot's eventfd number (the child has joined), rewritten to stdin's (a pipe): this process
      // cannot fetch it, so its wake-ups of member 1 only bump the bell (as with pidfd_getfd refused).
      const { u32 } = MailboxGroup.segmentOf(g);
      Atomics.store(u32, (layout.groupHeaderSize + layout.memberSlotSize + layout.slotEventfd) >> 2, 0);
      const kinds: number[] = [];
      for (let i = 0; i < 6; i++) {
        if (i > 0) await nextMessage(w, (m) => m.waiting === i);
        kinds.push(await raised(flag));
        // Every message gets through, rung or not. (A wake-up that lands before the waiter is in its
        // sleep ends it at once, through the bell: only one during the sleep shows the lost ring.)
        g.sendSync(1, `m${i}`);
        expect((await nextMessage<Outcome>(w, (m) => m.result !== undefined)).result).toEqual({ from: 0, data: `m${i}` });
        if (kinds[i] === FUTEX) break;
      }
      // Sleeps on the eventfd until a wake-up that moved the bell but did not ring it; then on the futex.
      expect(kinds[0]).toBe(EVENTFD);
      expect(kinds.at(-1)).toBe(FUTEX);
      expect(warnings.some((m) => m.includes('cannot reach the eventfd doorbell of mailbox member 1'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  for (const op of ['receive', 'send'] as const) {
    for (const doorbell of ['eventfd', 'futex'] as const) {
      it(`worker.terminate() ends a worker blocked in ${op}Sync (${doorbell} doorbell)`, async () => {
        const n = name('syncdeath-worker');
        const g = keep(MailboxGroup.create(n, { members: 2, ringSize: RING }));
        // With the re-check ten minutes away, only the native sleep's own slices can see the termination.
        const c = child({ role: 'workerSync', name: n, id: 1, peer: 0, op, doorbell, env: HUGE });
        await nextMessage(c, (m) => m.blocking);
        const flag = op === 'receive' ? sleepFlag(g, 0, 1, 'consumer') : sleepFlag(g, 1, 0, 'producer');
        expect(await raised(flag)).toBe(doorbell === 'eventfd' ? EVENTFD : FUTEX);
        c.send('terminate');
        expect(await nextMessage(c, (m) => m.outcome !== undefined)).toEqual({ outcome: 'terminated' });
        // The terminated thread's environment left its slot.
        for (let i = 0; i < 200 && g.memberInfo(1).state !== 'left'; i++) await sleep(10);
        expect(g.memberInfo(1).state).toBe('left');
      });
    }
  }
});
