// Message channels over Unix-domain sockets (stream, seqpacket, datagram) and TCP, with fd passing
// and peer credentials. The native layer only makes syscalls on non-blocking fds; readiness comes
// from an FdWatcher (a libuv poll handle on this thread's loop). This file is the Channel itself:
// its lifecycle, its inbox and its public API. Sending is send-queue.ts, reading stream-reader.ts
// and packet-reader.ts; channels come from connect.ts (connect) and server.ts (a Server).
import { TypedEmitter } from '../internal/typed-emitter';
import { native, type FdWatcher } from '../internal/binding';
import { closedError, InterprocError } from '../internal/errors';
import { Deferred } from '../internal/deferred';
import {
  invalidType,
  OutOfRangeError,
  validateAbortSignal,
  validateInteger,
  validateObject,
  validateOptionNames,
  validateTimeout,
} from '../internal/validate';
import { publicAddress, type ResolvedAddress } from './address';
import { encode } from './codec';
import { POLL_DISCONNECT, POLL_READABLE, POLL_WRITABLE } from './constants';
import { closeFds, NO_FDS, pollError } from './io';
import { PacketReader } from './packet-reader';
import type { Reader, ReaderHost } from './readers';
import { SendQueue } from './send-queue';
import { CLOSE_OPTIONS, SEND_OPTIONS, type Settings, WAIT_OPTIONS } from './settings';
import { StreamReader } from './stream-reader';
import type { Message, PeerCredentials, ReceiveOptions, SocketKind } from './types';

/** Fails with code ERR_MESSAGE_TOO_LARGE (a RangeError: the caller's message, nothing was queued). */
class MessageTooLargeError extends RangeError {
  readonly code = 'ERR_MESSAGE_TOO_LARGE';
}

/** What a datagram hub (datagram-hub.ts) reaches of a server-side datagram channel it feeds. */
export interface HubEndpoint {
  /** A datagram from this channel's peer; false when the channel's inbox is now full (pause reading). */
  deliver(buf: Buffer, offset: number, n: number, fds: number[], bits: number): boolean;
  /** Reading is paused because this channel's inbox is full. */
  readonly paused: boolean;
}

/** What such a channel reaches of its hub: it reads, the channel sends through the hub's fd. */
export interface HubLink {
  /** Called once, by the channel's constructor. */
  attach(endpoint: HubEndpoint): void;
  /** The channel's inbox has room again. */
  resume(): void;
}

export interface ChannelInit {
  fd: number;
  settings: Settings;
  peer: PeerCredentials | null;
  remote: ResolvedAddress | null;
  to?: Buffer; // datagram server side: the peer's address; reads come from the hub
  hub?: HubLink;
  // biome-ignore lint/suspicious/noExplicitAny: a channel of any message type (Channel<T> is invariant in T)
  onUnhandledError?: (err: Error, channel: Channel<any>) => void;
}

const CONSTRUCT: unique symbol = Symbol('interproc.Channel');

/** @internal A channel over a connected (or accepted) fd, or one fed by a datagram hub. */
export function openChannel<T>(init: ChannelInit): Channel<T> {
  return new Channel<T>(CONSTRUCT, init);
}

interface WaitOptions {
  ms: number | undefined;
  signal: AbortSignal | undefined;
}

const NO_WAIT_OPTIONS: WaitOptions = { ms: undefined, signal: undefined };
/** send()'s default options: known to be empty, so not checked again on every send. */
const NO_OPTIONS: { fds?: readonly number[] } = Object.freeze({});

// The options of receive() and drained(), or the TypeError/RangeError to reject with.
function waitOptions(options: ReceiveOptions | undefined): WaitOptions | Error {
  if (options === undefined) return NO_WAIT_OPTIONS;
  try {
    validateObject(options, 'options');
    validateOptionNames(options, 'options', WAIT_OPTIONS);
    const ms = validateTimeout(options.timeout, 'options.timeout');
    const signal: unknown = options.signal;
    validateAbortSignal(signal, 'options.signal');
    return { ms, signal };
  } catch (err) {
    return err as Error;
  }
}

