import { promises as fsp } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { futex, SharedMemory } from '../../lib';
import { native } from '../../lib/internal/binding';
import { Child } from '../helpers/child';
import { leftoverShm, nextMessage, sleep, uniqueName } from '../helpers/util';

const made: string[] = [];
const children: Child[] = [];
function segment(size = 4096): SharedMemory {
  const n = uniqueName('futex');
  made.push(n);
  return SharedMemory.create(n, { size });
}
async function child(): Promise<Child> {
  const c = await Child.start();
  children.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop()));
  for (const n of made.splice(0)) SharedMemory.unlink(n);
});
afterAll(() => expect(leftoverShm()).toEqual([]));

describe('futex outcomes', () => {
  it("returns 'not-equal' at once when the word differs, sync and async", async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    i[0] = 5;
    expect(futex.wait(i, 0, 4)).toBe('not-equal');
    expect(await futex.waitAsync(i, 0, 4)).toBe('not-equal');
  });

  it("returns 'timed-out' after the timeout, and not before it", async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    let t = performance.now();
    expect(futex.wait(i, 0, 0, 30)).toBe('timed-out');
    expect(performance.now() - t).toBeGreaterThanOrEqual(29);
    t = performance.now();
    expect(await futex.waitAsync(i, 0, 0, 30)).toBe('timed-out');
    expect(performance.now() - t).toBeGreaterThanOrEqual(29);
    expect(await futex.waitAsync(i, 0, 0, 0)).toBe('timed-out');
  });

  it('wake with nobody waiting returns 0', () => {
    using shm = segment();
    expect(futex.wake(new Int32Array(shm.buffer), 0)).toBe(0);
  });

  it('works on Uint32Array views and views at an offset', async () => {
    using shm = segment();
    const u = new Uint32Array(shm.buffer, 64, 4);
    u[2] = 0xffffffff;
    expect(futex.wait(u, 2, -1, 1)).toBe('timed-out'); // same 32 bits
    expect(futex.wait(u, 2, 0, 1)).toBe('not-equal');
  });
});

describe('futex across processes', () => {
  it('parent sleeps (sync), child wakes it', async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    const c = await child();
    await c.call('read', { name: shm.name, offset: 0, length: 1 }); // child has it open
    // The child stores 1 and wakes after a delay; the sync wait blocks this thread until then.
    c.proc.send({ id: 999, cmd: 'wakeSetting', name: shm.name, index: 0, value: 1 });
    const r = futex.wait(i, 0, 0, 10_000);
    expect(['ok', 'not-equal']).toContain(r); // not-equal only if the child won the race
    expect(Atomics.load(i, 0)).toBe(1);
  });

  it('child sleeps (sync), parent wakes it: woken count 1', async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    const c = await child();
    const answer = c.call<string>('waitSync', { name: shm.name, index: 1, value: 0, timeout: 20_000 });
    let woken = 0;
    for (let k = 0; k < 2000 && woken === 0; k++) {
      await sleep(2);
      woken = futex.wake(i, 1); // 0 until the child is asleep
    }
    expect(woken).toBe(1);
    expect(await answer).toBe('ok');
  });

  it('child waits async (its timers keep ticking), parent wakes it', async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    const c = await child();
    const answer = c.call<{ result: string; ticks: number }>('waitAsync', {
      name: shm.name,
      index: 2,
      value: 0,
      timeout: 20_000,
    });
    await nextMessage(c.proc, (m) => m?.waiting);
    await sleep(200);
    Atomics.store(i, 2, 1);
    let woken = 0;
    for (let k = 0; k < 2000 && woken === 0; k++) {
      woken = futex.wake(i, 2);
      if (!woken) await sleep(2);
    }
    const r = await answer;
    expect(r.result).toBe('ok');
    expect(woken).toBe(1);
    expect(r.ticks).toBeGreaterThanOrEqual(10); // 5 ms interval during ~200 ms: the loop was free
  });

  it('parent waits async, child wakes it', async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    const c = await child();
    await c.call('read', { name: shm.name, offset: 0, length: 1 });
    const p = futex.waitAsync(i, 3, 0, 20_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await sleep(100);
    expect(await c.call('wakeSetting', { name: shm.name, index: 3, value: 7 })).toBe(1);
    expect(await p).toBe('ok');
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });
});

