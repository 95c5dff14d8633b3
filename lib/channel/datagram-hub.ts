// The datagram side of a Server: one unconnected socket, many peers. The hub reads every datagram
// (recvmmsg with the senders' addresses and credentials) and hands it to the channel of its sender's
// address, creating that channel on a peer's first datagram; the channels send through the same fd.
// A channel whose inbox is full pauses the whole socket until it has room again.
import { native } from '../internal/binding';
import { openChannel, type Channel, type HubEndpoint } from './channel';
import { MANY_ADDR_SIZE, MANY_RECORD, REC_ADDR_LENGTH, REC_BITS, REC_LENGTH, RECV_WANT_ADDRESS } from './constants';
import { batchFor, closeFds, MANY, MANY_ADDR, manyCredentials, manyFds, scratchOf } from './io';
import type { Settings } from './settings';
import type { PeerCredentials } from './types';

/** What the hub needs of the server that owns it. */
export interface HubOwner<T> {
  /** False once the server is closed or paused: stop reading. */
  readonly reading: boolean;
  readonly closed: boolean;
  /** A new peer: whether the allow-list admits it (a refusal is reported by the server). */
  admit(peer: PeerCredentials | null): boolean;
  /** A new channel: counted by the server until it closes. */
  track(channel: Channel<T>): void;
  /** Hands a new channel to the application ('connection' or for-await). */
  offer(channel: Channel<T>): void;
  pause(): void;
  resume(): void;
  /** Receiving failed (the server's 'error'). */
  error(err: unknown): void;
  // biome-ignore lint/suspicious/noExplicitAny: a channel of any message type (Channel<T> is invariant in T)
  onUnhandledError(err: Error, channel: Channel<any>): void;
}

interface Peer<T> {
  channel: Channel<T>;
  endpoint: HubEndpoint;
}

export class DatagramHub<T> {
  readonly #fd: number;
  readonly #settings: Settings;
  readonly #owner: HubOwner<T>;
  readonly #peers = new Map<string, Peer<T>>();

  constructor(fd: number, settings: Settings, owner: HubOwner<T>) {
    this.#fd = fd;
    this.#settings = settings;
    this.#owner = owner;
  }

  /** Some peer's inbox is full: the socket stays paused. */
  get anyPaused(): boolean {
    for (const p of this.#peers.values()) if (p.endpoint.paused) return true;
    return false;
  }

  read(): void {
    const owner = this.#owner;
    const cap = this.#settings.maxMessageSize;
    const batch = batchFor(cap);
    const buf = scratchOf(cap * batch);
    for (let round = 0; round < 8 && owner.reading; round++) {
      let n: number;
      try {
        n = native.sockRecvMany(this.#fd, buf, cap, batch, this.#settings.maxFds, RECV_WANT_ADDRESS, MANY, MANY_ADDR);
      } catch (err) {
        owner.error(err);
        return;
      }
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const fds = manyFds(i);
        const r = i * MANY_RECORD;
        if (owner.closed) {
          closeFds(fds);
          continue;
        }
        const addrLen = MANY[r + REC_ADDR_LENGTH];
        const key = MANY_ADDR.toString('latin1', i * MANY_ADDR_SIZE, i * MANY_ADDR_SIZE + addrLen);
        let peer = this.#peers.get(key);
        let created: Channel<T> | null = null;
        if (peer === undefined) {
          const credentials = manyCredentials(i);
          if (!owner.admit(credentials)) {
            closeFds(fds);
            continue;
          }
          peer = this.#open(key, credentials, Buffer.from(MANY_ADDR.subarray(i * MANY_ADDR_SIZE, i * MANY_ADDR_SIZE + addrLen)));
          created = peer.channel;
        }
        // A channel whose inbox is full pauses the whole socket (rest of this batch still delivered: the
        // messages are already out of the kernel, so they are queued rather than dropped).
        if (!peer.endpoint.deliver(buf, i * cap, MANY[r + REC_LENGTH], fds, MANY[r + REC_BITS])) owner.pause();
        if (created !== null) owner.offer(created);
      }
      if (n < batch) return;
    }
  }

  // The channel of a new peer address, answering to `to`.
  #open(key: string, credentials: PeerCredentials | null, to: Buffer): Peer<T> {
    const owner = this.#owner;
    let endpoint: HubEndpoint | null = null;
    const channel = openChannel<T>({
      fd: this.#fd,
      settings: this.#settings,
      peer: credentials,
      remote: null,
      to,
      hub: { attach: (e) => (endpoint = e), resume: () => owner.resume() },
      onUnhandledError: owner.onUnhandledError,
    });
    const peer: Peer<T> = { channel, endpoint: endpoint as unknown as HubEndpoint };
    this.#peers.set(key, peer);
    owner.track(channel);
    channel.once('close', () => {
      if (this.#peers.get(key) === peer) this.#peers.delete(key);
      owner.resume();
    });
    return peer;
  }
}
