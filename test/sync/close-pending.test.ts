// close() of a sync object with its own operations pending: each rejects with ERR_INVALID_STATE
// (closedError) and nothing stays taken for it, for placed objects, for a second handle placed in
// another object's SharedMemory, and for named objects.
import { describe, expect, it } from 'vitest';
import { Barrier, Condition, Mutex, RwLock, Semaphore } from '../../lib';
import { syncScope, within } from '../helpers/sync';
import { sleep } from '../helpers/util';

const { segment, holder } = syncScope('close');

/** The pending promise must reject with ERR_INVALID_STATE once `close` ran (a watchdog, no time bound). */
async function endsClosed(p: Promise<unknown>, close: () => void): Promise<void> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(50);
  expect(settled).toBe(false); // really pending before the close
  close();
  await expect(within(p, 10_000, 'pending call after close')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
}

describe('close() with own operations pending', () => {
  it('Mutex: a pending lock() rejects, and the lock is not taken for it later', async () => {
    const { shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const other = Mutex.openAt(shm, 0);
    const g = m.lockSync();
    await endsClosed(other.lock(), () => other.close());
    g.unlock();
    await sleep(50);
    expect(m.owner).toBe(0);
    expect(m.tryLock()).toBe(true);
    m.unlock();
    shm.close();
  });

  it('Mutex held by another process: the pending lock() rejects and a later release goes to the next locker', async () => {
    const { name, shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const h = await holder({ name, task: 'holdUntilTold' });
    const closing = Mutex.openAt(shm, 0);
    await endsClosed(closing.lock(), () => closing.close());
    const next = m.lock({ timeout: 10_000 });
    h.proc.send('release');
    const g = await next;
    g.unlock();
    shm.close();
  });

  it('Semaphore: a pending acquire() rejects and consumes no later permit', async () => {
    const { shm } = segment();
    const s = Semaphore.initAt(shm, 128, { value: 0 });
    const other = Semaphore.openAt(shm, 128);
    await endsClosed(other.acquire(), () => other.close());
    s.release();
    await sleep(50);
    expect(s.value).toBe(1);
    shm.close();
  });

  it('robust Semaphore: the same', async () => {
    const { shm } = segment();
    const s = Semaphore.initAt(shm, 4096, { value: 0, robust: true });
    const other = Semaphore.openAt(shm, 4096);
    await endsClosed(other.acquire(), () => other.close());
    s.release(0);
    expect(s.held).toBe(0);
    shm.close();
  });

  it('Condition: a pending wait() rejects (after re-locking its mutex, as every wait ends)', async () => {
    const { shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const c = Condition.initAt(shm, 64);
    const g = await m.lock();
    await endsClosed(c.wait(g), () => c.close());
    expect(m.isHeld).toBe(true);
    g.unlock();
    shm.close();
  });

  it('Barrier: a pending wait() of the closed object rejects (it was pending for ever)', async () => {
    const { shm } = segment();
    const b = Barrier.initAt(shm, 1024, { parties: 2 });
    await endsClosed(b.wait(), () => b.close());
    const again = Barrier.openAt(shm, 1024);
    expect(again.broken).toBe(true); // its arrival could not be taken back
    shm.close();
  });

  it('RwLock: a pending lockRead() and a pending lockWrite() reject and take nothing', async () => {
    const { shm } = segment();
    const l = RwLock.initAt(shm, 4096);
    const w = l.lockWriteSync();
    const reader = RwLock.openAt(shm, 4096);
    await endsClosed(reader.lockRead(), () => reader.close());
    const writer = RwLock.openAt(shm, 4096);
    await endsClosed(writer.lockWrite(), () => writer.close());
    w.unlock();
    await sleep(50);
    expect(l.state).toEqual({ readers: 0, writer: 0 });
    expect(l.tryLockWrite()).toBe(true);
    l.unlockWrite();
    shm.close();
  });

  it('a handle placed in another object’s SharedMemory: closing it ends its own lock() only', async () => {
    const { name } = segment();
    const named = Mutex.create(`${name}-m`);
    try {
      const placed = Mutex.openAt(named.shm, 0);
      const g = named.lockSync();
      const stays = Mutex.openAt(named.shm, 0).lock({ timeout: 10_000 });
      await endsClosed(placed.lock(), () => placed.close());
      g.unlock();
      (await stays).unlock();
      expect(named.tryLock()).toBe(true);
      named.unlock();
    } finally {
      named.close();
      Mutex.unlink(`${name}-m`);
    }
  });

  it('named objects: close() ends their own pending waits too', async () => {
    const { name } = segment();
    const s = Semaphore.create(`${name}-s`, { value: 0 });
    const b = Barrier.create(`${name}-b`, { parties: 2 });
    try {
      await endsClosed(s.acquire(), () => s.close());
      await endsClosed(b.wait(), () => b.close());
      const again = Semaphore.open(`${name}-s`);
      expect(again.value).toBe(0);
      again.close();
    } finally {
      Semaphore.unlink(`${name}-s`);
      Barrier.unlink(`${name}-b`);
    }
  });

  it('a second Barrier wait on one object is a RangeError with code ERR_BARRIER_WAIT_PENDING', async () => {
    const { shm } = segment();
    const b = Barrier.initAt(shm, 1024, { parties: 2 });
    const first = b.wait();
    const err = await b.wait().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ code: 'ERR_BARRIER_WAIT_PENDING' });
    b.close();
    await expect(first).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    shm.close();
  });
});