// A wait held in `list` until it settles; its timeout or abort takes it out of the list.
function waitIn<V>(list: Deferred<V>[], what: string, { ms, signal }: WaitOptions): Promise<V> {
  let d: Deferred<V> | undefined;
  d = new Deferred<V>({
    timeout: ms,
    signal,
    what,
    onCancel: () => {
      const i = d === undefined ? -1 : list.indexOf(d);
      if (i >= 0) list.splice(i, 1);
    },
  });
  if (!d.settled) list.push(d);
  return d.promise;
}

/** A Channel's events and their listeners. */
export type ChannelEvents<T> = {
  message: (message: Message<T>) => void;
  drain: () => void;
  error: (err: Error) => void;
  close: (hadError: boolean) => void;
};

/**
 * One end of a connection. Events: 'message' ({ data, fds }), 'drain', 'error', 'close' (hadError).
 * Without a 'message' listener, messages wait for receive() or for-await.
 */
export class Channel<T = Buffer> extends TypedEmitter<ChannelEvents<T>> implements AsyncIterable<Message<T>>, AsyncDisposable {
  readonly #fd: number;
  readonly #s: Settings;
  readonly #remote: ResolvedAddress | null;
  readonly #hub: HubLink | undefined;
  readonly #onUnhandledError: ChannelInit['onUnhandledError'];
  readonly #queue: SendQueue;
  readonly #reader: Reader;
  #peer: PeerCredentials | null;
  #watcher: FdWatcher | null = null;
  #watching = 0;
  // receiving
  #inbox: Message<T>[] = [];
  #receivers: Deferred<Message<T>>[] = [];
  #paused = false;
  /** Messages delivered so far (a spin ends when it moves). */
  #delivered = 0;
  #spinScheduled = false;
  #ended = false; // the peer closed its end
  // lifecycle
  #state: 'open' | 'closing' | 'closed' = 'open';
  #error: Error | null = null;
  #drainWaiters: Deferred<void>[] = [];
  #closeWaiters: (() => void)[] = [];

