// What rpc, the store and process groups see of a message transport: numbered peers, ordered
// messages to each, every message from anyone, and word when a peer goes away. Mailbox groups
// (one host) and sets of channels (Unix sockets or TCP, any host) both provide it, through the
// adapters beside this file, so a protocol written once runs over either.
import { TypedEmitter } from '../internal/typed-emitter';

/** A peer's number within one transport: its mailbox member id, or the id its channel was added with. */
export type PeerId = number;

export type TransportEvents = {
  /** One message, in the order that peer sent it. `data` is the receiver's to keep. */
  message: (from: PeerId, data: Buffer) => void;
  /** A peer is reachable (it joined, or its channel was added): messages sent to it from now on can arrive. */
  'peer-up': (peer: PeerId) => void;
  /** A peer went away (died, left, or its connection closed); `error` says which. Emitted once per time it was up. */
  'peer-down': (peer: PeerId, error: Error) => void;
  /** The transport was closed by this side. */
  close: () => void;
};

export interface Transport extends TypedEmitter<TransportEvents> {
  /** This process's own peer number (a mailbox member id); -1 when it has none (a channel client). */
  readonly self: PeerId;
  /** Largest message `send` can carry, in bytes. */
  readonly maxMessageSize: number;
  /**
   * True when send() is done with `data` by the time it returns (it copied the bytes, into a ring or
   * a queue of its own), so the caller may reuse the buffer at once; otherwise the buffer must stay
   * as it is until it has been sent (a channel queues it).
   */
  readonly copies?: boolean;
  /** The peers that are up now. */
  peers(): PeerId[];
  isUp(peer: PeerId): boolean;
  /**
   * Queues one message to `peer`, in order after every earlier one to the same peer; never blocks.
   * Returns false (and sends nothing) when the peer is not up: its 'peer-down' has been or will be emitted.
   */
  send(peer: PeerId, data: Uint8Array): boolean;
  /** Stops receiving and lets go of the peers (does not end a MailboxGroup or Channel it was given). */
  close(): void;
  readonly closed: boolean;
}

/** The base of the adapters: the up/down bookkeeping that both share. */
export abstract class TransportBase extends TypedEmitter<TransportEvents> implements Transport {
  abstract readonly self: PeerId;
  abstract readonly maxMessageSize: number;
  abstract send(peer: PeerId, data: Uint8Array): boolean;
  readonly #up = new Set<PeerId>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  peers(): PeerId[] {
    return [...this.#up];
  }

  isUp(peer: PeerId): boolean {
    return this.#up.has(peer);
  }

  protected markUp(peer: PeerId): void {
    if (this.#closed || this.#up.has(peer)) return;
    this.#up.add(peer);
    this.emit('peer-up', peer);
  }

  protected markDown(peer: PeerId, error: Error): void {
    if (!this.#up.delete(peer) || this.#closed) return;
    this.emit('peer-down', peer, error);
  }

  protected deliver(from: PeerId, data: Buffer): void {
    if (!this.#closed) this.emit('message', from, data);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#up.clear();
    this.onClose();
    this.emit('close');
  }

  protected abstract onClose(): void;
}
