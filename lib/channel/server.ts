// A listening socket: accepts connections (stream, seqpacket) or, through its datagram hub
// (datagram-hub.ts), makes a channel per sending peer; checks peers against the allow-list, hands
// channels out by 'connection' or for-await, and closes them with itself.
import { lstatSync, unlinkSync } from 'node:fs';
import { TypedEmitter } from '../internal/typed-emitter';
import { native, type FdWatcher } from '../internal/binding';
import { InterprocError } from '../internal/errors';
import { validateObject, validateOptionNames, validateTimeout } from '../internal/validate';
import { publicAddress, type ResolvedAddress } from './address';
import { openChannel, type Channel } from './channel';
import { FAMILY_PATH, POLL_READABLE } from './constants';
import { DatagramHub } from './datagram-hub';
import { pollError } from './io';
import { CLOSE_OPTIONS, type Settings } from './settings';
import type { PeerCredentials, SocketKind } from './types';

/** Channels held for for-await before accepting pauses. */
const MAX_PENDING = 1024;

export interface ServerInit {
  fd: number;
  settings: Settings;
  address: ResolvedAddress;
  allowUids: number[] | null;
  allowGids: number[] | null;
}

const CONSTRUCT: unique symbol = Symbol('interproc.Server');

/** @internal a server over a bound (and, but for datagram, listening) fd */
export function openServer<T>(init: ServerInit): Server<T> {
  return new Server<T>(CONSTRUCT, init);
}

/** A Server's events and their listeners. */
export type ServerEvents<T> = {
  connection: (channel: Channel<T>) => void;
  rejected: (err: Error, peer: PeerCredentials | null) => void;
  clientError: (err: Error, channel: Channel<T>) => void;
  error: (err: Error) => void;
  close: () => void;
};

/**
 * A listening socket. Events: 'connection' (channel), 'rejected' (error, peer), 'clientError'
 * (error, channel: a channel's error when the channel has no 'error' listener), 'close'.
 * Without a 'connection' listener, channels wait for for-await.
 */
export class Server<T = Buffer> extends TypedEmitter<ServerEvents<T>> implements AsyncIterable<Channel<T>>, AsyncDisposable {
  readonly #fd: number;
  readonly #settings: Settings;
  readonly #address: ResolvedAddress;
  readonly #inode: number;
  readonly #allowUids: number[] | null;
  readonly #allowGids: number[] | null;
  readonly #hub: DatagramHub<T> | null = null;
  #watcher: FdWatcher;
  #channels = new Set<Channel<T>>();
  #pending: Channel<T>[] = [];
  #waiters: { resolve: (r: IteratorResult<Channel<T>>) => void }[] = [];
  #paused = false;
  #closed = false;

  /** Servers come from listen(); the token cannot be had outside the library. */
  constructor(token: typeof CONSTRUCT, init: ServerInit) {
    super();
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use listen()');
    this.#fd = init.fd;
    this.#settings = init.settings;
    this.#address = init.address;
    this.#allowUids = init.allowUids;
    this.#allowGids = init.allowGids;
    this.#inode = init.address.family === FAMILY_PATH ? lstatSync(init.address.name).ino : 0;
    if (this.#settings.kind === 'datagram') {
      const server = this;
      this.#hub = new DatagramHub<T>(this.#fd, this.#settings, {
        get reading(): boolean {
          return !server.#closed && !server.#paused;
        },
        get closed(): boolean {
          return server.#closed;
        },
        admit: (peer) => this.#admit(peer),
        track: (ch) => this.#track(ch),
        offer: (ch) => this.#offer(ch),
        pause: () => this.#pause(),
        resume: () => this.#resume(),
        error: (err) => {
          if (this.listenerCount('error') > 0) this.emit('error', err as Error);
        },
        onUnhandledError: this.#unhandled,
      });
    }
    this.#watcher = new native.FdWatcher(this.#fd, (status) => this.#onReadable(status));
    this.#watcher.start(POLL_READABLE);
    this.on('newListener', (event) => {
      if (event === 'connection' && this.#pending.length > 0) {
        process.nextTick(() => {
          while (this.#pending.length > 0 && this.listenerCount('connection') > 0)
            this.emit('connection', this.#pending.shift() as Channel<T>);
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
    validateOptionNames(options, 'options', CLOSE_OPTIONS);
    const timeout = validateTimeout(options.timeout ?? 5000, 'options.timeout');
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.close();
    // Datagram channels send through the server's fd: end them before the fd number can be reused.
    if (this.#hub !== null) for (const ch of this.#channels) ch.destroy();
    native.closeFd(this.#fd);
    if (this.#address.family === FAMILY_PATH) {
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

  // Whether the allow-list admits a peer; a refusal is reported ('rejected').
  #admit(peer: PeerCredentials | null): boolean {
    if (this.#allowUids === null && this.#allowGids === null) return true;
    if (peer !== null && ((this.#allowUids?.includes(peer.uid) ?? false) || (this.#allowGids?.includes(peer.gid) ?? false)))
      return true;
    const who = peer ? `pid ${peer.pid}, uid ${peer.uid}, gid ${peer.gid}` : 'unknown credentials';
    const err = new InterprocError('ERR_PEER_NOT_ALLOWED', `Rejected a peer (${who}) not in allowUids/allowGids`);
    if (this.listenerCount('rejected') > 0) this.emit('rejected', err, peer);
    return false;
  }

  #track(ch: Channel<T>): void {
    this.#channels.add(ch);
    ch.once('close', () => this.#channels.delete(ch));
  }

  #offer(ch: Channel<T>): void {
    const w = this.#waiters.shift();
    if (w) w.resolve({ value: ch, done: false });
    else if (this.listenerCount('connection') > 0) this.emit('connection', ch);
    else {
      this.#pending.push(ch);
      if (this.#pending.length >= MAX_PENDING) this.#pause();
    }
  }

  #pause(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.#watcher.stop();
  }

  #resume(): void {
    if (!this.#paused || this.#closed || this.#pending.length >= MAX_PENDING) return;
    if (this.#hub?.anyPaused) return;
    this.#paused = false;
    this.#watcher.start(POLL_READABLE);
  }

  // biome-ignore lint/suspicious/noExplicitAny: a channel of any message type (Channel<T> is invariant in T)
  #unhandled = (err: Error, ch: Channel<any>): void => {
    if (this.listenerCount('clientError') > 0) this.emit('clientError', err, ch);
  };

  #onReadable(status: number): void {
    if (this.#closed) return;
    if (status < 0) {
      if (this.listenerCount('error') > 0) this.emit('error', pollError(status, this.#fd));
      return;
    }
    if (this.#hub !== null) this.#hub.read();
    else this.#acceptAll();
  }

  #acceptAll(): void {
    for (let i = 0; i < 64 && !this.#closed && !this.#paused; i++) {
      let fd: number;
      try {
        fd = native.sockAccept(this.#fd);
      } catch (err) {
        // EMFILE and the like: report, and stop accepting for a moment instead of spinning.
        if (this.listenerCount('error') > 0) this.emit('error', err as Error);
        this.#watcher.stop();
        setTimeout(() => {
          if (!this.#closed && !this.#paused) this.#watcher.start(POLL_READABLE);
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
      if (!this.#admit(peer)) {
        native.closeFd(fd);
        continue;
      }
      const ch = openChannel<T>({ fd, settings: this.#settings, peer, remote: null, onUnhandledError: this.#unhandled });
      this.#track(ch);
      this.#offer(ch);
    }
  }
}
