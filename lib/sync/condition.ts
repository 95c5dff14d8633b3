// Condition: a process-shared condition variable used with a Mutex. Wake-ups may be spurious:
// always wait in a loop that re-checks the condition. See docs/design.md.
import { native } from '../internal/binding';
import { Mutex, MutexGuard } from './mutex';
import { SharedMemory } from '../shm/shared-memory';
import {
  acquireAsync, ALIGNMENT, createNamed, Kind, Op, openNamed, Outcome, Place, placement, Rel, waitOptions, waitSyncOptions,
  CONDITION_BYTES, SYNC_NOTIFY_ALL,
  type NamedOptions, type WaitOptions, type WaitSyncOptions,
  SyncObject,
} from './object';
import { invalidType, validateInteger } from '../internal/validate';

function mutexOf(value: unknown): Mutex {
  if (value instanceof Mutex) return value;
  if (value instanceof MutexGuard) return value.mutex;
  throw invalidType('mutex', 'an instance of Mutex or MutexGuard', value);
}

export class Condition extends SyncObject {
  static readonly byteLength = CONDITION_BYTES;
  static readonly alignment = ALIGNMENT;

  private constructor(place: Place) {
    super(place);
  }

  static initAt(shm: SharedMemory, byteOffset: number): Condition {
    const [s, off] = placement(shm, byteOffset, Condition.byteLength);
    native.syncInit(Kind.Condition, SharedMemory.handleOf(s), off, 0);
    return Condition.openAt(s, off);
  }

  static openAt(shm: SharedMemory, byteOffset: number): Condition {
    const [s, off] = placement(shm, byteOffset, Condition.byteLength);
    native.syncAttach(Kind.Condition, SharedMemory.handleOf(s), off);
    return new Condition(new Place(s, off, false));
  }

  static create(name: string, options?: NamedOptions): Condition {
    return new Condition(createNamed(name, options, Condition.byteLength, (p) => {
      native.syncInit(Kind.Condition, p.handle('Condition'), 0, 0);
      native.syncAttach(Kind.Condition, p.handle('Condition'), 0);
    }));
  }

  static open(name: string): Condition {
    return new Condition(openNamed(name, (p) => native.syncAttach(Kind.Condition, p.handle('Condition'), 0)));
  }

  /**
   * Atomically unlocks `mutex` (held by this thread) and waits for a notify, without blocking the
   * event loop; then locks `mutex` again, always (also after a timeout or an abort, before the
   * promise settles). Resolves true when notified (or woken spuriously), false on timeout. If the
   * mutex's owner died meanwhile, rejects with OwnerDeadError (the lock is then held, in err.guard).
   */
  async wait(mutex: Mutex | MutexGuard, options?: WaitOptions): Promise<boolean> {
    const m = mutexOf(mutex);
    const { timeout, signal } = waitOptions(options);
    const handle = this.place.handle('Condition');
    const seen: number = native.syncInfo(Kind.Condition, handle, this.place.offset);
    m.unlock();
    let code: Outcome | undefined;
    let failure: unknown;
    try {
      code = await acquireAsync(Op.CondWait, handle, this.place.offset, timeout, seen, signal, this);
    } catch (err) {
      failure = err;
    }
    await m.lock();  // an OwnerDeadError here wins: the caller must repair first
    if (failure !== undefined) throw failure;
    return code !== Outcome.TimedOut;
  }

  /** Like wait(), blocking this thread. */
  waitSync(mutex: Mutex | MutexGuard, options?: WaitSyncOptions): boolean {
    const m = mutexOf(mutex);
    const timeout = waitSyncOptions(options);
    const handle = this.place.handle('Condition');
    const seen: number = native.syncInfo(Kind.Condition, handle, this.place.offset);
    m.unlock();
    let code: Outcome | undefined;
    let failure: unknown;
    try {
      code = native.syncAcquireSync(Op.CondWait, handle, this.place.offset, timeout, seen);
    } catch (err) {
      failure = err;
    }
    m.lockSync();
    if (failure !== undefined) throw failure;
    return code !== Outcome.TimedOut;
  }

  /** Wakes up to `count` waiters (default 1) in any process; returns how many were woken. */
  notify(count = 1): number {
    validateInteger(count, 'count', 0);
    return native.syncRelease(Rel.CondNotify, this.place.handle('Condition'), this.place.offset, count) as number;
  }

  /** Wakes every waiter; returns how many were woken. */
  notifyAll(): number {
    return native.syncRelease(Rel.CondNotify, this.place.handle('Condition'), this.place.offset, SYNC_NOTIFY_ALL) as number;
  }

}

