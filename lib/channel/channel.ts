// Message channels over Unix-domain sockets (stream, seqpacket, datagram) and TCP, with fd passing
// and peer credentials. The native layer only makes syscalls on non-blocking fds; readiness comes
// from an FdWatcher (a libuv poll handle on this thread's loop); framing, queues and events are here.
import { EventEmitter } from 'node:events';
import { lstatSync, unlinkSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import v8 from 'node:v8';
import { native, type FdWatcher } from '../internal/binding';
import { AbortError, closedError, InterprocError, TimeoutError } from '../internal/errors';
import { encodeHeader, FrameDecoder, HEADER_SIZE } from './frame';
import { describeAddress, publicAddress, resolveAddress, type ResolvedAddress, type SocketAddress } from './address';
import {
  ArgValueError, invalidType, OutOfRangeError, validateAbortSignal, validateBoolean, validateInteger, validateObject, validateTimeout,
} from '../internal/validate';

export type { SocketAddress };
export type SocketKind = 'stream' | 'seqpacket' | 'datagram';
export type Codec = 'raw' | 'v8';

/** A received message: the bytes (or, with codec 'v8', the value) and the fds that came with it (yours to close). */
export interface Message<T = Buffer> {
  data: T;
  fds: number[];
}

/** Credentials of the peer process, as the kernel recorded them (SO_PEERCRED / SCM_CREDENTIALS). */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface ChannelOptions {
  /** 'stream' (default; length-prefixed frames), 'seqpacket' or 'datagram' (kernel message boundaries). TCP: stream only. */
  kind?: SocketKind;
  /** 'raw' (default): Buffers in, Buffers out. 'v8': any structured-cloneable value (v8.serialize). Both ends must agree. */
  codec?: Codec;
  /** Largest message accepted or sent, in bytes. Default 16 MiB for stream, 256 KiB for seqpacket and datagram. */
  maxMessageSize?: number;
  /** Most fds in one message (0-253, default 64; TCP: 0). A peer that sends more loses its connection. */
  maxFds?: number;
  /** send() returns false once this many bytes are queued (default 1 MiB); 'drain' follows when the queue empties. */
  highWaterMark?: number;
  /** Hard bound of queued bytes: send() beyond it throws ERR_SEND_QUEUE_FULL (default max(16 MiB, highWaterMark, maxMessageSize)). */
  maxQueuedBytes?: number;
  /** Received messages held for receive()/for-await before reading pauses (default 1024): the sender then feels back-pressure. */
  maxBufferedMessages?: number;
}

export interface ConnectOptions extends ChannelOptions {
  /** Milliseconds to wait for a TCP connect. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface ListenOptions extends ChannelOptions {
  /** Permissions of a socket file (default 0o600), exact: not narrowed by the umask. */
  mode?: number;
  backlog?: number;
  /** Replace a socket file nobody listens on (a dead server's), default true. A live one gives EADDRINUSE. */
  replaceStale?: boolean;
  /** Accept only peers whose uid is listed, or whose gid is in allowGids (kernel credentials). Unix sockets only. */
  allowUids?: number[];
  /** Accept only peers whose gid is listed, or whose uid is in allowUids. Unix sockets only. */
  allowGids?: number[];
}

export interface ReceiveOptions {
  timeout?: number;
  signal?: AbortSignal;
}

const KIND_CODE: Record<SocketKind, number> = { stream: 0, seqpacket: 1, datagram: 2 };
const MIB = 1024 * 1024;
const OUT = new Int32Array(native.sockRecvOutLength);
const OUT_FDS = 5;
const INTERNAL = Symbol('interproc.internal');
const kDeliverPacket = Symbol('deliverPacket');
const kResume = Symbol('resume');
const kPausedState = Symbol('pausedState');
const NO_FDS: number[] = [];
const SLAB_SIZE = 64 * 1024;
const COALESCE_MAX = 4096;

// One read buffer for the whole thread: every read copies what it keeps before returning.
let scratch = Buffer.allocUnsafe(256 * 1024);
function scratchOf(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafe(size);
  return scratch;
}

interface Settings {
  kind: SocketKind;
  tcp: boolean;
  codec: Codec;
  maxMessageSize: number;
  maxFds: number;
  highWaterMark: number;
  maxQueuedBytes: number;
  maxBufferedMessages: number;
}

function optionalInteger(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  validateInteger(value, name, min, max);
  return value;
}

function settingsFrom(options: ChannelOptions, tcp: boolean): Settings {
  const kind = options.kind ?? 'stream';
  if (!(kind in KIND_CODE)) throw new ArgValueError(`The property 'options.kind' must be one of 'stream', 'seqpacket', 'datagram'. Received '${String(kind)}'`);
  if (tcp && kind !== 'stream') throw new ArgValueError(`The property 'options.kind' must be 'stream' for a TCP address. Received '${kind}'`);
  const codec = options.codec ?? 'raw';
  if (codec !== 'raw' && codec !== 'v8') throw new ArgValueError(`The property 'options.codec' must be 'raw' or 'v8'. Received '${String(codec)}'`);
  const packet = kind !== 'stream';
  const maxMessageSize = optionalInteger(options.maxMessageSize, 'options.maxMessageSize', packet ? 256 * 1024 : 16 * MIB, 1,
    packet ? 64 * MIB : 2 ** 32 - 1);
  const maxFds = optionalInteger(options.maxFds, 'options.maxFds', tcp ? 0 : 64, 0, tcp ? 0 : 253);
  const highWaterMark = optionalInteger(options.highWaterMark, 'options.highWaterMark', MIB, 1, Number.MAX_SAFE_INTEGER);
  const maxQueuedBytes = optionalInteger(options.maxQueuedBytes, 'options.maxQueuedBytes',
    Math.max(16 * MIB, highWaterMark, maxMessageSize + HEADER_SIZE), highWaterMark, Number.MAX_SAFE_INTEGER);
  const maxBufferedMessages = optionalInteger(options.maxBufferedMessages, 'options.maxBufferedMessages', 1024, 1, 2 ** 31 - 1);
  return { kind, tcp, codec, maxMessageSize, maxFds, highWaterMark, maxQueuedBytes, maxBufferedMessages };
}

// libuv reports a socket error (POLLERR) as UV_EBADF; the socket's own pending error (SO_ERROR)
// says what really happened (ECONNREFUSED, ECONNRESET, ...).
function pollError(status: number, fd: number, where?: string): Error {
  try {
    native.sockConnectResult(fd, where);
  } catch (err) {
    return err as Error;
  }
  const code = getSystemErrorName(status);
  return Object.assign(new Error(`${code}: socket poll failed`), { code, errno: status, syscall: 'uv_poll' });
}

function closeFds(fds: readonly number[] | undefined): void {
  if (fds) for (const fd of fds) native.closeFd(fd);
}

function takeFds(): number[] {
  const count = OUT[4];
  if (count === 0) return NO_FDS;
  return Array.from(OUT.subarray(OUT_FDS, OUT_FDS + count));
}

/** Batch receive of packet kinds (sockRecvMany): per-message records, then the fds. */
const MANY = new Int32Array(native.sockRecvManyOutLength);
const MANY_RECORD = 8;
const MANY_FD_BASE = MANY_RECORD * 64;
const MANY_ADDR = Buffer.alloc(64 * 128);

/** Messages per recvmmsg for a given maximum size: the batch buffer stays within 4 MiB. */
function batchFor(maxMessageSize: number): number {
  return Math.max(1, Math.min(64, Math.floor((4 * MIB) / maxMessageSize)));
}

function manyFds(i: number): number[] {
  const count = MANY[i * MANY_RECORD + 2];
  if (count === 0) return NO_FDS;
  const start = MANY_FD_BASE + MANY[i * MANY_RECORD + 3];
  return Array.from(MANY.subarray(start, start + count));
}

function manyCredentials(i: number): PeerCredentials | null {
  const r = i * MANY_RECORD;
  return MANY[r + 1] & 4 ? { pid: MANY[r + 4], uid: MANY[r + 5] >>> 0, gid: MANY[r + 6] >>> 0 } : null;
}


function channelClosed(): InterprocError {
  return new InterprocError('ERR_CHANNEL_CLOSED', 'The channel is closed');
}

/** Fails with code ERR_MESSAGE_TOO_LARGE (a RangeError: the caller's message, nothing was queued). */
class MessageTooLargeError extends RangeError {
  readonly code = 'ERR_MESSAGE_TOO_LARGE';
}

interface Pending {
  chunks: Uint8Array[];
  bytes: number;
  fds: number[] | undefined; // our duplicates, closed once the kernel has taken them
  slab?: Buffer; // small frames: bytes [start, start + bytes) of a shared slab instead of chunks
  start?: number;
  done?: boolean; // fully taken by the kernel
}

interface ChannelInit {
  fd: number;
  settings: Settings;
  peer: PeerCredentials | null;
  remote: ResolvedAddress | null;
  to?: Buffer; // datagram server side: the peer's address; reads come from the hub
  hub?: Server;
  onUnhandledError?: (err: Error, channel: Channel<any>) => void;
}

/**
 * One end of a connection. Events: 'message' ({ data, fds }), 'drain', 'error', 'close' (hadError).
 * Without a 'message' listener, messages wait for receive() or for-await.
 */
export class Channel<T = Buffer> extends EventEmitter implements AsyncIterable<Message<T>>, AsyncDisposable {
  readonly #fd: number;
  readonly #s: Settings;
  readonly #packet: boolean;
  readonly #remote: ResolvedAddress | null;
  readonly #to: Buffer | undefined;
  readonly #hub: Server | undefined;
  readonly #onUnhandledError: ChannelInit['onUnhandledError'];
  #peer: PeerCredentials | null;
  #watcher: FdWatcher | null = null;
  #watching = 0;
  // sending
  #queue: Pending[] = [];
  #head = 0;
  #headSent = 0;
  #queuedBytes = 0;
  #flushScheduled = false;
  #waitWritable = false;
  #needDrain = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #retryDelay = 1;
  #sentThisTurn = false;
  #slab: Buffer | null = null;
  #slabEntry: Pending | null = null;
  #slabUsed = 0;
  // receiving
  #decoder: FrameDecoder | null = null;
  #fdQueue: number[] = [];
  #inbox: Message<T>[] = [];
  #receivers: { resolve: (m: Message<T>) => void; reject: (e: unknown) => void }[] = [];
  #paused = false;
  #ended = false;
  // lifecycle
  #state: 'open' | 'closing' | 'closed' = 'open';
  #error: Error | null = null;
  #closeWaiters: (() => void)[] = [];

  /** @internal channels come from connect() or a Server */
  constructor(token: symbol, init: ChannelInit) {
    super();
    if (token !== INTERNAL) throw new TypeError('Illegal constructor: use connect() or listen()');
    this.#fd = init.fd;
    this.#s = init.settings;
    this.#packet = init.settings.kind !== 'stream';
    this.#peer = init.peer;
    this.#remote = init.remote;
    this.#to = init.to;
    this.#hub = init.hub;
    this.#onUnhandledError = init.onUnhandledError;
    if (!this.#packet) {
      this.#decoder = new FrameDecoder(this.#s.maxMessageSize, this.#s.maxFds, (payload, n) => this.#onFrame(payload, n));
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
    return this.#queuedBytes;
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
  send(data: T | Uint8Array | string, options: { fds?: readonly number[] } = {}): boolean {
    if (this.#state !== 'open') throw closedError('Channel');
    validateObject(options, 'options');
    const payload = this.#encode(data);
    const fds = this.#validateFds(options.fds);
    const size = payload.byteLength;
    if (size > this.#s.maxMessageSize) {
      throw new MessageTooLargeError(`The message is ${size} bytes, more than maxMessageSize (${this.#s.maxMessageSize})`);
    }
    if (this.#s.kind === 'seqpacket' && size === 0) {
      throw new MessageTooLargeError('A seqpacket message must not be empty: the kernel reports an empty one as end of stream');
    }
    const bytes = this.#packet ? size : size + HEADER_SIZE;
    if (this.#queuedBytes + bytes > this.#s.maxQueuedBytes) {
      throw new InterprocError('ERR_SEND_QUEUE_FULL',
        `The send queue holds ${this.#queuedBytes} bytes; this message would exceed maxQueuedBytes (${this.#s.maxQueuedBytes})`);
    }
    let dups: number[] | undefined;
    if (fds.length > 0) {
      dups = [];
      try {
        for (const fd of fds) dups.push(native.dupFd(fd));
      } catch (err) {
        closeFds(dups);
        throw err;
      }
    }
    let entry: Pending;
    if (!this.#packet && bytes <= COALESCE_MAX) {
      entry = this.#coalesce(payload, fds.length, dups);
    } else {
      entry = { chunks: this.#packet ? [payload] : [encodeHeader(size, fds.length), payload], bytes, fds: dups };
      this.#queue.push(entry);
    }
    this.#queuedBytes += bytes;
    if (this.#packet && !this.#sentThisTurn && this.#queue.length - this.#head === 1 && !this.#waitWritable && this.#retryTimer === null) {
      // The first packet of a turn goes out at once (lowest latency; EMSGSIZE throws here). Later ones
      // in the same turn are batched: the receiver then wakes once for many instead of once for each.
      this.#sentThisTurn = true;
      queueMicrotask(() => (this.#sentThisTurn = false));
      this.#sendNow(entry);
    } else if (!this.#flushScheduled && !this.#waitWritable && this.#retryTimer === null) {
      // Sends made in one turn of the loop go out together in one sendmsg (many frames, one syscall).
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
    if (this.#queuedBytes < this.#s.highWaterMark) return true;
    this.#needDrain = true;
    return false;
  }

  /** Resolves once the send queue is empty (at once if it is). */
  drained(options: ReceiveOptions = {}): Promise<void> {
    if (this.#queuedBytes === 0) return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(this.#error ?? channelClosed());
    return this.#waitFor('drain', options);
  }

  /** The next message. Rejects with the channel's error, or ERR_CHANNEL_CLOSED once it has ended. */
  receive(options: ReceiveOptions = {}): Promise<Message<T>> {
    if (this.#inbox.length > 0) {
      const m = this.#inbox.shift() as Message<T>;
      this.#maybeResume();
      return Promise.resolve(m);
    }
    if (this.#state === 'closed' || this.#ended) return Promise.reject(this.#error ?? channelClosed());
    let ms: number | undefined;
    let signal: AbortSignal | undefined;
    try {
      validateObject(options, 'options');
      ms = validateTimeout(options.timeout, 'options.timeout');
      const s: unknown = options.signal;
      validateAbortSignal(s, 'options.signal');
      signal = s;
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise<Message<T>>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const entry = {
        resolve: (m: Message<T>) => {
          done();
          resolve(m);
        },
        reject: (e: unknown) => {
          done();
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.#receivers.indexOf(entry);
        if (i >= 0) this.#receivers.splice(i, 1);
        entry.reject(new AbortError(undefined, { cause: signal?.reason }));
      };
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      if (ms !== undefined) {
        timer = setTimeout(() => {
          const i = this.#receivers.indexOf(entry);
          if (i >= 0) this.#receivers.splice(i, 1);
          entry.reject(new TimeoutError('Channel receive', ms));
        }, ms);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#receivers.push(entry);
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Message<T>> {
    for (;;) {
      let m: Message<T>;
      try {
        m = await this.receive();
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_CHANNEL_CLOSED' && this.#error === null) return;
        throw err;
      }
      yield m;
    }
  }

  /**
   * Stops receiving (unread messages are dropped and their fds closed), sends what is queued, then
   * closes. Resolves when closed. Idempotent. destroy() closes at once.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    validateObject(options, 'options');
    const ms = validateTimeout(options.timeout, 'options.timeout');
    const p = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    if (this.#state === 'open') {
      this.#state = 'closing';
      this.#dropInbox();
      this.#paused = true;
      this.#updateWatch();
      if (this.#queue.length === this.#head) this.#teardown(null, true);
    }
    if (ms !== undefined && this.#state === 'closing') {
      // A peer that never reads must not hold the close forever: after `timeout` the rest is dropped.
      const timer = setTimeout(() => {
        const unsent = this.#queue.length - this.#head;
        this.#teardown(new InterprocError('ERR_CHANNEL_CLOSED', `Closed after ${ms} ms with ${unsent} queued messages not sent`), true);
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

  #encode(data: unknown): Uint8Array {
    if (this.#s.codec === 'v8') return v8.serialize(data);
    if (typeof data === 'string') return Buffer.from(data);
    if (data instanceof Uint8Array) return data;
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    throw invalidType('data', 'of type string or an instance of Buffer, TypedArray, DataView or ArrayBuffer', data);
  }

  #validateFds(fds: unknown): readonly number[] {
    if (fds === undefined) return NO_FDS;
    if (!Array.isArray(fds)) throw invalidType('options.fds', 'an array of file descriptors', fds);
    if (fds.length > 0 && this.#s.tcp) throw new InterprocError('ERR_FDS_NOT_SUPPORTED', 'File descriptors cannot be passed over TCP');
    if (fds.length > this.#s.maxFds) {
      throw new OutOfRangeError(`The value of "options.fds.length" is out of range. It must be <= ${this.#s.maxFds} (maxFds). Received ${fds.length}`);
    }
    fds.forEach((fd, i) => validateInteger(fd, `options.fds[${i}]`, 0, 2 ** 31 - 1));
    return fds;
  }

  #updateWatch(): void {
    if (this.#watcher === null) return;
    const want = (!this.#paused && !this.#ended ? 1 | 4 : 0) | (this.#waitWritable ? 2 : 0);
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
    if (events & 2) {
      this.#waitWritable = false;
      this.#flush();
    }
    if (events & 5 && (this.#state as string) !== 'closed') {
      if (this.#packet) this.#readPackets();
      else this.#readStream();
    }
    this.#updateWatch();
  }

  #readStream(): void {
    const decoder = this.#decoder as FrameDecoder;
    for (let i = 0; i < 32 && !this.#paused && this.#state !== 'closed'; i++) {
      let n: number;
      const body = decoder.pendingBody();
      const direct = body !== null && body[2] >= 64 * 1024;
      try {
        n = direct
          ? native.sockRecv(this.#fd, body[0], body[1], body[2], this.#s.maxFds, 0, OUT)
          : native.sockRecv(this.#fd, scratch, 0, scratch.length, this.#s.maxFds, 0, OUT);
      } catch (err) {
        this.#teardown(err as Error, false);
        return;
      }
      if (n === -1) return;
      if (OUT[4] > 0) this.#fdQueue.push(...takeFds());
      if (OUT[0] & 2) {
        this.#teardown(new InterprocError('ERR_TOO_MANY_FDS', `The peer sent more than maxFds (${this.#s.maxFds}) fds in one message`), false);
        return;
      }
      if (n === 0) {
        if (decoder.partial) {
          this.#teardown(new InterprocError('ERR_TRUNCATED_FRAME', 'The peer closed the connection in the middle of a message'), false);
        } else {
          this.#onEnd();
        }
        return;
      }
      try {
        if (direct) decoder.bodyFilled(n);
        else decoder.feed(scratch, 0, n);
      } catch (err) {
        this.#teardown(err as Error, false);
        return;
      }
      // The kernel hands over fds with the first byte of the sendmsg that carried them, and a frame with
      // fds starts its sendmsg, so after a read only the unfinished frame can own waiting fds. More
      // means a peer is piling up fds no frame claims: stop it before it exhausts our descriptors.
      if (this.#fdQueue.length > this.#s.maxFds) {
        this.#teardown(new InterprocError('ERR_TOO_MANY_FDS', `The peer sent ${this.#fdQueue.length} fds that no frame claims`), false);
        return;
      }
      // A short read drained the socket: skip the read that would only say EAGAIN (a system call is
      // microseconds here); the level-triggered poll calls again when more arrives.
      if (n < (direct ? body[2] : scratch.length) && OUT[4] === 0) return;
    }
  }

  #onFrame(payload: Buffer, fdCount: number): void {
    if (fdCount > this.#fdQueue.length) {
      throw new InterprocError('ERR_INVALID_FRAME', `A frame declares ${fdCount} fds but ${this.#fdQueue.length} arrived`);
    }
    const fds = fdCount === 0 ? NO_FDS : this.#fdQueue.splice(0, fdCount);
    this.#deliver(this.#decode(payload, fds), fds);
  }

  #decode(payload: Buffer, fds: number[]): T {
    if (this.#s.codec === 'raw') return payload as T;
    try {
      return v8.deserialize(payload) as T;
    } catch {
      closeFds(fds);
      throw new InterprocError('ERR_INVALID_FRAME', 'A message is not a valid v8-serialized value');
    }
  }

  #readPackets(): void {
    const cap = this.#s.maxMessageSize;
    const batch = batchFor(cap);
    const buf = scratchOf(cap * batch);
    for (let round = 0; round < 8 && !this.#paused && this.#state !== 'closed'; round++) {
      let n: number;
      try {
        // One recvmmsg takes every message already queued (up to `batch`): one syscall and one
        // N-API call for many messages.
        n = native.sockRecvMany(this.#fd, buf, cap, batch, this.#s.maxFds, 0, MANY);
      } catch (err) {
        this.#teardown(err as Error, false);
        return;
      }
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        // Messages already taken from the kernel are delivered even if the inbox fills meanwhile
        // (at most one batch over maxBufferedMessages); #deliver drops them only after close().
        const fds = manyFds(i);
        const length = MANY[i * MANY_RECORD];
        if (length === 0 && this.#s.kind === 'seqpacket' && fds.length === 0) {
          for (let k = i + 1; k < n; k++) closeFds(manyFds(k));
          this.#onEnd();
          return;
        }
        const creds = manyCredentials(i);
        if (creds && this.#peer === null) this.#peer = creds;
        if (!this.#acceptPacket(buf, i * cap, length, fds, MANY[i * MANY_RECORD + 1])) {
          for (let k = i + 1; k < n; k++) closeFds(manyFds(k));
          return;
        }
      }
      if (n < batch) return;
    }
  }

  // Checks and delivers one received packet; false when the channel ended because of it.
  #acceptPacket(buf: Buffer, offset: number, n: number, fds: number[], bits: number): boolean {
    let err: Error | null = null;
    if (bits & 2) err = new InterprocError('ERR_TOO_MANY_FDS', `The peer sent more than maxFds (${this.#s.maxFds}) fds in one message`);
    else if (bits & 1 || n > this.#s.maxMessageSize) {
      err = new InterprocError('ERR_MESSAGE_TOO_LARGE', `A message of ${n} bytes exceeds maxMessageSize (${this.#s.maxMessageSize})`);
    }
    if (err === null) {
      try {
        const view = buf.subarray(offset, offset + n);
        const payload = this.#s.codec === 'v8' ? view : Buffer.from(view);
        this.#deliver(this.#decode(payload, fds), fds);
        return true;
      } catch (e) {
        err = e as Error;
      }
    } else {
      closeFds(fds);
    }
    this.#teardown(err, false);
    return false;
  }

  /** @internal a datagram from the hub (server side of a datagram channel) */
  [kDeliverPacket](buf: Buffer, offset: number, n: number, fds: number[], bits: number): boolean {
    if (this.#state !== 'open') {
      closeFds(fds);
      return true;
    }
    this.#acceptPacket(buf, offset, n, fds, bits);
    return !this.#paused;
  }

  #deliver(data: T, fds: number[]): void {
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
    while (this.#inbox.length > 0 && this.listenerCount('message') > 0) this.emit('message', this.#inbox.shift());
    this.#maybeResume();
  }

  #maybeResume(): void {
    if (!this.#paused || this.#state !== 'open' || this.#inbox.length >= this.#s.maxBufferedMessages) return;
    this.#paused = false;
    if (this.#hub) this.#hub[kResume]();
    else {
      this.#updateWatch();
      // Data may already be waiting (level-triggered poll will report it too, but read now for latency).
      setImmediate(() => this.#onPoll(0, 1));
    }
  }

  #dropInbox(): void {
    for (const m of this.#inbox) closeFds(m.fds);
    this.#inbox = [];
  }

  #sendNow(entry: Pending): void {
    try {
      this.#flushPackets();
    } catch (err) {
      if (this.#queue[this.#head] === entry) {
        // Not sent: undo, so a failed send changes nothing.
        this.#queue.pop();
        this.#queuedBytes -= entry.bytes;
        closeFds(entry.fds);
      }
      if ((err as { code?: string }).code !== 'EMSGSIZE') this.#teardown(err as Error, false);
      throw err;
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#state === 'closed') return;
    try {
      if (this.#packet) this.#flushPackets();
      else this.#flushStream();
    } catch (err) {
      this.#teardown(err as Error, false);
    }
  }

  #flushStream(): void {
    const q = this.#queue;
    while (this.#head < q.length) {
      const first = q[this.#head];
      const fds = this.#headSent === 0 ? first.fds : undefined;
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      for (let j = this.#head; j < q.length && chunks.length < 1000 && bytes < 4 * MIB; j++) {
        const e = q[j];
        if (j > this.#head && e.fds) break; // fds ride on the first byte of a sendmsg
        let skip = j === this.#head ? this.#headSent : 0;
        if (e.slab !== undefined) {
          const from = (e.start as number) + skip;
          const to = (e.start as number) + e.bytes;
          chunks.push(e.slab.subarray(from, to));
          bytes += to - from;
          continue;
        }
        for (const c of e.chunks) {
          if (skip >= c.length) {
            skip -= c.length;
            continue;
          }
          chunks.push(skip > 0 ? c.subarray(skip) : c);
          bytes += c.length - skip;
          skip = 0;
        }
      }
      let n = native.sockSend(this.#fd, chunks, fds);
      if (n === -1) {
        this.#waitWritable = true;
        this.#updateWatch();
        return;
      }
      if (fds) {
        closeFds(fds); // the kernel holds its own references now
        first.fds = undefined;
      }
      while (n > 0) {
        const e = q[this.#head];
        const rest = e.bytes - this.#headSent;
        if (n >= rest) {
          n -= rest;
          this.#queuedBytes -= rest;
          this.#headSent = 0;
          e.done = true;
          this.#head++;
        } else {
          this.#headSent += n;
          this.#queuedBytes -= n;
          n = 0;
        }
      }
    }
    this.#queueEmptied();
  }

  #flushPackets(): void {
    const q = this.#queue;
    while (this.#head < q.length) {
      const count = Math.min(64, q.length - this.#head);
      let n: number;
      if (count === 1) {
        const e = q[this.#head];
        n = native.sockSend(this.#fd, e.chunks[0], e.fds, this.#to) === -1 ? 0 : 1;
      } else {
        // One sendmmsg for up to 64 queued messages (each with its own fds).
        const datas: Uint8Array[] = [];
        const fdsList: (number[] | undefined)[] = [];
        for (let k = this.#head; k < this.#head + count; k++) {
          datas.push(q[k].chunks[0]);
          fdsList.push(q[k].fds);
        }
        n = native.sockSendMany(this.#fd, datas, fdsList, this.#to);
      }
      if (n === 0) {
        if (this.#hub) {
          // An unconnected datagram socket cannot poll for room in one peer's queue: retry with backoff.
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = null;
            this.#flush();
          }, this.#retryDelay);
          this.#retryDelay = Math.min(this.#retryDelay * 2, 64);
        } else {
          this.#waitWritable = true;
          this.#updateWatch();
        }
        return;
      }
      this.#retryDelay = 1;
      for (let k = 0; k < n; k++) {
        const e = q[this.#head++];
        closeFds(e.fds); // the kernel holds its own references now
        e.fds = undefined;
        this.#queuedBytes -= e.bytes;
      }
    }
    this.#queueEmptied();
  }

  // Small frames are copied into one slab so a batch is one contiguous write: many frames per
  // sendmsg without an iovec (and a typed-array conversion) per frame.
  #coalesce(payload: Uint8Array, fdCount: number, dups: number[] | undefined): Pending {
    const length = payload.byteLength;
    const bytes = length + HEADER_SIZE;
    const q = this.#queue;
    let e = this.#slabEntry;
    if (e === null || e.done || dups !== undefined || q[q.length - 1] !== e || this.#slabUsed + bytes > SLAB_SIZE) {
      if (this.#slab !== null && (e === null || e.done)) {
        this.#slabUsed = 0; // everything in the slab was sent: reuse it from the start
      } else if (this.#slab === null || this.#slabUsed + bytes > SLAB_SIZE) {
        this.#slab = Buffer.allocUnsafe(SLAB_SIZE);
        this.#slabUsed = 0;
      }
      e = { chunks: [], bytes: 0, fds: dups, slab: this.#slab, start: this.#slabUsed };
      this.#slabEntry = e;
      q.push(e);
    }
    const s = this.#slab as Buffer;
    const at = this.#slabUsed;
    s[at] = length >>> 24;
    s[at + 1] = (length >>> 16) & 0xff;
    s[at + 2] = (length >>> 8) & 0xff;
    s[at + 3] = length & 0xff;
    s[at + 4] = fdCount >>> 8;
    s[at + 5] = fdCount & 0xff;
    s[at + 6] = 0;
    s[at + 7] = 0;
    s.set(payload, at + HEADER_SIZE);
    this.#slabUsed = at + bytes;
    e.bytes += bytes;
    return e;
  }

  #queueEmptied(): void {
    this.#slabEntry = null; // everything was sent: the slab may be reused from its start
    this.#queue = [];
    this.#head = 0;
    this.#headSent = 0;
    if (this.#needDrain) {
      this.#needDrain = false;
      this.emit('drain');
    }
    if (this.#state === 'closing' && this.#head === this.#queue.length) this.#teardown(null, true);
  }

  #waitFor(event: 'drain', options: ReceiveOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      validateObject(options, 'options');
      const ms = validateTimeout(options.timeout, 'options.timeout');
      const signal = options.signal;
      validateAbortSignal(signal, 'options.signal');
      if (signal?.aborted) {
        reject(new AbortError(undefined, { cause: signal.reason }));
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        this.off(event, onEvent);
        this.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
      };
      const onEvent = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(this.#error ?? channelClosed());
      };
      const onAbort = () => {
        cleanup();
        reject(new AbortError(undefined, { cause: signal?.reason }));
      };
      this.once(event, onEvent);
      this.once('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (ms !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new TimeoutError('Channel drain', ms));
        }, ms);
      }
    });
  }

  // The peer closed its end. Messages already received stay readable.
  #onEnd(): void {
    this.#ended = true;
    const unsent = this.#queue.length - this.#head;
    const err = unsent > 0 ? new InterprocError('ERR_CHANNEL_CLOSED', `The peer closed the channel; ${unsent} queued messages were not sent`) : null;
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
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    if (this.#hub === undefined) native.closeFd(this.#fd);
    for (let i = this.#head; i < this.#queue.length; i++) closeFds(this.#queue[i].fds);
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    closeFds(this.#fdQueue);
    this.#fdQueue = [];
    if (dropInbox) this.#dropInbox();
    const receivers = this.#receivers;
    this.#receivers = [];
    for (const r of receivers) r.reject(this.#error ?? channelClosed());
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

  /** @internal whether reading is paused because the inbox is full */
  [kPausedState](): boolean {
    return this.#paused && this.#state === 'open';
  }
}

/**
 * A listening socket. Events: 'connection' (channel), 'rejected' (error, peer), 'clientError'
 * (error, channel: a channel's error when the channel has no 'error' listener), 'close'.
 * Without a 'connection' listener, channels wait for for-await.
 */
export class Server<T = Buffer> extends EventEmitter implements AsyncIterable<Channel<T>>, AsyncDisposable {
  readonly #fd: number;
  readonly #settings: Settings;
  readonly #address: ResolvedAddress;
  readonly #inode: number;
  readonly #allowUids: number[] | null;
  readonly #allowGids: number[] | null;
  #watcher: FdWatcher;
  #channels = new Set<Channel<T>>();
  #peers = new Map<string, Channel<T>>();
  #pending: Channel<T>[] = [];
  #waiters: { resolve: (r: IteratorResult<Channel<T>>) => void }[] = [];
  #paused = false;
  #closed = false;

  /** @internal servers come from listen() */
  constructor(token: symbol, fd: number, settings: Settings, address: ResolvedAddress, allowUids: number[] | null,
    allowGids: number[] | null) {
    super();
    if (token !== INTERNAL) throw new TypeError('Illegal constructor: use listen()');
    this.#fd = fd;
    this.#settings = settings;
    this.#address = address;
    this.#allowUids = allowUids;
    this.#allowGids = allowGids;
    this.#inode = address.family === 0 ? lstatSync(address.name).ino : 0;
    this.#watcher = new native.FdWatcher(fd, (status) => this.#onReadable(status));
    this.#watcher.start(1);
    this.on('newListener', (event) => {
      if (event === 'connection' && this.#pending.length > 0) {
        process.nextTick(() => {
          while (this.#pending.length > 0 && this.listenerCount('connection') > 0) this.emit('connection', this.#pending.shift());
          this.#resume();
        });
      }
    });
  }

  get address(): ReturnType<typeof publicAddress> {
    return publicAddress(this.#address);
  }
  get kind(): SocketKind {
    return this.#settings.kind;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** Channels accepted and still open. */
  get connections(): number {
    return this.#channels.size;
  }

  /**
   * Stops listening (removing its socket file), then closes every channel it accepted; a channel that
   * cannot send what it has queued within `timeout` ms (default 5000) is closed anyway, its loss reported.
   */
  async close(options: { timeout?: number } = {}): Promise<void> {
    validateObject(options, 'options');
    const timeout = validateTimeout(options.timeout ?? 5000, 'options.timeout');
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    // Datagram channels send through the server's fd: end them before the fd number can be reused.
    if (this.#settings.kind === 'datagram') for (const ch of this.#channels) ch.destroy();
    native.closeFd(this.#fd);
    if (this.#address.family === 0) {
      // Remove the file only if it is still ours (not replaced by another server meanwhile).
      try {
        if (lstatSync(this.#address.name).ino === this.#inode) unlinkSync(this.#address.name);
      } catch {
        // already gone
      }
    }
    for (const w of this.#waiters.splice(0)) w.resolve({ value: undefined, done: true });
    const pending = this.#pending.splice(0);
    await Promise.all([...this.#channels, ...pending].map((c) => c.close({ timeout })));
    process.nextTick(() => this.emit('close'));
  }

  ref(): this {
    this.#watcher.ref();
    return this;
  }

  unref(): this {
    this.#watcher.unref();
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Channel<T>> {
    return {
      next: () => {
        const c = this.#pending.shift();
        if (c) {
          this.#resume();
          return Promise.resolve({ value: c, done: false });
        }
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push({ resolve }));
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  #allowed(peer: PeerCredentials | null): boolean {
    if (this.#allowUids === null && this.#allowGids === null) return true;
    if (peer === null) return false;
    return (this.#allowUids?.includes(peer.uid) ?? false) || (this.#allowGids?.includes(peer.gid) ?? false);
  }

  #reject(peer: PeerCredentials | null): void {
    const who = peer ? `pid ${peer.pid}, uid ${peer.uid}, gid ${peer.gid}` : 'unknown credentials';
    const err = new InterprocError('ERR_PEER_NOT_ALLOWED', `Rejected a peer (${who}) not in allowUids/allowGids`);
    if (this.listenerCount('rejected') > 0) this.emit('rejected', err, peer);
  }

  #offer(ch: Channel<T>): void {
    const w = this.#waiters.shift();
    if (w) w.resolve({ value: ch, done: false });
    else if (this.listenerCount('connection') > 0) this.emit('connection', ch);
    else {
      this.#pending.push(ch);
      if (this.#pending.length >= 1024) this.#pause();
    }
  }

  #pause(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.#watcher.stop();
  }

  #resume(): void {
    if (!this.#paused || this.#closed || this.#pending.length >= 1024) return;
    for (const ch of this.#peers.values()) if (ch[kPausedState]()) return;
    this.#paused = false;
    this.#watcher.start(1);
  }

  /** @internal a datagram channel's inbox has room again */
  [kResume](): void {
    this.#resume();
  }

  #unhandled = (err: Error, ch: Channel<any>): void => {
    if (this.listenerCount('clientError') > 0) this.emit('clientError', err, ch);
  };

  #onReadable(status: number): void {
    if (this.#closed) return;
    if (status < 0) {
      if (this.listenerCount('error') > 0) this.emit('error', pollError(status, this.#fd));
      return;
    }
    if (this.#settings.kind === 'datagram') this.#readDatagrams();
    else this.#acceptAll();
  }

  #acceptAll(): void {
    for (let i = 0; i < 64 && !this.#closed && !this.#paused; i++) {
      let fd: number;
      try {
        fd = native.sockAccept(this.#fd);
      } catch (err) {
        // EMFILE and the like: report, and stop accepting for a moment instead of spinning.
        if (this.listenerCount('error') > 0) this.emit('error', err);
        this.#watcher.stop();
        setTimeout(() => {
          if (!this.#closed && !this.#paused) this.#watcher.start(1);
        }, 100).unref();
        return;
      }
      if (fd === -1) return;
      let peer: PeerCredentials | null = null;
      if (!this.#settings.tcp) {
        try {
          const [pid, uid, gid] = native.sockPeerCred(fd);
          peer = { pid, uid, gid };
        } catch {
          peer = null;
        }
      }
      if (!this.#allowed(peer)) {
        native.closeFd(fd);
        this.#reject(peer);
        continue;
      }
      const ch = new Channel<T>(INTERNAL, { fd, settings: this.#settings, peer, remote: null, onUnhandledError: this.#unhandled });
      this.#channels.add(ch);
      ch.once('close', () => this.#channels.delete(ch));
      this.#offer(ch);
    }
  }

  #readDatagrams(): void {
    const cap = this.#settings.maxMessageSize;
    const batch = batchFor(cap);
    const buf = scratchOf(cap * batch);
    for (let round = 0; round < 8 && !this.#closed && !this.#paused; round++) {
      let n: number;
      try {
        n = native.sockRecvMany(this.#fd, buf, cap, batch, this.#settings.maxFds, 2, MANY, MANY_ADDR);
      } catch (err) {
        if (this.listenerCount('error') > 0) this.emit('error', err);
        return;
      }
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const fds = manyFds(i);
        const r = i * MANY_RECORD;
        if (this.#closed) {
          closeFds(fds);
          continue;
        }
        const addrLen = MANY[r + 7];
        const key = MANY_ADDR.toString('latin1', i * 128, i * 128 + addrLen);
        let ch = this.#peers.get(key);
        let created: Channel<T> | null = null;
        if (ch === undefined) {
          const peer = manyCredentials(i);
          if (!this.#allowed(peer)) {
            closeFds(fds);
            this.#reject(peer);
            continue;
          }
          const fresh = new Channel<T>(INTERNAL, {
            fd: this.#fd, settings: this.#settings, peer, remote: null,
            to: Buffer.from(MANY_ADDR.subarray(i * 128, i * 128 + addrLen)), hub: this as Server<any>,
            onUnhandledError: this.#unhandled,
          });
          created = fresh;
          ch = fresh;
          this.#peers.set(key, fresh);
          this.#channels.add(fresh);
          fresh.once('close', () => {
            this.#channels.delete(fresh);
            if (this.#peers.get(key) === fresh) this.#peers.delete(key);
            this.#resume();
          });
        }
        // A channel whose inbox is full pauses the whole socket (rest of this batch still delivered: the
        // messages are already out of the kernel, so they are queued rather than dropped).
        if (!ch[kDeliverPacket](buf, i * cap, MANY[r], fds, MANY[r + 1])) this.#pause();
        if (created !== null) this.#offer(created);
      }
      if (n < batch) return;
    }
  }
}

function validateIdList(value: unknown, name: string): number[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) throw invalidType(name, 'an array of integers', value);
  value.forEach((v, i) => validateInteger(v, `${name}[${i}]`, 0, 2 ** 32 - 1));
  return [...value];
}

/**
 * Listens on a Unix socket path, an abstract name or a TCP host:port. The returned server yields
 * channels ('connection' events or for-await); for datagram, a channel per sending peer address.
 */
export async function listen<T = Buffer>(address: SocketAddress, options: ListenOptions = {}): Promise<Server<T>> {
  validateObject(options, 'options');
  const resolved = await resolveAddress(address);
  const tcp = resolved.family === 2;
  const settings = settingsFrom(options, tcp);
  const mode = optionalInteger(options.mode, 'options.mode', 0o600, 0, 0o7777);
  const backlog = optionalInteger(options.backlog, 'options.backlog', 511, 1, 65535);
  let replaceStale = true;
  if (options.replaceStale !== undefined) {
    validateBoolean(options.replaceStale, 'options.replaceStale');
    replaceStale = options.replaceStale;
  }
  const allowUids = validateIdList(options.allowUids, 'options.allowUids');
  const allowGids = validateIdList(options.allowGids, 'options.allowGids');
  if (tcp && (allowUids || allowGids)) {
    throw new ArgValueError("The options 'allowUids' and 'allowGids' need a Unix socket: TCP has no peer credentials");
  }
  const fd = native.sockListen(KIND_CODE[settings.kind], resolved.family, resolved.name, resolved.port, backlog, mode, replaceStale);
  try {
    let actual = resolved;
    if (tcp) {
      const [, name, port] = native.sockLocalAddress(fd);
      actual = { family: 2, name, port };
    }
    return new Server<T>(INTERNAL, fd, settings, actual, allowUids, allowGids);
  } catch (err) {
    native.closeFd(fd);
    if (resolved.family === 0) unlinkSync(resolved.name);
    throw err;
  }
}

/** Connects to a server and returns the channel. */
export async function connect<T = Buffer>(address: SocketAddress, options: ConnectOptions = {}): Promise<Channel<T>> {
  validateObject(options, 'options');
  const ms = validateTimeout(options.timeout, 'options.timeout');
  const signal: unknown = options.signal;
  validateAbortSignal(signal, 'options.signal');
  const resolved = await resolveAddress(address);
  const tcp = resolved.family === 2;
  const settings = settingsFrom(options, tcp);
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const [fd, pending] = native.sockConnect(KIND_CODE[settings.kind], resolved.family, resolved.name, resolved.port);
  try {
    if (pending) await writable(fd, ms, signal, describeAddress(resolved));
    let peer: PeerCredentials | null = null;
    if (!tcp && settings.kind !== 'datagram') {
      const [pid, uid, gid] = native.sockPeerCred(fd);
      peer = { pid, uid, gid };
    }
    return new Channel<T>(INTERNAL, { fd, settings, peer, remote: resolved });
  } catch (err) {
    native.closeFd(fd);
    throw err;
  }
}

// Waits until a non-blocking connect finishes and throws its error, if any.
function writable(fd: number, ms: number | undefined, signal: AbortSignal | undefined, where: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: unknown) => {
      watcher.close();
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const watcher = new native.FdWatcher(fd, (status) => {
      if (status < 0) return finish(pollError(status, fd, where));
      try {
        native.sockConnectResult(fd, where);
        finish(null);
      } catch (err) {
        finish(err);
      }
    });
    const onAbort = () => finish(new AbortError(undefined, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (ms !== undefined) {
      timer = setTimeout(() => finish(Object.assign(new Error(`ETIMEDOUT: connection timed out, connect '${where}'`),
        { code: 'ETIMEDOUT', syscall: 'connect', address: where })), ms);
    }
    watcher.start(2);
  });
}
