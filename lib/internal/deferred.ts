// The one promise with a timeout and an AbortSignal: every wait of the library that is not a native
// job (a channel's receive, a drain, a connect, a mailbox waiter) settles through it, so a timeout is
// always a TimeoutError, an abort always an AbortError carrying the signal's reason, and the timer
// and the abort listener never outlive the wait.
import { AbortError, TimeoutError } from './errors';

export interface DeferredOptions {
  /** Milliseconds before the promise rejects with a TimeoutError; undefined: no limit. */
  timeout?: number | undefined;
  /** Rejects the promise with an AbortError (cause: the signal's reason) when aborted. */
  signal?: AbortSignal | undefined;
  /** What is waited for, in the TimeoutError's message ("Channel receive timed out after 20 ms"). */
  what: string;
  /**
   * Called once when the wait ends by timeout or abort, before the rejection: take the wait out
   * of whatever queue holds it.
   */
  onCancel?: () => void;
}

/** A pending result: settle it once; later calls are ignored. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (err: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #settled = false;

  constructor(options: DeferredOptions) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const { timeout, signal, what, onCancel } = options;
    if (timeout === undefined && signal === undefined) return; // nothing can cancel it: no closure, no timer
    const cancel = (err: Error) => {
      if (this.#settled) return;
      this.#end();
      onCancel?.();
      this.#reject(err);
    };
    if (signal?.aborted) {
      cancel(new AbortError(undefined, { cause: signal.reason }));
      return;
    }
    if (timeout !== undefined) this.#timer = setTimeout(() => cancel(new TimeoutError(what, timeout)), timeout);
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => cancel(new AbortError(undefined, { cause: signal.reason }));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get settled(): boolean {
    return this.#settled;
  }

  resolve(value: T): void {
    if (this.#settled) return;
    this.#end();
    this.#resolve(value);
  }

  reject(err: unknown): void {
    if (this.#settled) return;
    this.#end();
    this.#reject(err);
  }

  #end(): void {
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}
