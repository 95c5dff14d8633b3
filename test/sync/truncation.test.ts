// Sync objects on a segment that another process truncates (issue 16 item 4): a holder, waiters in
// every form (async, sync) and the objects' later operations get ERR_SHM_TRUNCATED; nobody dies.
import { describe, expect, it } from 'vitest';
import { Condition, Mutex, Semaphore, SharedMemory } from '../../lib';
import { settle, truncateShm, truncationSuite } from '../helpers/truncate';

const { kids, name } = truncationSuite();

describe('sync objects on a truncated segment', () => {
  it('named Mutex: the holder, an async and a sync waiter all get ERR_SHM_TRUNCATED and live', async () => {
    const n = name('trunc-mutex');
    using m = Mutex.create(n);
    const holder = await kids.start({ role: 'mutexHold', name: n });
    const waitAsync = await kids.start({ role: 'mutexWait', name: n, form: 'async' });
    const waitSync = await kids.start({ role: 'mutexWait', name: n, form: 'sync' });
    await settle();
    truncateShm(n, 0);
    const [a, s] = await Promise.all([kids.report(waitAsync), kids.report(waitSync)]);
    expect(a.code).toBe('ERR_SHM_TRUNCATED');
    expect(s.code).toBe('ERR_SHM_TRUNCATED');
    holder.send('unlock');
    const h = await kids.report(holder);
    expect(h).toMatchObject({
      unlock: 'ERR_SHM_TRUNCATED',
      tryLock: 'ERR_SHM_TRUNCATED',
      lock: 'ERR_SHM_TRUNCATED',
      lockSync: 'ERR_SHM_TRUNCATED',
    });
    // This process too: every operation says so.
    expect(() => m.tryLock()).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
    await expect(m.lock()).rejects.toMatchObject({ code: 'ERR_SHM_TRUNCATED' });
    expect(m.shm.truncated).toBe(true);
    expect(() => Mutex.open(n)).toThrow(); // the object is empty now: no initialised mutex
  });

  it('a holder of a truncated lock keeps a sound robust list: it closes it, and its death still frees its other locks', async () => {
    const [a, b, c] = [name('trunc-ra'), name('trunc-rb'), name('trunc-rc')];
    using ma = Mutex.create(a);
    using _mb = Mutex.create(b);
    using mc = Mutex.create(c);
    const child = await kids.start({ role: 'holdTwo', a, b, c });
    truncateShm(b, 0);
    child.send('go');
    const r = await kids.report(child);
    expect(r.unlock).toBe('ERR_SHM_TRUNCATED');
    await expect(ma.lock({ timeout: 5000 })).rejects.toMatchObject({ code: 'EOWNERDEAD' });
    // This process too: hold one, lose it to a truncate, close it, keep locking others.
    const e = name('trunc-re');
    const d = name('trunc-rd');
    using md = Mutex.create(d);
    using mf = Mutex.create(name('trunc-rf'));
    const me = Mutex.create(e);
    mf.lockSync(); // the oldest entry of this thread's list
    md.lockSync(); // then this one
    me.lockSync(); // and the newest, which the truncate takes away
    truncateShm(e, 0);
    md.close(); // releasing what it holds walks the list past the lost entry
    expect(() => me.unlock()).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
    me.close();
    mc.lockSync().unlock();
    mf.unlock(); // still on the list, links intact
    using again = Mutex.open(d);
    await expect(again.lock()).rejects.toMatchObject({ code: 'EOWNERDEAD' }); // md.close() abandoned it
  });

  for (const form of ['async', 'sync'] as const) {
    it(`Semaphore placed in the half that stays: a pending ${form} acquire ends with ERR_SHM_TRUNCATED`, async () => {
      const n = name('trunc-sem');
      using shm = SharedMemory.create(n, { size: 4 * 4096 });
      using s = Semaphore.initAt(shm, 64, { value: 0 });
      const child = await kids.start({ role: 'semWait', name: n, offset: 64, form });
      await settle();
      truncateShm(n, 2 * 4096);
      const r = await kids.report(child);
      expect(r.code).toBe('ERR_SHM_TRUNCATED');
      expect(r.truncated).toBe(true);
      expect(() => s.release()).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
    });
  }

  it('Condition wait pending in the lost half ends with ERR_SHM_TRUNCATED', async () => {
    const n = name('trunc-cond');
    using shm = SharedMemory.create(n, { size: 4 * 4096 });
    using m = Mutex.initAt(shm, 3 * 4096);
    using c = Condition.initAt(shm, 3 * 4096 + 64);
    const child = await kids.start({ role: 'condWait', name: n, mutexOffset: 3 * 4096, condOffset: 3 * 4096 + 64 });
    await settle();
    truncateShm(n, 4096);
    const r = await kids.report(child);
    expect(r.code).toBe('ERR_SHM_TRUNCATED');
    expect(() => c.notify()).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
    expect(() => m.tryLock()).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
  });

  it('attaching to an object of a segment that shrank since it was mapped: ERR_SHM_TRUNCATED before any fault', () => {
    const n = name('trunc-attach');
    using shm = SharedMemory.create(n, { size: 2 * 4096 });
    Mutex.initAt(shm, 4096).close();
    truncateShm(n, 4096);
    expect(() => Mutex.openAt(shm, 4096)).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
  });
});
