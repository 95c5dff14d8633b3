// Mutex: a process-shared lock that survives its holder's death (see docs/design/sync.md).
// The holder is the thread that locked it (the JS thread for lock(), lockSync() and tryLock() alike);
// if that thread's process dies, the next locker gets an OwnerDeadError carrying the guard.
import type { SharedMemory } from '../shm/shared-memory';
import { MUTEX_BYTES } from '../internal/contract';
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
  timedOut,
  waitSyncOptions,
  type NamedOptions,
  type WaitOptions,
  type WaitSyncOptions,
  SyncObject,
} from './object';
import { HELD, type HeldToken, LockGuard } from './guard';
import { OwnerDeadError } from './errors';
import { validateOptionNames } from '../internal/validate';

/** Proof of holding a Mutex; `using` (or unlock()) releases it once. */
export class MutexGuard extends LockGuard {
  readonly mutex: Mutex;
  /** Guards come from lock() and its forms. */
  constructor(token: HeldToken, mutex: Mutex, ownerDied: boolean) {
    super(token, ownerDied);
    this.mutex = mutex;
  }
  protected free(): void {
    this.mutex.unlock();
  }
  protected repair(): void {
    this.mutex.markConsistent();
  }
}

export class Mutex extends SyncObject {
  /** Bytes a Mutex takes in a SharedMemory. */
  static readonly byteLength = MUTEX_BYTES;
  /** Required alignment of its byte offset (64 is best: one cache line). */
  static readonly alignment = ALIGNMENT;

  private constructor(place: Place) {
    super(place, Kind.Mutex, 'Mutex');
  }

  /** Initialises a new Mutex at `byteOffset` of `shm` (overwrites whatever was there). */
  static initAt(shm: SharedMemory, byteOffset: number): Mutex {
    return new Mutex(initAt(Kind.Mutex, shm, byteOffset, Mutex.byteLength));
  }

  /** Uses the Mutex that initAt() placed at `byteOffset` of `shm`; ERR_SYNC_LAYOUT_MISMATCH if there is none. */
  static openAt(shm: SharedMemory, byteOffset: number): Mutex {
    return new Mutex(attachAt(Kind.Mutex, shm, byteOffset, Mutex.byteLength)[0]);
  }

  /** Creates a named Mutex in a segment of its own (EEXIST if the name exists). */
  static create(name: string, options?: NamedOptions): Mutex {
    validateOptionNames(options, 'options', ['mode']);
    return new Mutex(createNamed(Kind.Mutex, name, options, Mutex.byteLength));
  }

  /** Opens a named Mutex made by create(). */
  static open(name: string): Mutex {
    return new Mutex(openNamed(Kind.Mutex, name)[0]);
  }

  /** Kernel thread id of the holder (0 when free). A snapshot, for diagnostics. */
  get owner(): number {
    return this.info().owner;
  }
  /** True when the calling thread holds it. */
  get isHeld(): boolean {
    const i = this.info();
    return i.owner === i.self;
  }

  #guard(code: number): MutexGuard {
    this.keepOrUndo(code, Rel.MutexUnlock, Rel.MutexAbandon); // closed while the lock came: give it back
    const guard = new MutexGuard(HELD, this, code === Outcome.OwnerDead);
    if (code === Outcome.OwnerDead) throw new OwnerDeadError<MutexGuard>('Mutex', guard);
    return guard;
  }

  /**
   * Waits for the lock without blocking the event loop. Resolves with a guard; rejects with an
   * OwnerDeadError (holding the lock, `err.guard`) when the previous owner died, a TimeoutError,
   * an AbortError, or ENOTRECOVERABLE.
   */
  async lock(options?: WaitOptions): Promise<MutexGuard> {
    const code = this.acquireOp(Op.MutexLock, options, 'Mutex.lock');
    return this.#guard(typeof code === 'number' ? code : await code);
  }

  /** Blocks this thread until the lock is free (for worker threads and scripts). EDEADLK if this thread holds it. */
  lockSync(options?: WaitSyncOptions): MutexGuard {
    const timeout = waitSyncOptions(options);
    return this.#guard(timedOut(this.waitOpSync(Op.MutexLock, timeout, 0), 'Mutex.lockSync', timeout));
  }

  /** Takes the lock if it is free: true when taken (unlock with unlock()). Throws OwnerDeadError as lock() does. */
  tryLock(): boolean {
    const code = this.tryOp(Op.MutexLock);
    if (code === Outcome.Busy) return false;
    if (code !== Outcome.Acquired) this.#guard(code); // throws OwnerDeadError (with its guard)
    return true; // no guard: tryLock() is undone by unlock()
  }

  /** Releases the lock; EPERM unless the calling thread holds it. */
  unlock(): void {
    this.releaseOp(Rel.MutexUnlock);
  }

  /** After an OwnerDeadError: the data is repaired. EPERM unless held by this thread; EINVAL if consistent. */
  markConsistent(): void {
    this.markConsistentOp();
  }

  /**
   * Stops using this Mutex. Its pending lock() calls reject with ERR_INVALID_STATE (nothing stays
   * taken for them). A named Mutex closes its segment; if this thread still holds the lock, closing
   * abandons it (the next locker gets OwnerDeadError, as if this process had died).
   */
  override close(): void {
    super.close();
  }
}
