// What the five synchronisation classes share: where an object lives (a SharedMemory and a byte
// offset, or a small named segment of its own), option checks, and the async wait with AbortSignal.
import { native, type Handle } from '../internal/binding';
import { SYNC_ALIGNMENT, SyncKind as Kind, SyncOp as Op, SyncOutcome as Outcome, SyncRelease as Rel } from '../internal/contract';
import { abortableNative, AbortError, closedError } from '../internal/errors';
import { SharedMemory } from '../shm/shared-memory';
import { invalidType, OutOfRangeError, validateAbortSignal, validateInteger, validateObject, validateTimeout } from '../internal/validate';

/**
 * Kinds, operation codes, outcomes, sizes and limits shared with native/binding/sync/sync_wrap.cc and
 * native/core/sync: defined in native/contract/contract.json, re-exported here under the names the
 * five classes use.
 */
export { Kind, Op, Rel, Outcome };
export {
  BARRIER_HEADER_BYTES, BARRIER_MAX_PARTIES, BARRIER_PARTY_BYTES, CONDITION_BYTES, MUTEX_BYTES, RWLOCK_BYTES,
  RWLOCK_READERS, SEMAPHORE_BYTES, SEMAPHORE_MAX_VALUE, SEMAPHORE_ROBUST_BYTES, SEMAPHORE_ROBUST_FLAG, SYNC_NOTIFY_ALL,
} from '../internal/contract';

/** Every object's offset must be a multiple of this (64, a cache line, is best). */
export const ALIGNMENT = SYNC_ALIGNMENT;

export interface WaitOptions {
  /** Milliseconds to wait at most; default: no limit. */
  timeout?: number;
  /** Aborts the wait: the promise rejects with an AbortError and nothing is left waiting. */
  signal?: AbortSignal;
}

export interface WaitSyncOptions {
  /** Milliseconds to wait at most; default: no limit. */
  timeout?: number;
  /**
   * Checked once before blocking (AbortError if already aborted): nothing can fire while this
   * thread is blocked, so use `timeout` (or the async form) to bound the wait.
   */
  signal?: AbortSignal;
}

export interface NamedOptions {
  /** Permission bits of the new segment; default 0o600. */
  mode?: number;
}

export function waitOptions(options: unknown): { timeout: number | undefined; signal: AbortSignal | undefined } {
  if (options === undefined) return { timeout: undefined, signal: undefined };
  validateObject(options, 'options');
  const timeout = validateTimeout(options.timeout, 'options.timeout');
  const signal: unknown = options.signal;
  validateAbortSignal(signal, 'options.signal');
  return { timeout, signal };
}

export function waitSyncOptions(options: unknown): number | undefined {
  if (options === undefined) return undefined;
  validateObject(options, 'options');
  if ('signal' in options && options.signal !== undefined) {
    // A signal cannot fire while this thread is blocked; accept one only to fail fast if already aborted.
    validateAbortSignal(options.signal, 'options.signal');
    if ((options.signal as AbortSignal).aborted) throw new AbortError(undefined, { cause: (options.signal as AbortSignal).reason });
  }
  return validateTimeout(options.timeout, 'options.timeout');
}

/** Where an object lives. `own` is set when the object made (and closes) its segment. */
export class Place {
  #shm: SharedMemory;
  readonly offset: number;
  readonly own: boolean;
  #closed = false;
  constructor(shm: SharedMemory, offset: number, own: boolean) {
    this.#shm = shm;
    this.offset = offset;
    this.own = own;
  }
  get shm(): SharedMemory {
    return this.#shm;
  }
  get closed(): boolean {
    return this.#closed || this.#shm.closed;
  }
  handle(what: string): Handle {
    if (this.closed) throw closedError(what);
    return SharedMemory.handleOf(this.#shm);
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.own) this.#shm.close();
  }
}

/**
 * What every synchronisation object shares: the place it lives in (a SharedMemory and a byte offset),
 * close() (detaches this handle; a named object's own segment is unmapped), `using`, and unlink of a
 * named object's name.
 */
export abstract class SyncObject implements Disposable {
  readonly #place: Place;

  protected constructor(place: Place) {
    this.#place = place;
  }

  protected get place(): Place {
    return this.#place;
  }

  /** Removes a named object's name (as SharedMemory.unlink): true if it existed. */
  static unlink(name: string): boolean {
    return SharedMemory.unlink(name);
  }

  get shm(): SharedMemory {
    return this.#place.shm;
  }
  get byteOffset(): number {
    return this.#place.offset;
  }
  get closed(): boolean {
    return this.#place.closed;
  }

  close(): void {
    this.#place.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Checks (shm, byteOffset) for an object of `size` bytes. */
export function placement(shm: unknown, byteOffset: unknown, size: number): [SharedMemory, number] {
  if (!(shm instanceof SharedMemory)) throw invalidType('shm', 'an instance of SharedMemory', shm);
  if (shm.closed) throw closedError('SharedMemory');
  validateInteger(byteOffset, 'byteOffset', 0);
  if (byteOffset % ALIGNMENT !== 0) {
    throw new OutOfRangeError(`The value of "byteOffset" is out of range. It must be a multiple of ${ALIGNMENT}. Received ${byteOffset}`);
  }
  if (byteOffset + size > shm.size) {
    throw new OutOfRangeError(`The value of "byteOffset" is out of range. The object needs ${size} bytes and the SharedMemory has ${shm.size}. Received ${byteOffset}`);
  }
  return [shm, byteOffset];
}

/** Makes a named segment holding one object at offset 0, initialised by `init`; removes it if that fails. */
export function createNamed(name: string, options: unknown, size: number, init: (place: Place) => void): Place {
  if (options !== undefined) validateObject(options, 'options');
  const mode = (options as NamedOptions | undefined)?.mode;
  // The name appears only once the object is initialised, so a racing open() never finds it blank.
  let place: Place | undefined;
  SharedMemory.createInitialized(name, mode === undefined ? { size } : { size, mode }, (shm) => {
    place = new Place(shm, 0, true);
    init(place);
  });
  return place!;
}

export function openNamed(name: string, attach: (place: Place) => void): Place {
  const shm = SharedMemory.open(name);
  const place = new Place(shm, 0, true);
  try {
    attach(place);
  } catch (err) {
    shm.close();
    throw err;
  }
  return place;
}

/**
 * Runs an async acquire (the attempts run on this thread, the sleeps on a native thread) and wires
 * the AbortSignal. Resolves with the outcome code.
 */
export function acquireAsync(op: Op, handle: Handle, offset: number, timeout: number | undefined, arg: number,
  signal: AbortSignal | undefined, keepAlive: object): Promise<Outcome> {
  return abortableNative(signal, () => native.syncAcquireAsync(op, handle, offset, timeout, arg, keepAlive), native.syncCancel);
}
