import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AbortError, Mutex, type MutexGuard, OwnerDeadError, SharedMemory, TimeoutError } from '../../lib';
import { native } from '../../lib/internal/binding';
import { expectRepaired, killNow, runTask, syncScope, within } from '../helpers/sync';
import { sleep, uniqueName } from '../helpers/util';

const { made, children, segment, holder } = syncScope('mutex');
const D = 64;

describe('Mutex across processes', () => {
  for (const form of ['async', 'sync', 'try'] as const) {
    it(`4 processes x 10 000 plain increments with the ${form} form give the exact total`, async () => {
      const { name, shm, i32 } = segment();
      Mutex.initAt(shm, 0);
      const kids = Array.from({ length: 4 }, () => runTask({ name, task: 'count', form, iterations: 10_000 }));
      children.push(...kids);
      await within(Promise.all(kids.map((k) => k.done)), 120_000, `${form} counters`);
      expect(i32[D]).toBe(40_000);
      shm.close();
    }, 130_000);
  }

  // INTERPROC_FAULT_ROUNDS raises the round count for a longer soak run (default 20).
  const faultRounds = Number(process.env.INTERPROC_FAULT_ROUNDS ?? 20);
  it(
    `${faultRounds} rounds of SIGKILL at a random moment of the holder: each death reported once, data repaired`,
    async () => {
      const { name, shm, i32 } = segment();
      Mutex.initAt(shm, 0);
      // Two survivors (one async, one sync) keep taking the lock; each round a victim takes it
      // (alternately with lock() and lockSync()) and is killed in the middle of its critical section.
      const survivors = [runTask({ name, task: 'survive', form: 'async' }), runTask({ name, task: 'survive', form: 'sync' })];
      children.push(...survivors);
      let reports = 0;
      const reported: Array<() => void> = [];
      for (const s of survivors) {
        s.proc.on('message', (m: any) => {
          if (m?.dead) {
            reports++;
            reported.shift()?.();
          }
        });
      }
      for (let round = 0; round < faultRounds; round++) {
        const victim = await holder({ name, task: 'hold', form: round % 2 ? 'sync' : 'async' });
        const before = reports;
        const oneReport = new Promise<void>((r) => reported.push(r));
        await sleep(Math.random() * 20);
        await killNow(victim);
        await within(oneReport, 20_000, `owner death report of round ${round}`);
        expect(reports).toBe(before + 1);
      }
      Atomics.store(i32, D + 3, 1);
      const results = await within(Promise.all(survivors.map((s) => s.done)), 30_000, 'survivors end');
      expect(results.reduce((a: number, r: any) => a + r.deaths, 0)).toBe(faultRounds);
      expect(reports).toBe(faultRounds);
      expect(results.every((r: any) => r.bad === 0)).toBe(true);
      expect(results.every((r: any) => r.rounds > 0)).toBe(true);
      const m = Mutex.openAt(shm, 0);
      const g = m.lockSync({ timeout: 5000 });
      expect(i32[D + 1]).toBe(i32[D + 2]);
      g.unlock();
      shm.close();
    },
    60_000 + faultRounds * 6_000,
  );

  it('an aborted or timed-out lock() leaves no waiter behind and the event loop and fs stay free', async () => {
    const { name, shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const other = await holder({ name, task: 'holdUntilTold' });
    // 64 pending lock() calls must not take libuv pool threads: fs work completes meanwhile.
    const controllers = Array.from({ length: 64 }, () => new AbortController());
    const pending = controllers.map((c) =>
      m.lock({ signal: c.signal }).then(
        () => 'locked',
        (e) => e,
      ),
    );
    let settled = false;
    void Promise.all(pending).then(() => (settled = true));
    const files = await Promise.all(Array.from({ length: 16 }, () => readFile(__filename)));
    expect(files.every((f) => f.length > 0)).toBe(true);
    expect(settled).toBe(false);
    const timedOut = await m.lock({ timeout: 30 }).catch((e) => e);
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect(timedOut.code).toBe('ETIMEDOUT');
    for (const c of controllers) c.abort(new Error('stop'));
    const outcomes = await within(Promise.all(pending), 10_000, 'aborted locks');
    expect(outcomes.every((e) => e instanceof AbortError && (e as AbortError).cause instanceof Error)).toBe(true);
    await expect(m.lock({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    // Nobody took it behind our back: after the holder releases, it is free for us.
    other.proc.send('release');
    await other.done;
    expect(m.tryLock()).toBe(true);
    m.unlock();
    expect(native.syncCancel(12345)).toBe(false);
    shm.close();
  }, 60_000);

  it('a lock() hand-off from another process resolves, and timeouts are not early', async () => {
    const { name, shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const other = await holder({ name, task: 'holdUntilTold' });
    const t0 = Date.now();
    await expect(m.lock({ timeout: 100 })).rejects.toThrow(TimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(() => m.lockSync({ timeout: 50 })).toThrow(TimeoutError);
    const p = m.lock();
    other.proc.send('release');
    const g = await within(p, 10_000, 'hand-off');
    expect(m.isHeld).toBe(true);
    g.unlock();
    g.unlock(); // idempotent
    expect(m.isHeld).toBe(false);
    shm.close();
  });
});

describe('Mutex guards', () => {
  it('`using` releases the lock at the end of the scope, also when the scope throws', async () => {
    const { shm } = segment();
    const m = Mutex.initAt(shm, 0);
    {
      using g = await m.lock();
      expect(g.released).toBe(false);
      expect(m.isHeld).toBe(true);
    }
    expect(m.isHeld).toBe(false);
    expect(() => {
      using g = m.lockSync();
      expect(g.ownerDied).toBe(false);
      throw new Error('inside');
    }).toThrow('inside');
    expect(m.isHeld).toBe(false);
    expect(m.tryLock()).toBe(true);
    m.unlock();
    shm.close();
  });
});

describe('Mutex owner death and recovery (in this process)', () => {
  it('closing the memory while holding abandons the lock: OwnerDeadError, then ENOTRECOVERABLE without markConsistent', async () => {
    const name = uniqueName('mutex-named');
    made.push(name);
    const a = Mutex.create(name);
    const b = Mutex.open(name);
    expect(a.tryLock()).toBe(true);
    a.close(); // this thread held it in a's mapping
    const err = await b.lock().catch((e) => e);
    expect(err).toBeInstanceOf(OwnerDeadError);
    expect(err.code).toBe('EOWNERDEAD');
    expect(err.guard.ownerDied).toBe(true);
    expect(b.isHeld).toBe(true);
    err.guard.unlock(); // not repaired
    expect(() => b.tryLock()).toThrow(expect.objectContaining({ code: 'ENOTRECOVERABLE' }));
    await expect(b.lock()).rejects.toMatchObject({ code: 'ENOTRECOVERABLE', syscall: 'mutex_lock' });
    b.close();
  });

  it('markConsistent() makes it usable again', () => {
    const { shm } = segment();
    const shm2 = SharedMemory.open(made[made.length - 1]);
    const a = Mutex.initAt(shm2, 64);
    const b = Mutex.openAt(shm, 64);
    a.lockSync();
    shm2.close();
    let guard: MutexGuard | undefined;
    try {
      b.lockSync();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(OwnerDeadError);
      guard = (e as OwnerDeadError<MutexGuard>).guard;
    }
    if (guard === undefined) throw new Error('the owner-dead error carried no guard');
    expectRepaired(guard, b);
    b.lockSync();
    expect(() => b.markConsistent()).toThrow(expect.objectContaining({ code: 'EINVAL' })); // consistent already
    b.unlock();
    shm.close();
  });
});

describe('Mutex and worker threads', () => {
  it('a worker thread that holds the lock and is terminated leaves it owner-dead for the main thread', async () => {
    const { name, shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const worker = new Worker(path.join(__dirname, 'fixtures', 'sync-worker.cjs'), { workerData: { name } });
    const msg: any = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(msg).toEqual({ holding: true, held: true });
    expect(m.isHeld).toBe(false); // held by the worker's thread, not ours
    expect(m.tryLock()).toBe(false);
    expect(() => m.unlock()).toThrow(expect.objectContaining({ code: 'EPERM' }));
    const pending = m.lock({ timeout: 20_000 }).catch((e) => e);
    await sleep(20);
    await worker.terminate();
    const err = await within(pending, 20_000, 'lock after worker termination');
    expect(err).toBeInstanceOf(OwnerDeadError);
    expectRepaired(err.guard, m);
    shm.close();
  });
});

describe('Mutex misuse', () => {
  it('bad arguments, wrong offsets and wrong objects fail clearly and change nothing', async () => {
    const { name, shm } = segment();
    expect(() => Mutex.initAt({} as any, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => Mutex.initAt(shm, 4)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => Mutex.initAt(shm, -8)).toThrow(RangeError);
    expect(() => Mutex.initAt(shm, 8192 - 32)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => Mutex.openAt(shm, 0)).toThrow(expect.objectContaining({ code: 'ERR_SYNC_LAYOUT_MISMATCH' }));
    const i32 = new Int32Array(shm.buffer);
    expect(i32.every((v) => v === 0)).toBe(true); // nothing written by the failed calls
    const m = Mutex.initAt(shm, 0);
    expect(() => m.lockSync({ timeout: -1 })).toThrow(RangeError);
    expect(() => m.lockSync('x' as any)).toThrow(TypeError);
    expect(() => m.lockSync({ signal: AbortSignal.abort() })).toThrow(AbortError);
    expect(m.isHeld).toBe(false);
    await expect(m.lock({ signal: 'no' as any })).rejects.toThrow(TypeError);
    expect(() => m.unlock()).toThrow(expect.objectContaining({ code: 'EPERM', syscall: 'mutex_unlock' }));
    expect(() => m.markConsistent()).toThrow(expect.objectContaining({ code: 'EPERM' }));
    m.lockSync();
    expect(() => m.lockSync()).toThrow(expect.objectContaining({ code: 'EDEADLK' }));
    expect(m.tryLock()).toBe(false);
    m.unlock();
    // an older layout version
    new Uint16Array(shm.buffer)[2] = 0; // version field
    expect(() => Mutex.openAt(shm, 0)).toThrow(/layout version 0/);
    expect(() => Mutex.create(name)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    const ro = SharedMemory.open(name, { readonly: true });
    expect(() => Mutex.initAt(ro, 128)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(() => Mutex.openAt(ro, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE', message: 'SharedMemory is read-only' }),
    );
    ro.close();
    expect(() => Mutex.open(uniqueName('none'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    shm.close();
    expect(() => m.tryLock()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(() => Mutex.openAt(shm, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
  });

  it('a pending lock() rejects with ERR_INVALID_STATE when its memory is closed', async () => {
    const name = uniqueName('mutex-close');
    made.push(name);
    const a = Mutex.create(name);
    const b = Mutex.open(name);
    a.lockSync();
    const p = b.lock().catch((e) => e);
    await sleep(20);
    b.close();
    const err = await within(p, 5000, 'pending lock after close');
    expect(err.code).toBe('ERR_INVALID_STATE');
    a.unlock();
    a.close();
  });
});
