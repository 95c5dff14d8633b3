import { describe, expect, it } from 'vitest';
import { Condition, Mutex, OwnerDeadError } from '../../lib';
import { expectRepaired, killNow, runTask, syncScope, within } from '../helpers/sync';
import { sleep } from '../helpers/util';

const { children, segment, holder } = syncScope('cond');
const D = 64;

describe('Condition', () => {
  for (const form of ['async', 'sync'] as const) {
    it(`producer/consumer across processes (${form} consumer, async producer)`, async () => {
      const { name, shm, i32 } = segment();
      const m = Mutex.initAt(shm, 0);
      const c = Condition.initAt(shm, 64);
      const count = 300;
      const consumer = runTask({ name, task: 'consume', count, form });
      children.push(consumer);
      let expected = 0;
      for (let k = 1; k <= count; k++) {
        const g = await m.lock();
        while (i32[D + 6] !== 0) await c.wait(m, { timeout: 5000 });
        i32[D + 6] = k;
        expected += k;
        c.notifyAll();
        g.unlock();
      }
      expect(await within(consumer.done, 60_000, 'consumer')).toBe(expected);
      shm.close();
    }, 70_000);
  }

  it('a mutex holder killed while a waiter is notified: wait() rejects with OwnerDeadError holding the lock', async () => {
    const { name, shm, i32 } = segment();
    const m = Mutex.initAt(shm, 0);
    const c = Condition.initAt(shm, 64);
    m.lockSync();
    const waiting = c.wait(m, { timeout: 20_000 }).then(
      () => 'returned',
      (e) => e,
    );
    // While we wait (mutex released), another process takes the mutex and dies holding it.
    const other = await holder({ name, task: 'hold', form: 'sync' });
    c.notify(1); // our wait ends and its re-lock blocks behind the holder
    await sleep(20);
    await killNow(other);
    const err = await within(waiting, 20_000, 'wait after the holder died');
    expect(err).toBeInstanceOf(OwnerDeadError);
    expect(m.isHeld).toBe(true);
    i32[D + 2] = i32[D + 1]; // repair
    expectRepaired(err.guard, m);
    shm.close();
  });

  it('wait re-locks after timeout and abort; notify counts; misuse', async () => {
    const { shm } = segment(4096);
    const m = Mutex.initAt(shm, 0);
    const c = Condition.initAt(shm, 64);
    expect(c.notify()).toBe(0);
    const g = m.lockSync();
    const t0 = Date.now();
    expect(await c.wait(g, { timeout: 40 })).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(35);
    expect(m.isHeld).toBe(true);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    await expect(c.wait(m, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(m.isHeld).toBe(true);
    expect(c.waitSync(m, { timeout: 10 })).toBe(false);
    expect(m.isHeld).toBe(true);
    // a notify from "outside" wakes an async waiter
    const waiting = c.wait(m, { timeout: 10_000 });
    await sleep(20);
    expect(m.isHeld).toBe(false); // released while waiting
    // 1 if the waiter already sleeps; 0 if it has not reached its sleep yet (it then sees the new
    // sequence and returns at once): either way it must come back notified.
    expect([0, 1]).toContain(c.notify(1));
    expect(await within(waiting, 5000, 'notified waiter')).toBe(true);
    expect(m.isHeld).toBe(true);
    g.unlock();
    // waiting without holding the mutex is EPERM, and leaves the mutex untouched
    await expect(c.wait(m)).rejects.toMatchObject({ code: 'EPERM' });
    expect(() => c.waitSync({} as any)).toThrow(TypeError);
    expect(() => c.notify(-1)).toThrow(RangeError);
    expect(() => Condition.openAt(shm, 0)).toThrow(expect.objectContaining({ code: 'ERR_SYNC_LAYOUT_MISMATCH' }));
    shm.close();
  });
});
