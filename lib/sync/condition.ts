// Condition: a process-shared condition variable used with a Mutex. Wake-ups may be spurious:
// always wait in a loop that re-checks the condition. See docs/design/sync.md.
import { Mutex, MutexGuard } from './mutex';
import type { SharedMemory } from '../shm/shared-memory';
import { CONDITION_BYTES, SYNC_NOTIFY_ALL } from '../internal/contract';
import {
  ALIGNMENT,
  attachAt,
  createNamed,
  initAt,
  Kind,
  Op,
  openNamed,
  Outcome,
  type Place,
  Rel,
  waitOptions,
  waitSyncOptions,
  type NamedOptions,
  type WaitOptions,
  type WaitSyncOptions,
  SyncObject,
} from './object';
import { invalidType, validateInteger, validateOptionNames } from '../internal/validate';

function mutexOf(value: unknown): Mutex {
  if (value instanceof Mutex) return value;
  if (value instanceof MutexGuard) return value.mutex;
  throw invalidType('mutex', 'an instance of Mutex or MutexGuard', value);
}

export class Condition extends SyncObject {
  static readonly byteLength = CONDITION_BYTES;
  static readonly alignment = ALIGNMENT;

  private constructor(place: Place) {
    super(place, Kind.Condition, 'Condition');
  }

  static initAt(shm: SharedMemory, byteOffset: number): Condition {
    return new Condition(initAt(Kind.Condition, shm, byteOffset, Condition.byteLength));
  }

  static openAt(shm: SharedMemory, byteOffset: number): Condition {
    return new Condition(attachAt(Kind.Condition, shm, byteOffset, Condition.byteLength)[0]);
  }

  static create(name: string, options?: NamedOptions): Condition {
    validateOptionNames(options, 'options', ['mode']);
    return new Condition(createNamed(Kind.Condition, name, options, Condition.byteLength));
  }

  static open(name: string): Condition {
    return new Condition(openNamed(Kind.Condition, name)[0]);
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
    const seen: number = this.info();
    m.unlock();
    let code: Outcome | undefined;
    let failure: unknown;
    try {
      code = await this.waitOp(Op.CondWait, timeout, seen, signal);
    } catch (err) {
      failure = err;
    }
    await m.lock(); // an OwnerDeadError here wins: the caller must repair first
    if (failure !== undefined) throw failure;
    return code !== Outcome.TimedOut;
  }

  /** Like wait(), blocking this thread. */
  waitSync(mutex: Mutex | MutexGuard, options?: WaitSyncOptions): boolean {
    const m = mutexOf(mutex);
    const timeout = waitSyncOptions(options);
    const seen: number = this.info();
    m.unlock();
    let code: Outcome | undefined;
    let failure: unknown;
    try {
      code = this.waitOpSync(Op.CondWait, timeout, seen);
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
    return this.releaseOp(Rel.CondNotify, count) as number;
  }

  /** Wakes every waiter; returns how many were woken. */
  notifyAll(): number {
    return this.releaseOp(Rel.CondNotify, SYNC_NOTIFY_ALL) as number;
  }
}
