// The error model of the five primitives, checked the same way for each: bad options make a Promise
// method reject (never throw) and its *Sync form throw, with the same code; every timeout is a
// TimeoutError (ETIMEDOUT); every use after close, and every pending wait that closing its memory
// ends, is ERR_INVALID_STATE.
import { describe, expect, it } from 'vitest';
import { AbortError, Barrier, Condition, Mutex, RwLock, Semaphore, SharedMemory, TimeoutError } from '../../lib';
import { expectRejects, syncScope, within } from '../helpers/sync';
import { sleep } from '../helpers/util';

const { segment, holder } = syncScope('sync-errors');

/** One wait of a primitive in its two forms, on an object that is free (or trips at once). */
interface Form {
  what: string;
  wait(options?: unknown): Promise<unknown>;
  waitSync(options?: unknown): unknown;
}

function forms(shm: SharedMemory): Form[] {
  const m = Mutex.initAt(shm, 0);
  const c = Condition.initAt(shm, 64);
  const s = Semaphore.initAt(shm, 128, { value: 1000 });
  const b = Barrier.initAt(shm, 1024, { parties: 1 });
  const l = RwLock.initAt(shm, 4096);
  const cm = Mutex.initAt(shm, 192); // the mutex of the condition's waits
  const unlocking = <T extends { unlock(): void }>(g: T) => g.unlock();
  return [
    { what: 'Mutex.lock', wait: (o) => m.lock(o as any).then(unlocking), waitSync: (o) => unlocking(m.lockSync(o as any)) },
    { what: 'Semaphore.acquire', wait: (o) => s.acquire(o as any), waitSync: (o) => s.acquireSync(o as any) },
    {
      what: 'Condition.wait',
      wait: async (o) => {
        const g = cm.lockSync();
        try {
          return await c.wait(cm, (o === undefined ? { timeout: 0 } : o) as any);
        } finally {
          g.unlock();
        }
      },
      waitSync: (o) => {
        const g = cm.lockSync();
        try {
          return c.waitSync(cm, (o === undefined ? { timeout: 0 } : o) as any);
        } finally {
          g.unlock();
        }
      },
    },
    { what: 'Barrier.wait', wait: (o) => b.wait(o as any), waitSync: (o) => b.waitSync(o as any) },
    {
      what: 'RwLock.lockRead',
      wait: (o) => l.lockRead(o as any).then(unlocking),
      waitSync: (o) => unlocking(l.lockReadSync(o as any)),
    },
    {
      what: 'RwLock.lockWrite',
      wait: (o) => l.lockWrite(o as any).then(unlocking),
      waitSync: (o) => unlocking(l.lockWriteSync(o as any)),
    },
  ];
}

const badOptions: Array<[string, unknown, string]> = [
  ['options not an object', 'soon', 'ERR_INVALID_ARG_TYPE'],
  ['options null', null, 'ERR_INVALID_ARG_TYPE'],
  ['a negative timeout', { timeout: -1 }, 'ERR_OUT_OF_RANGE'],
  ['a timeout not a number', { timeout: '10' }, 'ERR_INVALID_ARG_TYPE'],
  ['a NaN timeout', { timeout: NaN }, 'ERR_OUT_OF_RANGE'],
  ['a signal not an AbortSignal', { signal: 'stop' }, 'ERR_INVALID_ARG_TYPE'],
  ['an aborted signal', { signal: AbortSignal.abort() }, 'ABORT_ERR'],
];

