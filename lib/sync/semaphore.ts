// Semaphore: a process-shared counting semaphore. By default permits are not owned: any thread of any
// process may release, and a process that dies holding permits does not return them (as POSIX sem_t
// and Python's multiprocessing.Semaphore). With { robust: true } permits are owned by the acquiring
// thread and a dead holder's permits come back. See docs/design/sync.md.
import type { SharedMemory } from '../shm/shared-memory';
import { SEMAPHORE_BYTES, SEMAPHORE_MAX_VALUE, SEMAPHORE_ROBUST_BYTES, SEMAPHORE_ROBUST_FLAG } from '../internal/contract';
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
import { HELD, Held, type HeldToken } from './guard';
import { validateBoolean, validateInteger, validateObject, validateOptionNames } from '../internal/validate';

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
export class SemaphorePermit extends Held {
  readonly semaphore: Semaphore;
  /** Permits come from acquire() and its forms. */
  constructor(token: HeldToken, semaphore: Semaphore) {
    super(token);
    this.semaphore = semaphore;
  }
  /** Gives the permit back; later calls do nothing. */
  release(): void {
    this.releaseOnce();
  }
  protected free(): void {
    this.semaphore.release();
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
    super(place, Kind.Semaphore, 'Semaphore');
  }

  static initAt(shm: SharedMemory, byteOffset: number, options?: SemaphoreOptions): Semaphore {
    validateOptionNames(options, 'options', ['value', 'robust']);
    const [value, robust] = initialValue(options);
    return new Semaphore(
      initAt(
        Kind.Semaphore,
        shm,
        byteOffset,
        robust ? ROBUST_BYTES : Semaphore.byteLength,
        value,
        robust ? SEMAPHORE_ROBUST_FLAG : 0,
      ),
    );
  }

  static openAt(shm: SharedMemory, byteOffset: number): Semaphore {
    return new Semaphore(attachAt(Kind.Semaphore, shm, byteOffset, Semaphore.byteLength)[0]);
  }

  static create(name: string, options?: SemaphoreOptions & NamedOptions): Semaphore {
    validateOptionNames(options, 'options', ['value', 'robust', 'mode']);
    const [value, robust] = initialValue(options);
    return new Semaphore(
      createNamed(
        Kind.Semaphore,
        name,
        options,
        robust ? ROBUST_BYTES : Semaphore.byteLength,
        value,
        robust ? SEMAPHORE_ROBUST_FLAG : 0,
      ),
    );
  }

  static open(name: string): Semaphore {
    return new Semaphore(openNamed(Kind.Semaphore, name)[0]);
  }

  /** Permits available now (a snapshot). */
  get value(): number {
    return this.info().value;
  }
  /** True for a robust Semaphore (owned permits, returned when a holder dies). */
  get robust(): boolean {
    return this.info().robust;
  }
  /** Robust mode: permits the calling thread holds (0 in ownerless mode). */
  get held(): number {
    return this.info().held;
  }

  /** Waits for a permit without blocking the event loop. */
  async acquire(options?: WaitOptions): Promise<SemaphorePermit> {
    const code = this.acquireOp(Op.SemAcquire, options, 'Semaphore.acquire');
    this.keepOrUndo(typeof code === 'number' ? code : await code, Rel.SemRelease); // closed meanwhile: give it back
    return new SemaphorePermit(HELD, this);
  }

  /** Blocks this thread until a permit is available. */
  acquireSync(options?: WaitSyncOptions): SemaphorePermit {
    const timeout = waitSyncOptions(options);
    timedOut(this.waitOpSync(Op.SemAcquire, timeout, 0), 'Semaphore.acquireSync', timeout);
    return new SemaphorePermit(HELD, this);
  }

  /** Takes a permit if one is available: true when taken (give it back with release()). */
  tryAcquire(): boolean {
    return this.tryOp(Op.SemAcquire) === Outcome.Acquired;
  }

  /**
   * Adds `count` permits (default 1) and wakes as many waiters. EOVERFLOW beyond 2^31 - 1 permits.
   * Robust mode: gives back permits the calling thread holds; EPERM if it holds fewer than `count`.
   */
  release(count = 1): void {
    validateInteger(count, 'count', 0, MAX_VALUE);
    this.releaseOp(Rel.SemRelease, count);
  }
}
