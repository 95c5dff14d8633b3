import { describe, expect, it } from 'vitest';
import { OwnerDeadError, RwLock, TimeoutError } from '../../lib';
import { killNow, runTask, syncScope, within } from '../helpers/sync';
import { exited, nextMessage, sleep } from '../helpers/util';

const { children, segment, holder } = syncScope('rwlock');
const D = 64;

describe('RwLock', () => {
  it('never a writer with readers or two writers, under load from 4 processes', async () => {
    const { name, shm } = segment();
    RwLock.initAt(shm, 4096);
    const kids = [0, 1, 2, 3].map((k) =>
      runTask({ name, task: 'rwlock', iterations: 3000, writeEvery: 3 + k, form: k % 2 ? 'sync' : 'async' }),
    );
    children.push(...kids);
    const results = await within(Promise.all(kids.map((k) => k.done)), 120_000, 'rwlock load');
    expect(results.map((r: any) => r.bad)).toEqual([0, 0, 0, 0]);
    shm.close();
  }, 130_000);

  it('a writer gets in while a stream of overlapping readers goes on', async () => {
    const { name, shm, i32 } = segment();
    const l = RwLock.initAt(shm, 4096);
    const readers = [0, 1, 2].map(() => runTask({ name, task: 'readers', holdMs: 2 }));
    children.push(...readers);
    await Promise.all(readers.map((r) => nextMessage(r.proc, (m) => m?.reading)));
    const g = await within(l.lockWrite(), 20_000, 'writer behind readers');
    expect(l.state.writer).not.toBe(0); // (a reader may hold a slot for an instant before it backs off)
    expect(l.tryLockRead()).toBe(false);
    Atomics.store(i32, D + 12, 1); // readers stop once they see the writer got in
    g.unlock();
    const counts = await within(Promise.all(readers.map((r) => r.done)), 20_000, 'readers end');
    expect(counts.every((n: number) => n > 0 && n < 100000)).toBe(true);
    shm.close();
  }, 60_000);

  it('a reader killed while reading does not block writers', async () => {
    const { name, shm } = segment();
    const l = RwLock.initAt(shm, 4096);
    const reader = await holder({ name, task: 'holdRead' });
    expect(l.tryLockWrite()).toBe(false);
    const pending = l.lockWrite({ timeout: 20_000 });
    await sleep(30);
    reader.proc.kill('SIGKILL');
    const g = await within(pending, 20_000, 'writer after reader death');
    expect(g.ownerDied).toBe(false);
    g.unlock();
    await exited(reader.proc);
    shm.close();
  });

  it('a writer killed while writing: readers get OwnerDeadError without a lock, the next writer repairs', async () => {
    const { name, shm } = segment();
    const l = RwLock.initAt(shm, 4096);
    await killNow(await holder({ name, task: 'holdWrite' }));
    const readErr = await l.lockRead().catch((e) => e);
    expect(readErr).toBeInstanceOf(OwnerDeadError);
    expect(readErr.guard).toBeUndefined();
    expect(l.state.readers).toBe(0);
    const writeErr = await l.lockWrite().catch((e) => e);
    expect(writeErr).toBeInstanceOf(OwnerDeadError);
    writeErr.guard.markConsistent();
    writeErr.guard.unlock();
    const r = l.lockReadSync();
    expect(l.state.readers).toBe(1);
    r.unlock();
    shm.close();
  });

  it('a writer killed while a reader and a writer sleep: whoever the kernel wakes, the writer gets in (20 rounds)', async () => {
    const { name, shm } = segment();
    const l = RwLock.initAt(shm, 4096);
    const reader = await holder({ name, task: 'readOnCommand' });
    const rounds = 20;
    const outcomes: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const writer = await holder({ name, task: 'holdWrite' });
      reader.proc.send('read');
      await nextMessage(reader.proc, (m) => m?.reading);
      await sleep(100); // the reader sleeps first: the kernel's one wake-up at the death goes to it
      const write = l.lockWrite().then(
        (g) => {
          g.unlock();
          return 'acquired';
        },
        (e: any) => {
          if (!(e instanceof OwnerDeadError)) return String(e.code);
          e.guard!.markConsistent();
          e.guard!.unlock();
          return 'owner-dead';
        },
      );
      await sleep(100);
      const read = nextMessage<any>(reader.proc, (m) => m?.read);
      await killNow(writer);
      outcomes.push(await within(write, 10_000, `round ${round}: the sleeping writer`).catch(() => 'still asleep'));
      await read;
      if (outcomes[round] !== 'owner-dead') break;
    }
    expect(outcomes).toEqual(Array(rounds).fill('owner-dead'));
    shm.close();
  }, 120_000);

  it('timeouts, aborts, recursion and misuse', async () => {
    const { shm } = segment();
    const l = RwLock.initAt(shm, 4096);
    const r1 = l.lockReadSync();
    const r2 = await l.lockRead();
    expect(l.state.readers).toBe(1); // one slot per thread, recursion counted
    expect(l.tryLockWrite()).toBe(false);
    expect(() => l.lockWriteSync({ timeout: 10 })).toThrow(expect.objectContaining({ code: 'EDEADLK' }));
    await expect(l.lockWrite()).rejects.toMatchObject({ code: 'EDEADLK' }); // no upgrades
    r1.unlock();
    r2.unlock();
    expect(() => l.unlockRead()).toThrow(expect.objectContaining({ code: 'EPERM' }));
    expect(() => l.unlockWrite()).toThrow(expect.objectContaining({ code: 'EPERM' }));
    const w = l.lockWriteSync();
    expect(l.tryLockRead()).toBe(false);
    expect(() => l.lockReadSync({ timeout: 10 })).toThrow(expect.objectContaining({ code: 'EDEADLK' }));
    // an async read by the writer's own thread waits for its release
    const later = l.lockRead({ timeout: 5000 });
    await sleep(10);
    w.unlock();
    (await later).unlock();
    expect(RwLock.byteLength).toBe(2112);
    expect(() => RwLock.initAt(shm, 8192 - 1024)).toThrow(RangeError);
    expect(() => RwLock.openAt(shm, 0)).toThrow(expect.objectContaining({ code: 'ERR_SYNC_LAYOUT_MISMATCH' }));
    await expect(l.lockWrite({ timeout: -5 })).rejects.toThrow(RangeError);
    const w2 = l.lockWriteSync();
    await expect(l.lockRead({ timeout: 20 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    await expect(l.lockRead({ signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(l.state.readers).toBe(0);
    expect(l.tryLockWrite()).toBe(false); // still ours
    w2.unlock();
    shm.close();
  });
});