describe('futex.waitAsync does not hold the libuv thread pool', () => {
  it('100 pending waits leave fs calls working and every wait resolves', async () => {
    using shm = segment(4096);
    const i = new Int32Array(shm.buffer);
    const waits = Array.from({ length: 100 }, (_, k) => futex.waitAsync(i, k, 0, 30_000));
    await sleep(50);
    // With the default pool of 4 threads, a pool-based wait would leave no thread for fs at all:
    // these 8 parallel stats would never complete until the waits end.
    const stats = await Promise.race([
      Promise.all(Array.from({ length: 8 }, () => fsp.stat(__filename))),
      sleep(20_000).then(() => 'starved'),
    ]);
    expect(stats).not.toBe('starved');
    expect((stats as unknown[]).length).toBe(8);
    for (let k = 0; k < 100; k++) {
      Atomics.store(i, k, 1);
      futex.wake(i, k);
    }
    expect(new Set(await Promise.all(waits))).toEqual(new Set(['ok']));
    expect(native.blockingThreadCount()).toBeGreaterThanOrEqual(100);
  });

  it('waiter threads beyond the few kept warm end after idling, and later waits still run', async () => {
    using shm = segment(4096);
    const i = new Int32Array(shm.buffer);
    native.blockingIdleTimeout(100);
    try {
      const waits = Array.from({ length: 30 }, (_, k) => futex.waitAsync(i, k, 0, 30_000));
      await sleep(50);
      expect(native.blockingThreadCount()).toBeGreaterThanOrEqual(30);
      for (let k = 0; k < 30; k++) {
        Atomics.store(i, k, 1);
        futex.wake(i, k);
      }
      expect(new Set(await Promise.all(waits))).toEqual(new Set(['ok']));
      let threads = native.blockingThreadCount();
      for (let t = 0; t < 200 && threads > 4; t++) {
        await sleep(50);
        threads = native.blockingThreadCount();
      }
      expect(threads).toBe(4); // shrinks to the four kept, no further
      // a new burst gets threads of its own again
      Atomics.store(i, 40, 0);
      const again = Array.from({ length: 10 }, () => futex.waitAsync(i, 40, 0, 30_000));
      await sleep(50);
      expect(native.blockingThreadCount()).toBeGreaterThanOrEqual(10);
      Atomics.store(i, 40, 1);
      futex.wake(i, 40);
      expect(new Set(await Promise.all(again))).toEqual(new Set(['ok']));
    } finally {
      native.blockingIdleTimeout(10_000);
    }
  });
});

