// The transport over channels (Unix sockets or TCP; any host): each peer is one channel, added
// with the number the caller gives it. A channel's close or error is that peer's 'peer-down'.
// Messages past the channel's queue bound wait here, in order, until it drains.
import type { Channel } from '../channel/channel';
import { InterprocError } from '../internal/errors';
import { type PeerId, TransportBase } from './transport';

interface Link {
  channel: Channel;
  /** Messages held while the channel's queue is at its hard bound; sent on 'drain'. */
  held: Uint8Array[];
  detach: () => void;
}

export class ChannelTransport extends TransportBase {
  readonly self: PeerId;
  readonly #links = new Map<PeerId, Link>();
  #maxMessageSize = 16 * 1024 * 1024;

  /** `self`: this process's own number in the protocol above (-1 when it has none). */
  constructor(self: PeerId = -1) {
    super();
    this.self = self;
  }

  get maxMessageSize(): number {
    return this.#maxMessageSize;
  }

  /** Makes `channel` the way to `peer` (raw codec). A channel already there for `peer` is replaced and closed. */
  add(peer: PeerId, channel: Channel): void {
    if (this.closed) throw new InterprocError('ERR_INVALID_STATE', 'the transport is closed');
    this.remove(peer);
    const onMessage = (m: { data: Buffer }) => {
      if (this.#links.get(peer)?.channel === channel) this.deliver(peer, m.data);
    };
    const onDrain = () => this.#flush(peer);
    const onGone = (err?: unknown) => {
      if (this.#links.get(peer)?.channel !== channel) return;
      this.#links.delete(peer);
      const cause = err instanceof Error ? err : (channel.errored ?? undefined);
      this.markDown(peer, new InterprocError('ERR_CHANNEL_CLOSED', `the channel to peer ${peer} closed`, { cause }));
    };
    const onError = () => {}; // the error is in channel.errored; 'close' follows
    channel.on('message', onMessage);
    channel.on('drain', onDrain);
    channel.on('error', onError);
    channel.on('close', () => onGone(channel.errored));
    const detach = () => {
      channel.off('message', onMessage);
      channel.off('drain', onDrain);
      channel.off('error', onError);
    };
    this.#links.set(peer, { channel, held: [], detach });
    this.markUp(peer);
    if (channel.closed) onGone(channel.errored);
  }

  /** Lets go of `peer`'s channel and closes it; the peer reads as down. */
  remove(peer: PeerId): void {
    const link = this.#links.get(peer);
    if (link === undefined) return;
    this.#links.delete(peer);
    link.detach();
    link.channel.destroy();
    this.markDown(peer, new InterprocError('ERR_CHANNEL_CLOSED', `the channel to peer ${peer} was removed`));
  }

  /** The channel of `peer`, if it is up. */
  channel(peer: PeerId): Channel | undefined {
    return this.#links.get(peer)?.channel;
  }

  send(peer: PeerId, data: Uint8Array): boolean {
    const link = this.#links.get(peer);
    if (link === undefined || !this.isUp(peer)) return false;
    if (link.held.length > 0) {
      link.held.push(data);
      return true;
    }
    this.#write(peer, link, data);
    return true;
  }

  #write(peer: PeerId, link: Link, data: Uint8Array): void {
    try {
      link.channel.send(data);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SEND_QUEUE_FULL') link.held.push(data);
      else {
        this.#links.delete(peer);
        link.detach();
        link.channel.destroy(err as Error);
        this.markDown(peer, err as Error);
      }
    }
  }

  #flush(peer: PeerId): void {
    const link = this.#links.get(peer);
    if (link === undefined) return;
    const held = link.held.splice(0);
    for (let i = 0; i < held.length; i++) {
      this.#write(peer, link, held[i] as Uint8Array);
      if (link.held.length > 0) {
        // The queue filled up again: keep the rest, in order, behind what was just held.
        link.held.push(...held.slice(i + 1));
        return;
      }
    }
  }

  protected onClose(): void {
    for (const link of this.#links.values()) {
      link.detach();
      void link.channel.close({ timeout: 1000 }).catch(() => {});
    }
    this.#links.clear();
  }
}
