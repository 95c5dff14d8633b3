// What the five synchronisation classes share: where an object lives (a SharedMemory and a byte
// offset, or a small named segment of its own), how it is set up there (the factories' steps),
// option checks, the native calls on it, and the async wait with AbortSignal.
import { native, type Handle } from '../internal/binding';
import * as contract from '../internal/contract';
import { SYNC_ALIGNMENT } from '../internal/contract';
import { abortableNative, AbortError, closedError, codeOf, TimeoutError } from '../internal/errors';
import { SharedMemory } from '../shm/shared-memory';
import {
  invalidType,
  OutOfRangeError,
  validateAbortSignal,
  validateInteger,
  validateObject,
  validateOptionNames,
  validateTimeout,
} from '../internal/validate';

/**
 * Kinds, operation codes and outcomes shared with native/binding/sync/sync_wrap.cc and native/core/sync:
 * defined in native/contract/contract.json, here under the names the five classes use. (Sizes and
 * limits the classes import from lib/internal/contract.ts themselves.)
 */
// Local constants, not `export { ... } from`: CommonJS re-exports are getters, called on every use.
export const Kind = contract.SyncKind;
export type Kind = contract.SyncKind;
export const Op = contract.SyncOp;
export type Op = contract.SyncOp;
export const Rel = contract.SyncRelease;
export type Rel = contract.SyncRelease;
export const Outcome = contract.SyncOutcome;
export type Outcome = contract.SyncOutcome;
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
  validateOptionNames(options, 'options', ['timeout', 'signal']);
  const timeout = validateTimeout(options.timeout, 'options.timeout');
  const signal: unknown = options.signal;
  validateAbortSignal(signal, 'options.signal');
  return { timeout, signal };
}

export function waitSyncOptions(options: unknown): number | undefined {
  if (options === undefined) return undefined;
  validateObject(options, 'options');
  validateOptionNames(options, 'options', ['timeout', 'signal']);
  if ('signal' in options && options.signal !== undefined) {
    // A signal cannot fire while this thread is blocked; accept one only to fail fast if already aborted.
    validateAbortSignal(options.signal, 'options.signal');
    if ((options.signal as AbortSignal).aborted)
      throw new AbortError(undefined, { cause: (options.signal as AbortSignal).reason });
  }
  return validateTimeout(options.timeout, 'options.timeout');
}

/**
 * Where an object lives. `own` is set when the object made (and closes) its segment. `shape` is what
 * its header said decides its layout when it was opened (Barrier: parties; Semaphore: 1 robust, 0
 * ownerless; else 0): passed back on every native call, so a later rewrite of the header by another
 * process fails with ERR_SYNC_LAYOUT_MISMATCH instead of being followed.
 */
