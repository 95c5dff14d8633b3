// The eventfd doorbell of async mailbox receivers: edge-triggered (never read) when the switch
// takes, level-triggered (reset natively on each wake-up) when it does not or is turned off.
// Between two real processes, thousands of round trips in which both sides sleep every time.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Mailbox, SharedMemory } from '../../lib';
import { native } from '../../lib/internal/binding';
import { kDoorbellMode } from '../../lib/mailbox/doorbell';
import { forkFixture, killAll, leftoverShm, nextMessage, uniqueName } from '../helpers/util';

const ROUND_TRIPS = 20000;
const made: string[] = [];
const children: ChildProcess[] = [];
const open: Mailbox[] = [];

afterEach(async () => {
  delete process.env.INTERPROC_EDGE_DOORBELL;
  await killAll(children);
  for (const mb of open.splice(0)) mb.close();
  for (const n of made.splice(0)) SharedMemory.unlink(n);
});
afterAll(() => {
  expect(leftoverShm()).toEqual([]);
});

/** ROUND_TRIPS async round trips with an echo child; returns both sides' doorbell modes and the child's read(2) count. */
async function roundTrips(edge: boolean) {
  const n = uniqueName('bell');
  made.push(n);
  if (!edge) process.env.INTERPROC_EDGE_DOORBELL = '0'; // read when this side first sleeps
  const mb = Mailbox.create(n, { ringSize: 4096 });
  open.push(mb);
  expect(mb[kDoorbellMode]).toBe('none');
  const env = { ...process.env, INTERPROC_EDGE_DOORBELL: edge ? '1' : '0' };
  const c = forkFixture('mailbox/doorbell-child.cjs', [JSON.stringify({ name: n, count: ROUND_TRIPS })], { env });
  children.push(c);
  await nextMessage(c, (m) => m.joined !== undefined);
  const done = nextMessage<{ mode: string; reads: number }>(c, (m) => m.done);
  const msg = Buffer.alloc(64);
  for (let i = 0; i < ROUND_TRIPS; i++) {
    msg.writeUInt32LE(i, 0);
    await mb.send(msg);
    const back = await mb.receive({ timeout: 20000 });
    if (back.readUInt32LE(0) !== i) throw new Error(`round trip ${i} came back as ${back.readUInt32LE(0)}`);
  }
  const child = await done;
  return { parent: mb[kDoorbellMode], child: child.mode, childReads: child.reads };
}

describe('eventfd doorbell', () => {
  it(`is edge-triggered on both sides and never read during ${ROUND_TRIPS} async round trips between two processes`, async () => {
    const r = await roundTrips(true);
    expect(r.parent).toBe('edge');
    expect(r.child).toBe('edge');
    // Every round trip wakes the child from its event loop; none of those wake-ups reads the
    // eventfd (the only reads left are the /proc/self/io reads of the measurement itself).
    expect(r.childReads).toBeLessThan(ROUND_TRIPS / 100);
  }, 120_000);

  it('falls back to level-triggered (reset on each wake-up) and still completes every round trip', async () => {
    const r = await roundTrips(false);
    expect(r.parent).toBe('level');
    expect(r.child).toBe('level');
    // Level-triggered, each wake-up has to reset the counter: the child reads on (nearly) every one.
    expect(r.childReads).toBeGreaterThan(ROUND_TRIPS / 4);
  }, 120_000);
});

describe('FdWatcher doorbell mode (this process)', () => {
  /** Resolves on the watcher's next callback. */
  function woken(state: { wake?: () => void }): Promise<void> {
    return new Promise((r) => (state.wake = r));
  }

  it('switches to edge-triggered on the first wake-up, again after a restart, and keeps waking on every ring', async () => {
    const efd = native.doorbellCreate();
    const state: { wake?: () => void; calls: number; args: number[] } = { calls: 0, args: [] };
    const w = new native.FdWatcher(
      efd,
      (...args: number[]) => {
        state.calls++;
        state.args = args;
        state.wake?.();
      },
      { eventfd: true, edgeTriggered: true },
    );
    try {
      w.start(1);
      expect(w.edgeTriggered()).toBe(false); // libuv has not registered the fd yet
      for (let round = 0; round < 2; round++) {
        let next = woken(state);
        native.doorbellRing(efd);
        await next;
        expect(w.edgeTriggered()).toBe(true);
        expect(state.args).toEqual([]); // doorbell mode: no (status, events) on success
        for (let i = 0; i < 200; i++) {
          next = woken(state);
          native.doorbellRing(efd); // never read by anyone: each ring is still one wake-up
          await next;
        }
        const calls = state.calls;
        await new Promise((r) => setTimeout(r, 20));
        expect(state.calls).toBe(calls); // no ring, no wake-up: the loop does not spin
        w.stop();
        expect(w.edgeTriggered()).toBe(false);
        w.start(1); // re-added level-triggered by libuv: the next wake-up switches again
        expect(w.edgeTriggered()).toBe(false);
      }
    } finally {
      w.close();
      native.doorbellClose(efd);
    }
    expect(w.edgeTriggered()).toBe(false);
  });

  it('level-triggered, resets the counter natively: one wake-up per ring, no spinning', async () => {
    const efd = native.doorbellCreate();
    const state: { wake?: () => void; calls: number } = { calls: 0 };
    const w = new native.FdWatcher(
      efd,
      () => {
        state.calls++;
        state.wake?.();
      },
      { eventfd: true },
    );
    try {
      w.start(1);
      for (let i = 0; i < 200; i++) {
        const next = woken(state);
        native.doorbellRing(efd);
        await next;
      }
      expect(w.edgeTriggered()).toBe(false);
      const calls = state.calls;
      await new Promise((r) => setTimeout(r, 20));
      expect(state.calls).toBe(calls);
      expect(native.doorbellDrain(efd)).toBe(false); // already reset before each callback
    } finally {
      w.close();
      native.doorbellClose(efd);
    }
  });

  it('refuses doorbell mode for what is not an eventfd, and edgeTriggered without it', () => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      expect(() => new native.FdWatcher(fd, () => {}, { eventfd: true })).toThrow(/not an eventfd/);
      expect(() => new native.FdWatcher(fd, () => {}, { eventfd: true })).toThrow(TypeError);
    } finally {
      fs.closeSync(fd);
    }
    const efd = native.doorbellCreate();
    try {
      expect(() => new native.FdWatcher(efd, () => {}, { edgeTriggered: true })).toThrow(TypeError);
      expect(() => new native.FdWatcher(efd, () => {}, 5 as never)).toThrow(TypeError);
    } finally {
      native.doorbellClose(efd);
    }
  });
});