  /** Channels come from connect() or a Server; the token cannot be had outside the library. */
  constructor(token: typeof CONSTRUCT, init: ChannelInit) {
    super();
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use connect() or listen()');
    this.#fd = init.fd;
    this.#s = init.settings;
    this.#peer = init.peer;
    this.#remote = init.remote;
    this.#hub = init.hub;
    this.#onUnhandledError = init.onUnhandledError;
    this.#queue = new SendQueue(this.#fd, this.#s, init.to, this.#hub !== undefined, {
      updateWatch: () => this.#updateWatch(),
      emptied: (drain) => this.#emptied(drain),
      failed: (err) => this.#teardown(err, false),
    });
    const channel = this;
    const host: ReaderHost<T> = {
      get reading(): boolean {
        return channel.#reading;
      },
      deliver: (data, fds) => this.#deliver(data, fds),
      fail: (err) => this.#teardown(err, false),
      end: () => this.#onEnd(),
      credentials: (peer) => {
        if (this.#peer === null) this.#peer = peer;
      },
    };
    if (this.#s.kind === 'stream') {
      this.#reader = new StreamReader<T>(this.#fd, this.#s, host);
    } else {
      const packets = new PacketReader<T>(this.#fd, this.#s, host);
      this.#reader = packets;
      this.#hub?.attach({
        deliver: (buf, offset, n, fds, bits) => {
          if (this.#state !== 'open') {
            closeFds(fds);
            return true;
          }
          packets.accept(buf, offset, n, fds, bits);
          return !this.#paused;
        },
        get paused(): boolean {
          return channel.#paused && channel.#state === 'open';
        },
      });
    }
    if (this.#hub === undefined) {
      this.#watcher = new native.FdWatcher(this.#fd, (status, events) => this.#onPoll(status, events));
      this.#updateWatch();
    }
    this.on('newListener', (event) => {
      if (event === 'message' && this.#inbox.length > 0) process.nextTick(() => this.#flushInbox());
    });
  }

  get kind(): SocketKind {
    return this.#s.kind;
  }
  /** The peer's pid/uid/gid (Unix sockets; null over TCP, and for a datagram client until the first reply). */
  get peer(): PeerCredentials | null {
    return this.#peer;
  }
  /** The address this channel connected to (null for a channel accepted by a server). */
  get remoteAddress(): ReturnType<typeof publicAddress> | null {
    return this.#remote ? publicAddress(this.#remote) : null;
  }
  /** Bytes accepted by send() and not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.#queue.bytes;
  }
  get closed(): boolean {
    return this.#state === 'closed';
  }
  /** The error that ended the channel, if one did. */
  get errored(): Error | null {
    return this.#error;
  }

  /**
   * Queues a message. Returns true while fewer than highWaterMark bytes are queued, false once the
   * queue is fuller: wait for 'drain' (or `await channel.drained()`). Throws ERR_SEND_QUEUE_FULL,
   * queueing nothing, past maxQueuedBytes. The fds are duplicated now: you may close yours at once.
   * The bytes of `data` are sent as they are when the kernel takes them: do not modify them meanwhile.
   */
  send(data: T | Uint8Array | string, options: { fds?: readonly number[] } = NO_OPTIONS): boolean {
    if (this.#state !== 'open') throw closedError('Channel');
    validateObject(options, 'options');
    if (options !== NO_OPTIONS) validateOptionNames(options, 'options', SEND_OPTIONS);
    const payload = encode(this.#s.codec, data);
    const fds = this.#validateFds(options.fds);
    const size = payload.byteLength;
    if (size > this.#s.maxMessageSize) {
      throw new MessageTooLargeError(`The message is ${size} bytes, more than maxMessageSize (${this.#s.maxMessageSize})`);
    }
    if (this.#s.kind === 'seqpacket' && size === 0) {
      throw new MessageTooLargeError('A seqpacket message must not be empty: the kernel reports an empty one as end of stream');
    }
    const below = this.#queue.push(payload, fds);
    this.#scheduleSpin(false);
    return below;
  }

  // The polling mode (options.spin): once per turn, after the turn's sends and deliveries, read the
  // socket for up to `spin` µs. After a send, a microtask that queues a nextTick runs the spin once
  // every microtask has settled (the awaits that follow, and the sends they make). After a delivery,
  // setImmediate: the event loop gets its turn first, so a peer that never pauses cannot keep this
  // process spinning forever with timers and other sockets starved.
  #scheduleSpin(afterDelivery: boolean): void {
    if (this.#s.spin === 0 || this.#spinScheduled || this.#hub !== undefined) return;
    this.#spinScheduled = true;
    if (afterDelivery) setImmediate(this.#spinNow);
    else queueMicrotask(this.#spinSoon);
  }

  readonly #spinSoon = (): void => {
    process.nextTick(this.#spinNow);
  };

  readonly #spinNow = (): void => {
    this.#spinScheduled = false;
    const end = performance.now() + this.#s.spin / 1000;
    const before = this.#delivered;
    while (this.#state === 'open' && !this.#paused && !this.#ended) {
      this.#reader.read();
      if (this.#delivered !== before) {
        this.#scheduleSpin(true); // the next message is worth polling for too, after the loop's turn
        break;
      }
      if (performance.now() >= end) break;
    }
    this.#updateWatch();
  };

  /**
   * Resolves once the send queue is empty (at once if it is). Rejects with a TimeoutError, an
   * AbortError, ERR_INVALID_STATE at once when close() is called (or was), or the channel's end (its
   * error, ERR_CHANNEL_CLOSED) if it ends before its queue empties.
   */
  drained(options?: ReceiveOptions): Promise<void> {
    const wait = waitOptions(options);
    if (wait instanceof Error) return Promise.reject(wait);
    if (this.#state !== 'open') return Promise.reject(this.#endReason());
    if (this.#queue.bytes === 0) return Promise.resolve();
    return waitIn(this.#drainWaiters, 'Channel drain', wait);
  }

  /**
   * The next message. Rejects with a TimeoutError, an AbortError, the channel's error, ERR_CHANNEL_CLOSED
   * once the peer has closed and every held message was taken, or ERR_INVALID_STATE after close().
   */
  receive(options?: ReceiveOptions): Promise<Message<T>> {
    const wait = waitOptions(options);
    if (wait instanceof Error) return Promise.reject(wait);
    if (this.#inbox.length > 0) {
      const m = this.#inbox.shift() as Message<T>;
      this.#maybeResume();
      return Promise.resolve(m);
    }
    if (this.#state !== 'open') return Promise.reject(this.#endReason());
    return waitIn(this.#receivers, 'Channel receive', wait);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Message<T>> {
    for (;;) {
      let m: Message<T>;
      try {
        m = await this.receive();
      } catch (err) {
        // Ended without an error (the peer closed, or close()): the iteration is over.
        if (err !== this.#error && this.#state !== 'open') return;
        throw err;
      }
      yield m;
    }
  }

  /**
   * Stops receiving (unread messages are dropped and their fds closed, pending receive() and drained()
   * calls rejected with ERR_INVALID_STATE at once, for-await ends), sends what is queued, then closes.
   * Resolves when closed.
   * Idempotent. destroy() closes at once.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    let ms: number | undefined;
    try {
      validateObject(options, 'options');
      validateOptionNames(options, 'options', CLOSE_OPTIONS);
      ms = validateTimeout(options.timeout, 'options.timeout');
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#state === 'closed') return Promise.resolve();
    const p = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    if (this.#state === 'open') {
      this.#state = 'closing';
      this.#dropInbox();
      // Our own close ends our own waits at once: nobody can send more, so nobody waits for room.
      const ended = closedError('Channel');
      for (const r of this.#receivers.splice(0)) r.reject(ended);
      for (const d of this.#drainWaiters.splice(0)) d.reject(ended);
      this.#paused = true;
      this.#updateWatch();
      if (this.#queue.unsent === 0) this.#teardown(null, true);
    }
    if (ms !== undefined && this.#state === 'closing') {
      // A peer that never reads must not hold the close forever: after `timeout` the rest is dropped.
      const timer = setTimeout(() => {
        const unsent = this.#queue.unsent;
        this.#teardown(
          new InterprocError('ERR_CHANNEL_CLOSED', `Closed after ${ms} ms with ${unsent} queued messages not sent`),
          true,
        );
      }, ms);
      p.then(() => clearTimeout(timer));
    }
    return p;
  }

  /** Closes now: queued messages are dropped (their fds closed). With an error, it is reported as the cause. */
  destroy(error?: Error): void {
    this.#teardown(error ?? null, true);
  }

  ref(): this {
    this.#watcher?.ref();
    return this;
  }

  unref(): this {
    this.#watcher?.unref();
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  #validateFds(fds: unknown): readonly number[] {
    if (fds === undefined) return NO_FDS;
    if (!Array.isArray(fds)) throw invalidType('options.fds', 'an array of file descriptors', fds);
    if (fds.length > 0 && this.#s.tcp)
      throw new InterprocError('ERR_FDS_NOT_SUPPORTED', 'File descriptors cannot be passed over TCP');
    if (fds.length > this.#s.maxFds) {
      throw new OutOfRangeError(
        `The value of "options.fds.length" is out of range. It must be <= ${this.#s.maxFds} (maxFds). Received ${fds.length}`,
      );
    }
    for (let i = 0; i < fds.length; i++) validateInteger(fds[i], `options.fds[${i}]`, 0, 2 ** 31 - 1);
    return fds;
  }

  get #reading(): boolean {
    return !this.#paused && this.#state !== 'closed';
  }

  /** Why a call on an ended channel fails: its error, the peer's close, or our own close(). */
  #endReason(): Error {
    if (this.#error !== null) return this.#error;
    if (this.#ended) return new InterprocError('ERR_CHANNEL_CLOSED', 'The peer closed the channel');
    return closedError('Channel');
  }

  #updateWatch(): void {
    if (this.#watcher === null) return;
    const want =
      (!this.#paused && !this.#ended ? POLL_READABLE | POLL_DISCONNECT : 0) | (this.#queue.waitingWritable ? POLL_WRITABLE : 0);
    if (want === this.#watching) return;
    this.#watching = want;
    if (want === 0) this.#watcher.stop();
    else this.#watcher.start(want);
  }

  #onPoll(status: number, events: number): void {
    if (this.#state === 'closed') return;
    if (status < 0) {
      this.#teardown(pollError(status, this.#fd), false);
      return;
    }
    if (events & POLL_WRITABLE) this.#queue.writable();
    if (events & (POLL_READABLE | POLL_DISCONNECT) && (this.#state as string) !== 'closed') {
      const before = this.#delivered;
      this.#reader.read();
      if (this.#delivered !== before) this.#scheduleSpin(true);
    }
    this.#updateWatch();
  }

  #deliver(data: T, fds: number[]): void {
    this.#delivered++;
    const m: Message<T> = { data, fds: fds === NO_FDS ? [] : fds };
    if (this.#state !== 'open') {
      closeFds(m.fds);
      return;
    }
    const r = this.#receivers.shift();
    if (r) {
      r.resolve(m);
      return;
    }
    if (this.#inbox.length === 0 && this.listenerCount('message') > 0) {
      this.emit('message', m);
      return;
    }
    this.#inbox.push(m);
    if (this.#inbox.length >= this.#s.maxBufferedMessages) this.#paused = true;
  }

  #flushInbox(): void {
    while (this.#inbox.length > 0 && this.listenerCount('message') > 0) this.emit('message', this.#inbox.shift() as Message<T>);
    this.#maybeResume();
  }

  #maybeResume(): void {
    if (!this.#paused || this.#state !== 'open' || this.#inbox.length >= this.#s.maxBufferedMessages) return;
    this.#paused = false;
    if (this.#hub) this.#hub.resume();
    else {
      this.#updateWatch();
      // Data may already be waiting (level-triggered poll will report it too, but read now for latency).
      setImmediate(() => this.#onPoll(0, POLL_READABLE));
    }
  }

  #dropInbox(): void {
    for (const m of this.#inbox) closeFds(m.fds);
    this.#inbox = [];
  }

  // The send queue emptied: 'drain' if a send() returned false, drained() resolves, a close may end.
  #emptied(drain: boolean): void {
    if (drain) this.emit('drain');
    for (const d of this.#drainWaiters.splice(0)) d.resolve();
    if (this.#state === 'closing' && this.#queue.unsent === 0) this.#teardown(null, true);
  }

  // The peer closed its end. Messages already received stay readable.
  #onEnd(): void {
    this.#ended = true;
    const unsent = this.#queue.unsent;
    const err =
      unsent > 0
        ? new InterprocError('ERR_CHANNEL_CLOSED', `The peer closed the channel; ${unsent} queued messages were not sent`)
        : null;
    this.#teardown(err, false);
  }

  #teardown(err: Error | null, dropInbox: boolean): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (err && !this.#error) this.#error = err;
    if (this.#watcher) {
      this.#watcher.close();
      this.#watcher = null;
    }
    this.#queue.stop();
    if (this.#hub === undefined) native.closeFd(this.#fd);
    this.#reader.stop();
    if (dropInbox) this.#dropInbox();
    const reason = this.#endReason();
    for (const r of this.#receivers.splice(0)) r.reject(reason);
    for (const d of this.#drainWaiters.splice(0)) d.reject(reason);
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    process.nextTick(() => {
      const e = this.#error;
      if (e && err) {
        if (this.listenerCount('error') > 0) this.emit('error', e);
        else this.#onUnhandledError?.(e, this);
      }
      this.emit('close', e !== null);
      for (const w of waiters) w();
    });
  }
}
