// The conveniences: an RpcClient to the one peer of a channel or a two-party Mailbox (or to one
// member of a MailboxGroup), and serve() on a channel, a server's every connection, a Mailbox or
// a group. Each channel or group gets one endpoint (and one transport, so one receive loop) however
// many clients and servers use it; it closes when the last of them does.
import { Channel } from '../channel/channel';
import { Server } from '../channel/server';
import { InterprocError } from '../internal/errors';
import { invalidType, validateInteger } from '../internal/validate';
import { MailboxGroup } from '../mailbox/group';
import { Mailbox } from '../mailbox/mailbox';
import { ChannelTransport } from './channel-transport';
import { type RequestOptions, RpcEndpoint, type RpcEndpointOptions, type RpcHandler } from './endpoint';
import { MailboxTransport } from './mailbox-transport';
import { type PeerId, type Transport, TransportBase } from './transport';

/** What rpcClient and serve run over. */
export type RpcTarget = Channel | Mailbox | MailboxGroup | Transport;

interface Shared {
  endpoint: RpcEndpoint;
  users: number;
}

const shared = new WeakMap<object, Shared>();

/** The one endpoint over `target`, made on first use; release() it when done. */
function acquire(target: RpcTarget, options: RpcEndpointOptions): Shared {
  const known = shared.get(target);
  if (known !== undefined && !known.endpoint.closed) {
    known.users++;
    return known;
  }
  let transport: Transport;
  if (target instanceof Channel) {
    const t = new ChannelTransport(-1);
    t.add(0, target);
    transport = t;
  } else if (target instanceof Mailbox) {
    transport = new MailboxTransport(Mailbox.groupOf(target));
  } else if (target instanceof MailboxGroup) {
    transport = new MailboxTransport(target);
  } else if (target instanceof TransportBase || isTransport(target)) {
    transport = target;
  } else {
    throw invalidType('target', 'a Channel, Mailbox, MailboxGroup or Transport', target);
  }
  const s: Shared = { endpoint: new RpcEndpoint(transport, { timeout: options.timeout }), users: 1 };
  shared.set(target, s);
  return s;
}

function release(target: RpcTarget, s: Shared): void {
  if (--s.users > 0) return;
  if (shared.get(target) === s) shared.delete(target);
  s.endpoint.close();
}

function isTransport(v: unknown): v is Transport {
  const t = v as Partial<Transport> | null;
  return typeof t?.send === 'function' && typeof t.isUp === 'function' && typeof t.on === 'function';
}

/** The peer a client of `target` talks to: the channel's other end, the Mailbox's other member, or `peer`. */
function peerOf(target: RpcTarget, peer: PeerId | undefined): PeerId {
  if (target instanceof Channel) return 0;
  if (target instanceof Mailbox) return 1 - target.id;
  if (peer === undefined) {
    throw new InterprocError('ERR_INVALID_ARG_VALUE', 'rpcClient(group or transport, peer): the peer is required');
  }
  validateInteger(peer, 'peer', 0, 2 ** 31 - 1);
  return peer;
}

const CONSTRUCT: unique symbol = Symbol('interproc.rpc');

/** Requests to one peer. */
export class RpcClient implements Disposable {
  readonly peer: PeerId;
  readonly #target: RpcTarget;
  readonly #shared: Shared;
  #closed = false;

  /** Clients come from rpcClient(); the token cannot be had outside the library. */
  constructor(token: typeof CONSTRUCT, target: RpcTarget, peer: PeerId, s: Shared) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use rpcClient()');
    this.#target = target;
    this.peer = peer;
    this.#shared = s;
  }

  /** The endpoint underneath (shared with every client and server on the same channel or group). */
  get endpoint(): RpcEndpoint {
    return this.#shared.endpoint;
  }

  get closed(): boolean {
    return this.#closed || this.#shared.endpoint.closed;
  }

  /** Sends `data` and resolves with the reply: see RpcEndpoint#request. */
  request(data: Uint8Array | string, options?: RequestOptions): Promise<Buffer> {
    return this.#shared.endpoint.request(this.peer, data, options);
  }

  /** Requests waiting for their reply. */
  get pending(): number {
    return this.#shared.endpoint.pending(this.peer);
  }

  /**
   * Lets go of the endpoint; when no client or server uses it any more it closes (its pending
   * requests reject with ERR_INVALID_STATE, a channel is closed, a mailbox group stays open).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    release(this.#target, this.#shared);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A client for requests over `target`: a Channel (to its peer), a two-party Mailbox (to the other
 * member), or a MailboxGroup or Transport (to member/peer `peer`).
 */
export function rpcClient(target: RpcTarget, peer?: PeerId, options: RpcEndpointOptions = {}): RpcClient {
  const to = peerOf(target, peer);
  return new RpcClient(CONSTRUCT, target, to, acquire(target, options));
}

/** What serve() returns: close() stops answering (and lets go of the endpoints it made). */
export class RpcServer implements Disposable {
  readonly #stop: () => void;
  #closed = false;

  /** Servers come from serve(); the token cannot be had outside the library. */
  constructor(token: typeof CONSTRUCT, stop: () => void) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use serve()');
    this.#stop = stop;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Answers requests with `handler` (sync or async; a throw goes back as an error reply, with the
 * error's name, message and code): on a Channel, on every connection a Server accepts (now and
 * later), on a Mailbox, on a MailboxGroup (from every member), or on a Transport.
 */
export function serve(target: RpcTarget | Server, handler: RpcHandler): RpcServer {
  if (typeof handler !== 'function') throw invalidType('handler', 'a function', handler);
  if (target instanceof Server) {
    const served = new Map<Channel, Shared>();
    const onConnection = (channel: Channel) => {
      const s = acquire(channel, {});
      s.endpoint.serve(handler);
      served.set(channel, s);
      channel.once('close', () => {
        if (served.delete(channel)) release(channel, s);
      });
    };
    target.on('connection', onConnection);
    return new RpcServer(CONSTRUCT, () => {
      target.off('connection', onConnection);
      for (const [channel, s] of served) {
        s.endpoint.stopServing(handler);
        release(channel, s);
      }
      served.clear();
    });
  }
  const s = acquire(target, {});
  s.endpoint.serve(handler);
  return new RpcServer(CONSTRUCT, () => {
    s.endpoint.stopServing(handler);
    release(target, s);
  });
}
