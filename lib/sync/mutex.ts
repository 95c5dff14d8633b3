// Mutex: a process-shared lock that survives its holder's death (see docs/design.md, "Synchronisation").
// The holder is the thread that locked it (the JS thread for lock(), lockSync() and tryLock() alike);
// if that thread's process dies, the next locker gets an OwnerDeadError carrying the guard.
import { native } from '../internal/binding';
import { SharedMemory } from '../shm/shared-memory';
import {
  acquireAsync, ALIGNMENT, createNamed, Kind, Op, openNamed, Outcome, Place, placement, Rel, waitOptions, waitSyncOptions,
  MUTEX_BYTES,
  type NamedOptions, type WaitOptions, type WaitSyncOptions,
  SyncObject,
} from './object';
import { OwnerDeadError, TimeoutError } from './errors';

/** Proof of holding a Mutex; `using` (or unlock()) releases it once. */
export class MutexGuard implements Disposable {
  readonly mutex: Mutex;
  /** True when this acquisition found the previous owner dead (until markConsistent()). */
  ownerDied: boolean;
  #released = false;
  /** @internal */
  constructor(mutex: Mutex, ownerDied: boolean) {
    this.mutex = mutex;
    this.ownerDied = ownerDied;
  }
  get released(): boolean {
    return this.#released;
  }
  /** Marks the protected data repaired after an owner death. */
  markConsistent(): void {
    this.mutex.markConsistent();
    this.ownerDied = false;
  }
  /** Unlocks; later calls do nothing. */
  unlock(): void {
    if (this.#released) return;
    this.#released = true;
    this.mutex.unlock();
  }
  [Symbol.dispose](): void {
    this.unlock();
  }
}

export class Mutex extends SyncObject {
  /** Bytes a Mutex takes in a SharedMemory. */
  static readonly byteLength = MUTEX_BYTES;
  /** Required alignment of its byte offset (64 is best: one cache line). */
  static readonly alignment = ALIGNMENT;

  private constructor(place: Place) {
    super(place);
  }

  /** Initialises a new Mutex at `byteOffset` of `shm` (overwrites whatever was there). */
  static initAt(shm: SharedMemory, byteOffset: number): Mutex {
    const [s, off] = placement(shm, byteOffset, Mutex.byteLength);
    native.syncInit(Kind.Mutex, SharedMemory.handleOf(s), off, 0);
    return Mutex.openAt(s, off);
  }

  /** Uses the Mutex that initAt() placed at `byteOffset` of `shm`; ERR_SYNC_LAYOUT_MISMATCH if there is none. */
  static openAt(shm: SharedMemory, byteOffset: number): Mutex {
    const [s, off] = placement(shm, byteOffset, Mutex.byteLength);
    native.syncAttach(Kind.Mutex, SharedMemory.handleOf(s), off);
    return new Mutex(new Place(s, off, false));
  }

  /** Creates a named Mutex in a segment of its own (EEXIST if the name exists). */
  static create(name: string, options?: NamedOptions): Mutex {
    return new Mutex(createNamed(name, options, Mutex.byteLength, (p) => {
      native.syncInit(Kind.Mutex, p.handle('Mutex'), 0, 0);
      native.syncAttach(Kind.Mutex, p.handle('Mutex'), 0);
    }));
  }

  /** Opens a named Mutex made by create(). */
  static open(name: string): Mutex {
    return new Mutex(openNamed(name, (p) => native.syncAttach(Kind.Mutex, p.handle('Mutex'), 0)));
  }

  /** Kernel thread id of the holder (0 when free). A snapshot, for diagnostics. */
  get owner(): number {
    return native.syncInfo(Kind.Mutex, this.place.handle('Mutex'), this.place.offset).owner;
  }
  /** True when the calling thread holds it. */
  get isHeld(): boolean {
    const i = native.syncInfo(Kind.Mutex, this.place.handle('Mutex'), this.place.offset);
    return i.owner === i.self;
  }

  #guard(code: number): MutexGuard {
    const guard = new MutexGuard(this, code === Outcome.OwnerDead);
    if (code === Outcome.OwnerDead) throw new OwnerDeadError<MutexGuard>('Mutex', guard);
    return guard;
  }

  /**
   * Waits for the lock without blocking the event loop. Resolves with a guard; rejects with an
   * OwnerDeadError (holding the lock, `err.guard`) when the previous owner died, a TimeoutError,
   * an AbortError, or ENOTRECOVERABLE.
   */
  async lock(options?: WaitOptions): Promise<MutexGuard> {
    const { timeout, signal } = waitOptions(options);
    const handle = this.place.handle('Mutex');
    // Free lock: take it on this thread at once (no native promise, no waiter thread).
    if (!signal?.aborted) {
      const now = native.syncTry(Op.MutexLock, handle, this.place.offset);
      if (now !== Outcome.Busy) return this.#guard(now);
    }
    const code = await acquireAsync(Op.MutexLock, handle, this.place.offset, timeout, 0, signal, this);
    if (code === Outcome.TimedOut) throw new TimeoutError('Mutex.lock', timeout);
    return this.#guard(code);
  }

  /** Blocks this thread until the lock is free (for worker threads and scripts). EDEADLK if this thread holds it. */
  lockSync(options?: WaitSyncOptions): MutexGuard {
    const timeout = waitSyncOptions(options);
    const code = native.syncAcquireSync(Op.MutexLock, this.place.handle('Mutex'), this.place.offset, timeout, 0);
    if (code === Outcome.TimedOut) throw new TimeoutError('Mutex.lockSync', timeout);
    return this.#guard(code);
  }

  /** Takes the lock if it is free: true when taken (unlock with unlock()). Throws OwnerDeadError as lock() does. */
  tryLock(): boolean {
    const code = native.syncTry(Op.MutexLock, this.place.handle('Mutex'), this.place.offset);
    if (code === Outcome.Busy) return false;
    this.#guard(code);
    return true;
  }

  /** Releases the lock; EPERM unless the calling thread holds it. */
  unlock(): void {
    native.syncRelease(Rel.MutexUnlock, this.place.handle('Mutex'), this.place.offset);
  }

  /** After an OwnerDeadError: the data is repaired. EPERM unless held by this thread; EINVAL if consistent. */
  markConsistent(): void {
    native.syncMarkConsistent(Kind.Mutex, this.place.handle('Mutex'), this.place.offset);
  }

  /**
   * Stops using this Mutex. A named Mutex closes its segment; if this thread still holds the lock,
   * closing abandons it (the next locker gets OwnerDeadError, as if this process had died).
   */

}
