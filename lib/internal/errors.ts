// The one module that builds the library's errors. Codes come from the catalogue (docs/errors.md),
// defined once in native/contract/contract.json; system errors (code/errno/syscall/path, as Node's
// fs gives) are built natively in one place (native/binding/internal/errors.cc).
import type { ErrorCode } from './contract';

export type { ErrorCode };

/** A library condition: `code` is one of the catalogue's (docs/errors.md). */
export class InterprocError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Error';
    this.code = code;
  }
}

/** The code of an error, or undefined: what control flow may look at (never the message). */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Every use of a closed object, and every pending call that close() ends. */
export function closedError(what: string): InterprocError {
  return new InterprocError('ERR_INVALID_STATE', `${what} is closed`);
}

/** Every timeout of the library: `code` 'ETIMEDOUT'; nothing was taken or sent. */
export class TimeoutError extends InterprocError {
  constructor(what: string, ms: number | undefined, options?: { cause?: unknown }) {
    super('ETIMEDOUT', ms === undefined ? `${what} timed out` : `${what} timed out after ${ms} ms`, options);
    this.name = 'TimeoutError';
  }
}

/** The error of an aborted operation, shaped like Node's AbortError. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** Turns a native ABORT_ERR rejection into an AbortError carrying the signal's reason. */
export function asAbortError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (err instanceof Error && (err as { code?: string }).code === 'ABORT_ERR' && !(err instanceof AbortError)) {
    return new AbortError(undefined, { cause: signal?.reason });
  }
  return err;
}

/** Where an async native call started: the frames of its caller, captured synchronously. */
export interface CallSite {
  stack?: string;
}

/**
 * Gives `err` the stack of `site` (as sharp does): a rejection made by native code after the call
 * returned (on the event loop, from a pool thread's result) has no JS frames of its own, so the
 * caller's function would be missing from err.stack. The error keeps its class, message and
 * properties; only the frames are replaced.
 */
export function withCallerStack(err: unknown, site: CallSite): unknown {
  if (!(err instanceof Error) || typeof site.stack !== 'string') return err;
  const own = typeof err.stack === 'string' ? err.stack : `${err.name}: ${err.message}`;
  const framesAt = own.indexOf('\n    at ');
  const header = framesAt === -1 ? own : own.slice(0, framesAt);
  const siteFrames = site.stack.indexOf('\n');
  err.stack = siteFrames === -1 ? header : header + site.stack.slice(siteFrames);
  return err;
}

/**
 * Starts a native wait that returns [promise, jobId] (jobId 0: already settled) and ties it to an
 * AbortSignal: an abort cancels the native job (which then rejects with ABORT_ERR, reported as an
 * AbortError carrying the signal's reason), and the listener is removed when the wait settles.
 * Never throws: an error of `start` (a bad argument, a closed object) is the promise's rejection. A
 * rejection that comes later carries the caller's stack (withCallerStack), captured only for a wait
 * that is really pending (an error made during the call has that stack already).
 */
export function abortableNative<T>(
  signal: AbortSignal | undefined,
  start: () => [Promise<T>, number],
  cancel: (jobId: number) => unknown,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
  let promise: Promise<T>, id: number;
  try {
    [promise, id] = start();
  } catch (err) {
    return Promise.reject(err);
  }
  if (id === 0) return promise;
  const site: CallSite = {};
  Error.captureStackTrace(site, abortableNative);
  if (signal === undefined)
    return promise.catch((err) => {
      throw withCallerStack(err, site);
    });
  const onAbort = () => cancel(id);
  signal.addEventListener('abort', onAbort, { once: true });
  return promise.then(
    (r) => {
      signal.removeEventListener('abort', onAbort);
      return r;
    },
    (err) => {
      signal.removeEventListener('abort', onAbort);
      throw withCallerStack(asAbortError(err, signal), site);
    },
  );
}
