// Links, as Erlang has them: parties that fail together. link(targets) watches each target with a
// monitor; the first that goes down breaks the link: its `signal` aborts, every operation it guards
// rejects with one ERR_PROCESS_DOWN error naming the dead process (and how it ended), and with
// { exit: true } this process itself fails (the error is thrown, uncaught, as Erlang's exit signal
// ends a linked process that does not trap exits). A monitor, by contrast, only reports.
import { InterprocError } from '../internal/errors';
import { TypedEmitter } from '../internal/typed-emitter';
import { type DownInfo, type Monitor, type MonitorTarget, monitor } from './monitor';

export interface LinkOptions {
  /** When the link breaks, throw its error as an uncaught exception too: this process fails with the target (default false). */
  exit?: boolean;
}

/** The error of a broken link: ERR_PROCESS_DOWN, with the down record and what it names. */
export interface ProcessDownError extends InterprocError {
  readonly down: DownInfo;
  readonly pid: number | null;
  readonly member?: number;
}

export type LinkEvents = {
  /** Once, when the first linked target goes down; guarded operations have just been rejected. */
  down: (error: ProcessDownError) => void;
};

function downError(info: DownInfo): ProcessDownError {
  const err = new InterprocError('ERR_PROCESS_DOWN', `a linked process went down: ${info.description}`);
  return Object.assign(err, {
    down: info,
    pid: info.pid,
    ...(info.member === undefined ? {} : { member: info.member }),
    ...(info.code === null ? {} : { exitCode: info.code }),
    ...(info.signal === null ? {} : { signal: info.signal }),
  }) as ProcessDownError;
}

const CONSTRUCT: unique symbol = Symbol('interproc.Link');

export class Link extends TypedEmitter<LinkEvents> {
  readonly #monitors: Monitor[];
  readonly #abort = new AbortController();
  readonly #rejects = new Set<(err: Error) => void>();
  #error: ProcessDownError | undefined;

  /** Links come from link(); the token cannot be had outside the library. */
  constructor(token: typeof CONSTRUCT, targets: readonly MonitorTarget[], options: LinkOptions) {
    super();
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use link()');
    this.#monitors = targets.map((t) => monitor(t));
    for (const m of this.#monitors) m.on('down', (info) => this.#break(info, options.exit === true));
  }

  /** Aborted (with the ProcessDownError as its reason) when the link breaks: pass it to any operation. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The error once the link broke, else undefined. */
  get error(): ProcessDownError | undefined {
    return this.#error;
  }

  get broken(): boolean {
    return this.#error !== undefined;
  }

  /**
   * Runs `op` (a promise, or a function given this link's signal) so that it rejects with the
   * link's ProcessDownError when a linked target goes down first, and with it too when the op
   * itself rejects because of that (an AbortError caused by the signal, a dead peer).
   */
  guard<T>(op: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>)): Promise<T> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    let p: PromiseLike<T>;
    try {
      p = typeof op === 'function' ? op(this.#abort.signal) : op;
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      this.#rejects.add(reject);
      p.then(
        (v) => {
          this.#rejects.delete(reject);
          resolve(v);
        },
        (err: unknown) => {
          this.#rejects.delete(reject);
          reject(this.#error ?? err);
        },
      );
    });
  }

  /** Stops watching every target (Erlang's unlink); a link that broke stays broken. */
  unlink(): void {
    for (const m of this.#monitors) m.demonitor();
  }

  /** Lets the process exit while the link waits (links keep it alive by default, as monitors do). */
  unref(): this {
    for (const m of this.#monitors) m.unref();
    return this;
  }

  ref(): this {
    for (const m of this.#monitors) m.ref();
    return this;
  }

  #break(info: DownInfo, exit: boolean): void {
    if (this.#error !== undefined) return;
    const err = downError(info);
    this.#error = err;
    this.unlink();
    for (const reject of [...this.#rejects]) reject(err);
    this.#rejects.clear();
    this.#abort.abort(err);
    this.emit('down', err);
    if (exit) {
      process.nextTick(() => {
        throw err;
      });
    }
  }
}

/** Links this process to `targets` (one or several): the first of them to go down breaks the link. */
export function link(targets: MonitorTarget | readonly MonitorTarget[], options: LinkOptions = {}): Link {
  return new Link(CONSTRUCT, Array.isArray(targets) ? targets : [targets as MonitorTarget], options);
}
