// Semaphore: a process-shared counting semaphore. By default permits are not owned: any thread of any
// process may release, and a process that dies holding permits does not return them (as POSIX sem_t
// and Python's multiprocessing.Semaphore). With { robust: true } permits are owned by the acquiring
// thread and a dead holder's permits come back. See docs/design.md.
import { native } from '../internal/binding';
import { SharedMemory } from '../shm/shared-memory';
import {
  acquireAsync, ALIGNMENT, createNamed, Kind, Op, openNamed, Outcome, Place, placement, Rel, waitOptions, waitSyncOptions,
  SEMAPHORE_BYTES, SEMAPHORE_MAX_VALUE, SEMAPHORE_ROBUST_BYTES, SEMAPHORE_ROBUST_FLAG,
  type NamedOptions, type WaitOptions, type WaitSyncOptions,
  SyncObject,
} from './object';
import { TimeoutError } from './errors';
import { validateBoolean, validateInteger, validateObject } from '../internal/validate';

const MAX_VALUE = SEMAPHORE_MAX_VALUE;

export interface SemaphoreOptions {
  /** Initial number of permits (0 to 2^31 - 1); default 1. */
  value?: number;
  /**
   * Owned permits: only a thread holding permits may release them (EPERM otherwise), at most 32
   * threads hold permits at once, and the permits of a holder that dies (SIGKILL included) return
   * to the count at once. Takes Semaphore.robustByteLength bytes instead of Semaphore.byteLength.
   */
  robust?: boolean;
}

/** One acquired permit; `using` (or release()) gives it back once. */
export class SemaphorePermit implements Disposable {
  readonly semaphore: Semaphore;
  #released = false;
  /** @internal */
  constructor(semaphore: Semaphore) {
    this.semaphore = semaphore;
  }
  get released(): boolean {
    return this.#released;
  }
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.semaphore.release();
  }
  [Symbol.dispose](): void {
    this.release();
  }
}

function initialValue(options: unknown): [number, boolean] {
  if (options === undefined) return [1, false];
  validateObject(options, 'options');
  let robust = false;
  if (options.robust !== undefined) {
    validateBoolean(options.robust, 'options.robust');
    robust = options.robust;
  }
  if (options.value === undefined) return [1, robust];
  validateInteger(options.value, 'options.value', 0, MAX_VALUE);
  return [options.value, robust];
}

const ROBUST_BYTES = SEMAPHORE_ROBUST_BYTES;

export class Semaphore extends SyncObject {
  /** Bytes of an ownerless Semaphore. */
  static readonly byteLength = SEMAPHORE_BYTES;
  /** Bytes of a robust Semaphore ({ robust: true }). */
  static readonly robustByteLength = ROBUST_BYTES;
  static readonly alignment = ALIGNMENT;
  static readonly maxValue = MAX_VALUE;

  private constructor(place: Place) {
    super(place);
  }

  static initAt(shm: SharedMemory, byteOffset: number, options?: SemaphoreOptions): Semaphore {
    const [value, robust] = initialValue(options);
    const [s, off] = placement(shm, byteOffset, robust ? ROBUST_BYTES : Semaphore.byteLength);
    native.syncInit(Kind.Semaphore, SharedMemory.handleOf(s), off, value, robust ? SEMAPHORE_ROBUST_FLAG : 0);
    return Semaphore.openAt(s, off);
  }

  static openAt(shm: SharedMemory, byteOffset: number): Semaphore {
    const [s, off] = placement(shm, byteOffset, Semaphore.byteLength);
    native.syncAttach(Kind.Semaphore, SharedMemory.handleOf(s), off);
    return new Semaphore(new Place(s, off, false));
  }

  static create(name: string, options?: SemaphoreOptions & NamedOptions): Semaphore {
    const [value, robust] = initialValue(options);
    return new Semaphore(createNamed(name, options, robust ? ROBUST_BYTES : Semaphore.byteLength, (p) => {
      native.syncInit(Kind.Semaphore, p.handle('Semaphore'), 0, value, robust ? SEMAPHORE_ROBUST_FLAG : 0);
      native.syncAttach(Kind.Semaphore, p.handle('Semaphore'), 0);
    }));
  }

  static open(name: string): Semaphore {
    return new Semaphore(openNamed(name, (p) => native.syncAttach(Kind.Semaphore, p.handle('Semaphore'), 0)));
  }

  /** Permits available now (a snapshot). */
  get value(): number {
    return native.syncInfo(Kind.Semaphore, this.place.handle('Semaphore'), this.place.offset).value;
  }
  /** True for a robust Semaphore (owned permits, returned when a holder dies). */
  get robust(): boolean {
    return native.syncInfo(Kind.Semaphore, this.place.handle('Semaphore'), this.place.offset).robust;
  }
  /** Robust mode: permits the calling thread holds (0 in ownerless mode). */
  get held(): number {
    return native.syncInfo(Kind.Semaphore, this.place.handle('Semaphore'), this.place.offset).held;
  }

  /** Waits for a permit without blocking the event loop. */
  async acquire(options?: WaitOptions): Promise<SemaphorePermit> {
    const { timeout, signal } = waitOptions(options);
    const handle = this.place.handle('Semaphore');
    // A permit is free: take it on this thread at once (no native promise, no waiter thread).
    if (!signal?.aborted && native.syncTry(Op.SemAcquire, handle, this.place.offset) === Outcome.Acquired) {
      return new SemaphorePermit(this);
    }
    const code = await acquireAsync(Op.SemAcquire, handle, this.place.offset, timeout, 0, signal, this);
    if (code === Outcome.TimedOut) throw new TimeoutError('Semaphore.acquire', timeout);
    return new SemaphorePermit(this);
  }

  /** Blocks this thread until a permit is available. */
  acquireSync(options?: WaitSyncOptions): SemaphorePermit {
    const timeout = waitSyncOptions(options);
    const code = native.syncAcquireSync(Op.SemAcquire, this.place.handle('Semaphore'), this.place.offset, timeout, 0);
    if (code === Outcome.TimedOut) throw new TimeoutError('Semaphore.acquireSync', timeout);
    return new SemaphorePermit(this);
  }

  /** Takes a permit if one is available: true when taken (give it back with release()). */
  tryAcquire(): boolean {
    return native.syncTry(Op.SemAcquire, this.place.handle('Semaphore'), this.place.offset) === Outcome.Acquired;
  }

  /**
   * Adds `count` permits (default 1) and wakes as many waiters. EOVERFLOW beyond 2^31 - 1 permits.
   * Robust mode: gives back permits the calling thread holds; EPERM if it holds fewer than `count`.
   */
  release(count = 1): void {
    validateInteger(count, 'count', 0, MAX_VALUE);
    native.syncRelease(Rel.SemRelease, this.place.handle('Semaphore'), this.place.offset, count);
  }

}
