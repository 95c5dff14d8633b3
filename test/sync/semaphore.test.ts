import { describe, expect, it } from 'vitest';
import { AbortError, Semaphore, TimeoutError } from '../../lib';
import { killNow, runTask, syncScope, within } from '../helpers/sync';
import { sleep, uniqueName } from '../helpers/util';

const { made, children, segment, holder } = syncScope('sem');
const D = 64;

describe('Semaphore', () => {
  for (const robust of [false, true]) {
    it(`${robust ? 'robust' : 'ownerless'} mode bounds concurrency across processes: the shared gauge never exceeds the count (all three forms)`, async () => {
      const offset = robust ? 8192 : 128;
      const { name, shm, i32 } = segment(robust ? 16384 : 8192);
      const s = Semaphore.initAt(shm, offset, { value: 2, robust });
      expect(s.robust).toBe(robust);
      const kids = (['async', 'sync', 'try', 'async'] as const).map((form) =>
        runTask({ name, task: 'semaphore', form, iterations: 1500, offset }),
      );
      children.push(...kids);
      await within(Promise.all(kids.map((k) => k.done)), 120_000, `${robust ? 'robust ' : ''}semaphore children`);
      expect(i32[D + 5]).toBeGreaterThanOrEqual(1);
      expect(i32[D + 5]).toBeLessThanOrEqual(2);
      expect(i32[D + 4]).toBe(0);
      expect(s.value).toBe(2);
      shm.close();
    }, 130_000);
  }

  it('robust mode: the permits of a holder killed by SIGKILL come back to a waiting acquire()', async () => {
    const { name, shm } = segment(16384);
    const s = Semaphore.initAt(shm, 8192, { value: 2, robust: true });
    const other = await holder({ name, task: 'holdPermits', offset: 8192, count: 2 });
    expect(other.message).toEqual({ holding: true, held: 2 });
    expect(s.value).toBe(0);
    expect(s.tryAcquire()).toBe(false);
    expect(() => s.release()).toThrow(expect.objectContaining({ code: 'EPERM' })); // holds none
    const pending = s.acquire({ timeout: 20_000 });
    await sleep(30);
    await killNow(other);
    const permit = await within(pending, 20_000, 'acquire after the holder died');
    expect(s.held).toBe(1);
    expect(s.value).toBe(1); // both dead permits returned, one taken
    permit.release();
    expect(s.value).toBe(2);
    expect(s.held).toBe(0);
    shm.close();
  });

  it('acquire/release, timeout, abort, overflow and misuse', async () => {
    const name = uniqueName('sem-named');
    made.push(name);
    const s = Semaphore.create(name, { value: 1 });
    const other = Semaphore.open(name);
    expect(other.value).toBe(1);
    {
      using permit = await s.acquire();
      expect(permit.released).toBe(false);
      expect(other.tryAcquire()).toBe(false);
      const t0 = Date.now();
      await expect(other.acquire({ timeout: 50 })).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
      expect(() => other.acquireSync({ timeout: 10 })).toThrow(TimeoutError);
      const ac = new AbortController();
      const aborted = other.acquire({ signal: ac.signal });
      setTimeout(() => ac.abort(), 10);
      await expect(aborted).rejects.toBeInstanceOf(AbortError);
    }
    expect(s.value).toBe(1); // released by `using`; the aborted waiter took nothing
    expect(s.tryAcquire()).toBe(true);
    const waiting = other.acquire();
    await sleep(10);
    expect(s.value).toBe(0);
    s.release();
    const p = await within(waiting, 5000, 'waiter after release');
    p.release();
    p.release(); // once only
    expect(s.value).toBe(1);
    expect(() => s.release(Semaphore.maxValue)).toThrow(expect.objectContaining({ code: 'EOVERFLOW' }));
    expect(s.value).toBe(1);
    expect(() => s.release(-1)).toThrow(RangeError);
    expect(() => Semaphore.create(uniqueName('x'), { value: -1 })).toThrow(RangeError);
    expect(() => Semaphore.create(uniqueName('x'), { value: 1.5 })).toThrow(RangeError);
    expect(() => Semaphore.create(uniqueName('x'), { robust: 1 as any })).toThrow(TypeError);
    expect(s.robust).toBe(false);
    expect(s.held).toBe(0);
    s.close();
    other.close();
    expect(() => s.tryAcquire()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
  });
});