describe('cancellation and misuse', () => {
  it('an AbortSignal rejects the wait with AbortError and leaves no waiter behind', async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    const ac = new AbortController();
    const p = futex.waitAsync(i, 0, 0, undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await sleep(20);
    expect(futex.wake(i, 0)).toBe(0); // nobody sleeps on the word any more
    await expect(futex.waitAsync(i, 0, 0, 10, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('an abort right after the call is never lost (200 times in a row, no timeout set)', async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    for (let k = 0; k < 200; k++) {
      const ac = new AbortController();
      const p = futex.waitAsync(i, 0, 0, undefined, { signal: ac.signal });
      if (k % 2) await Promise.resolve();
      ac.abort();
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    }
  });

  it('a worker blocked in futex.wait with no timeout can still be terminated', async () => {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(
      `const { SharedMemory, futex } = require(${JSON.stringify(require.resolve('../../dist'))});
       const s = SharedMemory.anonymous({ size: 64 });
       require('node:worker_threads').parentPort.postMessage('sleeping');
       futex.wait(new Int32Array(s.buffer), 0, 0);`,
      { eval: true },
    );
    await new Promise((r) => w.once('message', r));
    await sleep(100);
    const code = await Promise.race([w.terminate(), sleep(15_000).then(() => 'hung')]);
    expect(code).toBe(1);
  });

  it('close() during a pending waitAsync rejects it with ERR_INVALID_STATE', async () => {
    const shm = segment();
    const p = futex.waitAsync(new Int32Array(shm.buffer), 0, 0);
    await sleep(20);
    shm.close();
    await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });

  it('rejects bad arguments with TypeError/RangeError', async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    expect(() => futex.wait(new Int32Array(4), 0, 0, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => futex.wait(new Float64Array(shm.buffer) as any, 0, 0, 1)).toThrow(TypeError);
    expect(() => futex.wait(i, -1, 0)).toThrow(RangeError);
    expect(() => futex.wait(i, 1024, 0)).toThrow(RangeError);
    expect(() => futex.wait(i, 1.5, 0)).toThrow(RangeError);
    expect(() => futex.wait(i, 0, 0, -5)).toThrow(RangeError);
    expect(() => futex.wait(i, 0, 'x' as any)).toThrow(TypeError);
    expect(() => futex.wake(i, 0, -1)).toThrow(RangeError);
    await expect(futex.waitAsync(i, 9999, 0)).rejects.toThrow(RangeError);
    await expect(futex.waitAsync(i, 0, 0, 1, { signal: 'no' as any })).rejects.toThrow(TypeError);
  });

  it('use after close throws ERR_INVALID_STATE', () => {
    const shm = segment();
    const i = new Int32Array(shm.buffer);
    shm.close();
    expect(() => futex.wake(i, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
  });

  it('waitAsync never throws synchronously: every bad argument or option is a rejection with its code', async () => {
    using shm = segment();
    const i = new Int32Array(shm.buffer);
    const cases: Array<[() => Promise<unknown>, string, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor]> = [
      [() => futex.waitAsync(new Int32Array(4), 0, 0), 'ERR_INVALID_ARG_TYPE', TypeError],
      [() => futex.waitAsync('x' as any, 0, 0), 'ERR_INVALID_ARG_TYPE', TypeError],
      [() => futex.waitAsync(i, '0' as any, 0), 'ERR_INVALID_ARG_TYPE', TypeError],
      [() => futex.waitAsync(i, undefined as any, 0), 'ERR_INVALID_ARG_TYPE', TypeError],
      [() => futex.waitAsync(i, -1, 0), 'ERR_OUT_OF_RANGE', RangeError],
      [() => futex.waitAsync(i, 0.5, 0), 'ERR_OUT_OF_RANGE', RangeError],
      [() => futex.waitAsync(i, 1024, 0), 'ERR_OUT_OF_RANGE', RangeError],
      [() => futex.waitAsync(i, 0, undefined as any), 'ERR_INVALID_ARG_TYPE', TypeError],
      [() => futex.waitAsync(i, 0, 0, 'soon' as any), 'ERR_INVALID_ARG_TYPE', TypeError],
      [() => futex.waitAsync(i, 0, 0, NaN), 'ERR_OUT_OF_RANGE', RangeError],
      [() => futex.waitAsync(i, 0, 0, -1), 'ERR_OUT_OF_RANGE', RangeError],
      [() => futex.waitAsync(i, 0, 0, 1, null as any), 'ERR_INVALID_ARG_TYPE', TypeError],
      [() => futex.waitAsync(i, 0, 0, 1, 5 as any), 'ERR_INVALID_ARG_TYPE', TypeError],
      [() => futex.waitAsync(i, 0, 0, 1, { signal: {} as any }), 'ERR_INVALID_ARG_TYPE', TypeError],
    ];
    for (const [call, code, cls] of cases) {
      let p: Promise<unknown> | undefined;
      expect(() => (p = call())).not.toThrow();
      expect(p).toBeInstanceOf(Promise);
      const err = await p!.then(
        () => undefined,
        (e) => e,
      );
      expect(err).toBeInstanceOf(cls);
      expect(err.code).toBe(code);
    }
    expect(i[0]).toBe(0);
  });

  it('after close every futex call is ERR_INVALID_STATE (waitAsync as a rejection), for used and unused views', async () => {
    const shm = segment();
    const used = new Int32Array(shm.buffer);
    expect(futex.wake(used, 0)).toBe(0); // now cached as checked
    const unused = new Uint32Array(shm.buffer, 64, 4);
    shm.close();
    for (const view of [used, unused]) {
      expect(() => futex.wait(view, 0, 0, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
      expect(() => futex.wake(view, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
      let p: Promise<unknown> | undefined;
      expect(() => (p = futex.waitAsync(view, 0, 0, 1))).not.toThrow();
      await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_STATE', message: 'SharedMemory is closed' });
    }
  });
});