export class Place {
  #shm: SharedMemory;
  readonly offset: number;
  readonly own: boolean;
  readonly shape: number;
  #closed = false;
  constructor(shm: SharedMemory, offset: number, own: boolean, shape: number) {
    this.#shm = shm;
    this.offset = offset;
    this.own = own;
    this.shape = shape;
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
 * close() (detaches this handle; a named object's own segment is unmapped), `using`, unlink of a
 * named object's name, and the native calls on it (every one of which fails with ERR_INVALID_STATE
 * once it is closed).
 */
export abstract class SyncObject implements Disposable {
  readonly #place: Place;
  readonly #kind: Kind;
  readonly #what: string;
  /** Ids of this object's pending async waits: close() ends them. */
  readonly #waits = new Set<number>();

  protected constructor(place: Place, kind: Kind, what: string) {
    this.#place = place;
    this.#kind = kind;
    this.#what = what;
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

  /**
   * Detaches this handle. Its own pending waits (lock(), acquire(), wait()...) reject with
   * ERR_INVALID_STATE and give back whatever they took; a wait-up they consumed goes to another waiter.
   */
  close(): void {
    this.endWaits();
    this.#place.close();
  }

  /** Ends this object's pending async waits, as close() does (they reject with ERR_INVALID_STATE). */
  protected endWaits(): void {
    if (this.#waits.size === 0) return;
    const ids = [...this.#waits];
    this.#waits.clear();
    for (const id of ids) native.syncCancel(id, true);
  }

  /**
   * An acquire resolved with `code`: if this object was closed meanwhile (between the native wait's
   * end and this continuation), gives back what it took (`rel` for Acquired; `abandon`, when given,
   * for OwnerDead: the lock stays owner-dead for the next taker) and throws closedError.
   */
  protected keepOrUndo(code: Outcome, rel: Rel, abandon?: Rel): void {
    if (!this.#place.closed) return;
    const shm = this.#place.shm;
    if (!shm.closed && (code === Outcome.Acquired || code === Outcome.OwnerDead)) {
      const r = code === Outcome.OwnerDead && abandon !== undefined ? abandon : rel;
      native.syncRelease(r, SharedMemory.handleOf(shm), this.#place.offset, undefined, this.#place.shape);
    }
    throw closedError(this.#what);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The handle of its memory; ERR_INVALID_STATE once closed. */
  protected handle(): Handle {
    return this.#place.handle(this.#what);
  }

  /** A snapshot of its state, as native/binding/sync/sync_wrap.cc gives it for the kind. */
  // biome-ignore lint/suspicious/noExplicitAny: the shape depends on the kind; each class reads its own fields
  protected info(): any {
    return native.syncInfo(this.#kind, this.handle(), this.#place.offset, this.#place.shape);
  }

  /** One attempt of `op` on this thread: the outcome (Busy when taken, also by this thread). */
  protected tryOp(op: Op): Outcome {
    return native.syncTry(op, this.handle(), this.#place.offset, this.#place.shape);
  }

  /**
   * `op` for a Promise method: taken at once on this thread when free (no native promise, no waiter
   * thread), else waited for off the thread. The outcome, at once or as a promise; a timeout is a
   * TimeoutError naming `what`. Throws on bad options: call it inside an async method.
   */
  protected acquireOp(op: Op, options: unknown, what: string): Outcome | Promise<Outcome> {
    const { timeout, signal } = waitOptions(options);
    if (!signal?.aborted) {
      const now = this.tryOp(op);
      if (now !== Outcome.Busy) return now;
    }
    return this.waitOp(op, timeout, 0, signal).then((code) => timedOut(code, what, timeout));
  }

  /**
   * The async wait of `op` (argument `arg`): resolves with the outcome, TimedOut included. close()
   * of this object ends it with closedError.
   */
  protected waitOp(op: Op, timeout: number | undefined, arg: number, signal: AbortSignal | undefined): Promise<Outcome> {
    let id = 0;
    const place = this.#place;
    const p = abortableNative(
      signal,
      () => {
        const started = native.syncAcquireAsync(op, this.handle(), place.offset, timeout, arg, this, place.shape);
        id = started[1];
        return started;
      },
      native.syncCancel,
    );
    if (id === 0) return p;
    const waits = this.#waits;
    waits.add(id);
    return p.then(
      (code) => {
        waits.delete(id);
        return code;
      },
      (err: unknown) => {
        waits.delete(id);
        if (place.closed && codeOf(err) === 'ERR_INVALID_STATE') throw closedError(this.#what);
        throw err;
      },
    );
  }

  /** The blocking wait of `op` on this thread: the outcome, TimedOut included. */
  protected waitOpSync(op: Op, timeout: number | undefined, arg: number): Outcome {
    return native.syncAcquireSync(op, this.handle(), this.#place.offset, timeout, arg, this.#place.shape);
  }

  /** Releases (unlocks, notifies...) with `rel`; `count` where the operation takes one. */
  protected releaseOp(rel: Rel, count?: number): number | undefined {
    return native.syncRelease(rel, this.handle(), this.#place.offset, count, this.#place.shape);
  }

  /** markConsistent() of a lock after an owner death (Mutex, RwLock). */
  protected markConsistentOp(): void {
    native.syncMarkConsistent(this.#kind, this.handle(), this.#place.offset);
  }
}

/** The outcome of a wait, or the TimeoutError naming `what` if it timed out. */
export function timedOut(code: Outcome, what: string, timeout: number | undefined): Outcome {
  if (code === Outcome.TimedOut) throw new TimeoutError(what, timeout);
  return code;
}

/** Checks (shm, byteOffset) for an object of `size` bytes. */
export function placement(shm: unknown, byteOffset: unknown, size: number): [SharedMemory, number] {
  if (!(shm instanceof SharedMemory)) throw invalidType('shm', 'an instance of SharedMemory', shm);
  if (shm.closed) throw closedError('SharedMemory');
  validateInteger(byteOffset, 'byteOffset', 0);
  if (byteOffset % ALIGNMENT !== 0) {
    throw new OutOfRangeError(
      `The value of "byteOffset" is out of range. It must be a multiple of ${ALIGNMENT}. Received ${byteOffset}`,
    );
  }
  if (byteOffset + size > shm.size) {
    throw new OutOfRangeError(
      `The value of "byteOffset" is out of range. The object needs ${size} bytes and the SharedMemory has ${shm.size}. Received ${byteOffset}`,
    );
  }
  return [shm, byteOffset];
}

/**
 * The factories' steps, the same for the five kinds. `size` is the object's bytes (what must fit at
 * the offset); `param` and `flags` go to its header (Barrier: parties; Semaphore: value, robust).
 */

/** initAt(): writes a fresh object of `kind` at `byteOffset` of `shm`, then attaches to it. */
export function initAt(kind: Kind, shm: unknown, byteOffset: unknown, size: number, param = 0, flags = 0): Place {
  const [s, off] = placement(shm, byteOffset, size);
  native.syncInit(kind, SharedMemory.handleOf(s), off, param, flags);
  return attachAt(kind, s, off, size)[0];
}

/**
 * openAt(): attaches to the object of `kind` that initAt() placed there (ERR_SYNC_LAYOUT_MISMATCH
 * if there is none). Also returns its shape (Place.shape: a Barrier's parties).
 */
export function attachAt(kind: Kind, shm: unknown, byteOffset: unknown, size: number): [Place, number] {
  const [s, off] = placement(shm, byteOffset, size);
  const shape = native.syncAttach(kind, SharedMemory.handleOf(s), off);
  return [new Place(s, off, false, shape), shape];
}

/**
 * create(): a named segment holding one object of `kind` at offset 0 (EEXIST if the name exists).
 * The name appears only once the object is initialised, so a racing open() never finds it blank;
 * the segment is removed if that fails.
 */
export function createNamed(kind: Kind, name: string, options: unknown, size: number, param = 0, flags = 0): Place {
  if (options !== undefined) validateObject(options, 'options');
  const mode = (options as NamedOptions | undefined)?.mode;
  let place: Place | undefined;
  SharedMemory.createInitialized(name, mode === undefined ? { size } : { size, mode }, (shm) => {
    const h = SharedMemory.handleOf(shm);
    native.syncInit(kind, h, 0, param, flags);
    place = new Place(shm, 0, true, native.syncAttach(kind, h, 0));
  });
  return place!;
}

/** open(): the named object of `kind` made by create(). Also returns its shape (as attachAt). */
export function openNamed(kind: Kind, name: string): [Place, number] {
  const shm = SharedMemory.open(name);
  try {
    const shape = native.syncAttach(kind, SharedMemory.handleOf(shm), 0);
    return [new Place(shm, 0, true, shape), shape];
  } catch (err) {
    shm.close();
    throw err;
  }
}