describe('sync error model', () => {
  it('bad options: every Promise method rejects (never throws), its *Sync form throws the same code', async () => {
    const { shm } = segment();
    for (const f of forms(shm)) {
      for (const [why, options, code] of badOptions) {
        const err = await expectRejects(() => f.wait(options), code, `${f.what} with ${why}`);
        if (code === 'ABORT_ERR') expect(err, `${f.what} with ${why}`).toBeInstanceOf(AbortError);
        expect(() => f.waitSync(options), `${f.what}Sync with ${why}`).toThrow(expect.objectContaining({ code }));
      }
      // and each still works afterwards: nothing was taken or left behind by the failed calls
      await f.wait();
      f.waitSync();
    }
    expect(Barrier.openAt(shm, 1024).generation).toBe(2);
    shm.close();
  });

  it('an already aborted signal fails Barrier.wait before it arrives', async () => {
    const { shm } = segment();
    const b = Barrier.initAt(shm, 1024, { parties: 2 });
    await expectRejects(() => b.wait({ signal: AbortSignal.abort() }), 'ABORT_ERR');
    expect(b.broken).toBe(false);
    // Had it arrived, this second arrival of the same thread would trip the barrier.
    expect(() => b.waitSync({ timeout: 20 })).toThrow(TimeoutError);
    shm.close();
  });

  it('Condition.wait rejects on a bad mutex, and waitSync throws the same code', async () => {
    const { shm } = segment();
    const c = Condition.initAt(shm, 64);
    await expectRejects(() => c.wait({} as any), 'ERR_INVALID_ARG_TYPE');
    await expectRejects(() => c.wait(undefined as any, { timeout: 1 }), 'ERR_INVALID_ARG_TYPE');
    expect(() => c.waitSync({} as any)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    shm.close();
  });

  it('every timeout is a TimeoutError with code ETIMEDOUT, in both forms', async () => {
    const { name, shm } = segment();
    Mutex.initAt(shm, 0);
    const l = RwLock.initAt(shm, 4096);
    const s = Semaphore.initAt(shm, 128, { value: 0 });
    const b = Barrier.initAt(shm, 1024, { parties: 2 });
    const m = Mutex.openAt(shm, 0);
    await holder({ name, task: 'holdUntilTold' });
    await holder({ name, task: 'holdWrite' });
    const waits: Array<[string, (o: { timeout: number }) => Promise<unknown>, (o: { timeout: number }) => unknown]> = [
      ['Mutex.lock', (o) => m.lock(o), (o) => m.lockSync(o)],
      ['Semaphore.acquire', (o) => s.acquire(o), (o) => s.acquireSync(o)],
      ['RwLock.lockRead', (o) => l.lockRead(o), (o) => l.lockReadSync(o)],
      ['RwLock.lockWrite', (o) => l.lockWrite(o), (o) => l.lockWriteSync(o)],
      [
        'Barrier.wait',
        (o) => b.wait(o).finally(() => b.reset()),
        (o) => {
          try {
            return b.waitSync(o);
          } finally {
            b.reset();
          }
        },
      ],
    ];
    for (const [what, wait, waitSync] of waits) {
      const err = await expectRejects(() => wait({ timeout: 20 }), 'ETIMEDOUT');
      expect(err, what).toBeInstanceOf(TimeoutError);
      expect(err.message).toBe(`${what} timed out after 20 ms`);
      expect(() => waitSync({ timeout: 10 }), `${what}Sync`).toThrow(TimeoutError);
      expect(() => waitSync({ timeout: 0 }), `${what}Sync`).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    }
    shm.close();
  });

  it('every use after close is ERR_INVALID_STATE: Promise methods reject, the others throw', async () => {
    const { shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const c = Condition.initAt(shm, 64);
    const s = Semaphore.initAt(shm, 128);
    const b = Barrier.initAt(shm, 1024, { parties: 2 });
    const l = RwLock.initAt(shm, 4096);
    const g = m.lockSync();
    const p = s.acquireSync();
    const r = l.lockReadSync();
    for (const o of [m, c, s, b, l]) {
      o.close();
      expect(o.closed).toBe(true);
      o.close(); // again: nothing
    }
    expect(shm.closed).toBe(false); // objects at an offset leave their SharedMemory open
    const closed = { code: 'ERR_INVALID_STATE' };
    for (const call of [
      () => m.lock(),
      () => s.acquire(),
      () => c.wait(m),
      () => b.wait(),
      () => l.lockRead(),
      () => l.lockWrite(),
    ]) {
      await expectRejects(call, 'ERR_INVALID_STATE');
    }
    const syncCalls: Array<() => unknown> = [
      () => m.lockSync(),
      () => m.tryLock(),
      () => m.unlock(),
      () => m.markConsistent(),
      () => m.owner,
      () => m.isHeld,
      () => g.unlock(),
      () => s.acquireSync(),
      () => s.tryAcquire(),
      () => s.release(),
      () => s.value,
      () => s.held,
      () => p.release(),
      () => c.waitSync(m),
      () => c.notify(),
      () => c.notifyAll(),
      () => b.waitSync(),
      () => b.abort(),
      () => b.reset(),
      () => b.generation,
      () => b.broken,
      () => l.lockReadSync(),
      () => l.lockWriteSync(),
      () => l.tryLockRead(),
      () => l.tryLockWrite(),
      () => l.unlockRead(),
      () => l.unlockWrite(),
      () => l.markConsistent(),
      () => l.state,
      () => r.unlock(),
    ];
    for (const call of syncCalls) expect(call, String(call)).toThrow(expect.objectContaining(closed));
    shm.close();
  });

  it('a pending wait of each kind rejects with ERR_INVALID_STATE when its memory is closed', async () => {
    const { name, shm } = segment();
    Mutex.initAt(shm, 0);
    Condition.initAt(shm, 64);
    Semaphore.initAt(shm, 128, { value: 0 });
    Barrier.initAt(shm, 1024, { parties: 2 });
    RwLock.initAt(shm, 4096);
    const cm = Mutex.initAt(shm, 192);
    await holder({ name, task: 'holdUntilTold' });
    await holder({ name, task: 'holdWrite' });
    // The waits run on a second mapping of the same segment, which is then closed.
    const other = SharedMemory.open(name);
    const g = cm.lockSync();
    const pending: Array<[string, Promise<unknown>]> = [
      ['Mutex.lock', Mutex.openAt(other, 0).lock()],
      ['Semaphore.acquire', Semaphore.openAt(other, 128).acquire()],
      ['Condition.wait', Condition.openAt(other, 64).wait(cm)],
      ['Barrier.wait', Barrier.openAt(other, 1024).wait()],
      ['RwLock.lockRead', RwLock.openAt(other, 4096).lockRead()],
      ['RwLock.lockWrite', RwLock.openAt(other, 4096).lockWrite()],
    ];
    const outcomes = pending.map(([, p]) =>
      p.then(
        () => 'settled',
        (e) => e,
      ),
    );
    await sleep(30);
    other.close();
    const errors = await within(Promise.all(outcomes), 10_000, 'pending waits after close');
    for (const [k, err] of errors.entries()) expect(err, pending[k][0]).toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(cm.isHeld).toBe(true); // Condition.wait re-locked its mutex before rejecting
    g.unlock();
    shm.close();
  });
});
