// Another process rewrites a sync object's header (a Semaphore's robust flag, a Barrier's parties)
// while a wait is pending, or between calls: never a crash or an access past the object; the change
// is ERR_SYNC_LAYOUT_MISMATCH.
import { describe, expect, it } from 'vitest';
import { Barrier, futex, Semaphore } from '../../lib';
import { runTask, syncScope, within } from '../helpers/sync';
import { nextMessage, sleep } from '../helpers/util';

const { children, segment } = syncScope('hostile');
const SIZE = 4096; // one page: the object sits in its last bytes, so a read past it leaves the mapping
const SEM = SIZE - Semaphore.byteLength;
const BARRIER = SIZE - Barrier.byteLength(2);
const ROUNDS = 5;

describe('a hostile writer rewrites a sync header', () => {
  for (const form of ['async', 'sync'] as const) {
    it(`a pending Semaphore ${form} acquire: robust flag set during the wait (${ROUNDS} rounds)`, async () => {
      const outcomes: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const { name, shm } = segment(SIZE);
        Semaphore.initAt(shm, SEM, { value: 0 });
        const waiter = runTask({ name, task: 'waitThroughRewrite', kind: 'semaphore', offset: SEM, form });
        children.push(waiter);
        await nextMessage(waiter.proc, (m) => m?.waiting);
        await sleep(100);
        const bytes = new Uint8Array(shm.buffer);
        bytes[SEM + 7] |= 1; // flags: robust, which would put 32 holder slots past the page
        const words = new Int32Array(shm.buffer);
        Atomics.store(words, (SEM + 16) / 4, 1); // value 1, and wake the sleeper
        futex.wake(words, (SEM + 16) / 4);
        const r = await within(waiter.done, 20_000, 'waiter').catch((e: Error) => e.message);
        outcomes.push(typeof r === 'string' ? r : r.result);
        shm.close();
      }
      expect(outcomes).toEqual(Array(ROUNDS).fill('ERR_SYNC_LAYOUT_MISMATCH'));
    }, 120_000);

    it(`a pending Barrier ${form} wait: parties rewritten during the wait (${ROUNDS} rounds)`, async () => {
      const outcomes: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const { name, shm } = segment(SIZE);
        Barrier.initAt(shm, BARRIER, { parties: 2 });
        const waiter = runTask({ name, task: 'waitThroughRewrite', kind: 'barrier', offset: BARRIER, form });
        children.push(waiter);
        await nextMessage(waiter.proc, (m) => m?.waiting);
        await sleep(100);
        const words = new Int32Array(shm.buffer);
        Atomics.store(words, (BARRIER + 12) / 4, Barrier.maxParties); // parties: slots far past the page
        futex.wake(words, (BARRIER + 28) / 4); // the joins word: waiters re-read the slots
        futex.wake(words, (BARRIER + 20) / 4);
        const r = await within(waiter.done, 20_000, 'waiter').catch((e: Error) => e.message);
        outcomes.push(typeof r === 'string' ? r : r.result);
        shm.close();
      }
      expect(outcomes).toEqual(Array(ROUNDS).fill('ERR_SYNC_LAYOUT_MISMATCH'));
    }, 120_000);
  }

  it('a header rewritten between calls is refused, not followed', async () => {
    const { shm } = segment(8192);
    const s = Semaphore.initAt(shm, 0, { value: 1 });
    const b = Barrier.initAt(shm, 4096, { parties: 2 });
    const bytes = new Uint8Array(shm.buffer);
    bytes[7] |= 1; // robust now, as far as the header goes
    expect(() => s.tryAcquire()).toThrow(expect.objectContaining({ code: 'ERR_SYNC_LAYOUT_MISMATCH' }));
    expect(() => s.release()).toThrow(expect.objectContaining({ code: 'ERR_SYNC_LAYOUT_MISMATCH' }));
    await expect(s.acquire()).rejects.toMatchObject({ code: 'ERR_SYNC_LAYOUT_MISMATCH' });
    bytes[7] &= ~1;
    expect(s.tryAcquire()).toBe(true); // restored: the same object again
    new Int32Array(shm.buffer)[(4096 + 12) / 4] = 3;
    await expect(b.wait({ timeout: 100 })).rejects.toMatchObject({ code: 'ERR_SYNC_LAYOUT_MISMATCH' });
    expect(() => b.waitSync({ timeout: 100 })).toThrow(expect.objectContaining({ code: 'ERR_SYNC_LAYOUT_MISMATCH' }));
    expect(() => b.broken).toThrow(expect.objectContaining({ code: 'ERR_SYNC_LAYOUT_MISMATCH' }));
    expect(b.parties).toBe(2);
    shm.close();
  });
});
