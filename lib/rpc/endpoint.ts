// Request/response over any Transport (lib/rpc/transport.ts): mailbox groups on one host, channels
// anywhere. An endpoint both asks (request) and answers (serve). Every request carries an id; a
// reply is matched to it by (peer, id), so many requests can be in flight and replies may come in
// any order. A peer that goes down (died, left, its channel closed) rejects every request pending
// on it at once; a handler's throw goes back as an error reply. Wire format: docs/protocol/rpc.md.
import { closedError, InterprocError } from '../internal/errors';
import { Deferred } from '../internal/deferred';
import { TypedEmitter } from '../internal/typed-emitter';
import { invalidType, validateAbortSignal, validateObject, validateTimeout } from '../internal/validate';
import {
  encode,
  errorBody,
  HEADER,
  KIND_ERROR,
  KIND_REPLY,
  KIND_REQUEST,
  parseErrorBody,
  type RemoteErrorInfo,
  VERSION,
} from './frame';
import type { PeerId, Transport } from './transport';

/** What a handler may return (or resolve with): the reply's bytes; undefined is an empty reply. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler written `(d) => { ... }` returns void; it means an empty reply
export type ReplyData = Uint8Array | string | undefined | void;

/** Who asked, for a handler. */
export interface RequestContext {
  /** The transport's number of the peer that sent the request. */
  readonly peer: PeerId;
  /** The request's id (unique among that peer's pending requests). */
  readonly id: number;
}

/** Answers one request: return the reply (or a Promise of it); a throw (or rejection) becomes an error reply. */
export type RpcHandler = (data: Buffer, context: RequestContext) => ReplyData | PromiseLike<ReplyData>;

export interface RequestOptions {
  /** Milliseconds; the request rejects with ETIMEDOUT (a late reply is dropped). Default: the endpoint's. */
  timeout?: number;
  /** Aborting rejects the request with an AbortError (a late reply is dropped). */
  signal?: AbortSignal;
}

export interface RpcEndpointOptions {
  /** Default timeout of every request, in milliseconds (default: none). */
  timeout?: number;
  /** Serves requests from the start (see serve()). */
  handler?: RpcHandler;
}

export type RpcEndpointEvents = {
  /** A peer went down; its pending requests have just been rejected. */
  'peer-down': (peer: PeerId, error: Error) => void;
  /** A handler's reply could not be sent (too large, or the peer went down meanwhile). */
  'reply-error': (peer: PeerId, error: Error) => void;
  close: () => void;
};

/** The error of a request whose handler threw: `remote` is what the handler's error said. */
export interface RemoteError extends InterprocError {
  readonly remote: RemoteErrorInfo;
  readonly peer: PeerId;
}

interface Pending {
  peer: PeerId;
  settle: Deferred<Buffer>;
}

const NO_OPTIONS: RequestOptions = Object.freeze({});

class MessageTooLargeError extends RangeError {
  readonly code = 'ERR_MESSAGE_TOO_LARGE';
}

function remoteError(peer: PeerId, info: RemoteErrorInfo): RemoteError {
  const what = info.code === undefined ? info.name : `${info.name} [${info.code}]`;
  return Object.assign(
    new InterprocError('ERR_RPC_REMOTE_ERROR', `the handler of rpc peer ${peer} threw ${what}: ${info.message}`),
    { remote: info, peer },
  );
}

/** ERR_RPC_PEER_DOWN for `peer`, naming what the transport said (and the member and pid when it knows them). */
function peerDownError(peer: PeerId, cause: Error | undefined, pending: number): InterprocError {
  const c = cause as (Error & { pid?: number; member?: number }) | undefined;
  const why = c === undefined ? 'is not up' : `went down (${c.message})`;
  const held = pending > 0 ? ` with ${pending} request${pending === 1 ? '' : 's'} pending` : '';
  const err = new InterprocError('ERR_RPC_PEER_DOWN', `rpc peer ${peer} ${why}${held}`, { cause });
  return Object.assign(err, { peer, ...(c?.pid !== undefined ? { pid: c.pid } : {}) });
}

function checkData(data: unknown, name: string): asserts data is Uint8Array | string {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw invalidType(name, 'a Uint8Array or a string', data);
}

export class RpcEndpoint extends TypedEmitter<RpcEndpointEvents> {
  readonly transport: Transport;
  readonly #pending = new Map<number, Pending>();
  readonly #timeout: number | undefined;
  #handler: RpcHandler | undefined;
  #nextId = 0;
  #closed = false;
  readonly #onMessage = (from: PeerId, data: Buffer) => this.#receive(from, data);
  readonly #onDown = (peer: PeerId, err: Error) => this.#peerDown(peer, err);
  readonly #onClose = () => this.close();

  constructor(transport: Transport, options: RpcEndpointOptions = {}) {
    super();
    validateObject(options, 'options');
    this.#timeout = validateTimeout(options.timeout, 'options.timeout');
    if (options.handler !== undefined && typeof options.handler !== 'function')
      throw invalidType('options.handler', 'a function', options.handler);
    this.transport = transport;
    this.#handler = options.handler as RpcHandler | undefined;
    transport.on('message', this.#onMessage);
    transport.on('peer-down', this.#onDown);
    transport.on('close', this.#onClose);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Requests waiting for their reply (from `peer`, or from all). */
  pending(peer?: PeerId): number {
    if (peer === undefined) return this.#pending.size;
    let n = 0;
    for (const p of this.#pending.values()) if (p.peer === peer) n++;
    return n;
  }

  /**
   * Sends `data` to `peer` and resolves with the reply's bytes. Rejects with ERR_RPC_REMOTE_ERROR
   * (the handler threw), ERR_RPC_PEER_DOWN (the peer is not up, or went down before replying),
   * ETIMEDOUT, an AbortError, or ERR_INVALID_STATE (this endpoint closed). Never throws.
   */
  request(peer: PeerId, data: Uint8Array | string, options: RequestOptions = NO_OPTIONS): Promise<Buffer> {
    let frame: Buffer, settle: Deferred<Buffer>, id: number;
    try {
      if (this.#closed) throw closedError('RpcEndpoint');
      checkData(data, 'data');
      let timeout = this.#timeout;
      let signal: AbortSignal | undefined;
      if (options !== NO_OPTIONS) {
        validateObject(options, 'options');
        if (options.timeout !== undefined) timeout = validateTimeout(options.timeout, 'options.timeout');
        validateAbortSignal(options.signal, 'options.signal');
        signal = options.signal as AbortSignal | undefined;
      }
      if (!this.transport.isUp(peer)) throw peerDownError(peer, undefined, 0);
      id = this.#nextId = (this.#nextId + 1) >>> 0;
      frame = encode(KIND_REQUEST, id, data);
      if (frame.length > this.transport.maxMessageSize) {
        throw new MessageTooLargeError(
          `an rpc request of ${frame.length - HEADER} bytes exceeds what the transport carries (${this.transport.maxMessageSize - HEADER})`,
        );
      }
      settle = new Deferred<Buffer>(
        timeout === undefined && signal === undefined
          ? { what: 'rpc request' }
          : { timeout, signal, what: `rpc request ${id} to peer ${peer}`, onCancel: () => this.#pending.delete(id) },
      );
    } catch (err) {
      return Promise.reject(err);
    }
    if (settle.settled) return settle.promise; // the signal was aborted already
    this.#pending.set(id, { peer, settle });
    if (!this.transport.send(peer, frame)) {
      this.#pending.delete(id);
      settle.reject(peerDownError(peer, undefined, 0));
    }
    return settle.promise;
  }

  /** Answers every request with `handler` from now on (replacing the one before). */
  serve(handler: RpcHandler): this {
    if (typeof handler !== 'function') throw invalidType('handler', 'a function', handler);
    if (this.#closed) throw closedError('RpcEndpoint');
    this.#handler = handler;
    return this;
  }

  /** Stops answering (requests then get ERR_RPC_NO_HANDLER error replies); with `handler`, only if it is the one serving. */
  stopServing(handler?: RpcHandler): void {
    if (handler === undefined || this.#handler === handler) this.#handler = undefined;
  }

  /**
   * Rejects every pending request with ERR_INVALID_STATE, stops answering, and closes the
   * transport (a ChannelTransport closes its channels; a MailboxTransport leaves the group open).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.transport.off('message', this.#onMessage);
    this.transport.off('peer-down', this.#onDown);
    this.transport.off('close', this.#onClose);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.settle.reject(closedError('RpcEndpoint'));
    this.transport.close();
    this.emit('close');
  }

  #receive(from: PeerId, data: Buffer): void {
    // Untrusted bytes: anything that is not a frame of ours is dropped (it costs its sender only).
    if (data.length < HEADER || data[1] !== VERSION) return;
    const kind = data[0];
    const id = data.readUInt32LE(4);
    if (kind === KIND_REQUEST) {
      this.#answer(from, id, data.subarray(HEADER));
      return;
    }
    if (kind !== KIND_REPLY && kind !== KIND_ERROR) return;
    const p = this.#pending.get(id);
    if (p === undefined || p.peer !== from) return; // late (timed out, aborted) or not this peer's to answer
    this.#pending.delete(id);
    if (kind === KIND_REPLY) p.settle.resolve(data.subarray(HEADER));
    else p.settle.reject(remoteError(from, parseErrorBody(data.subarray(HEADER))));
  }

  #answer(from: PeerId, id: number, body: Buffer): void {
    const handler = this.#handler;
    if (handler === undefined) {
      const err = new InterprocError('ERR_RPC_NO_HANDLER', 'this rpc endpoint serves no requests');
      this.#send(from, encode(KIND_ERROR, id, errorBody(err)));
      return;
    }
    let result: ReplyData | PromiseLike<ReplyData>;
    try {
      result = handler(body, { peer: from, id });
    } catch (err) {
      this.#send(from, encode(KIND_ERROR, id, errorBody(err)));
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<ReplyData>).then === 'function') {
      (result as PromiseLike<ReplyData>).then(
        (value) => this.#reply(from, id, value),
        (err: unknown) => this.#send(from, encode(KIND_ERROR, id, errorBody(err))),
      );
    } else {
      this.#reply(from, id, result as ReplyData);
    }
  }

  #reply(from: PeerId, id: number, value: ReplyData): void {
    if (value !== undefined && typeof value !== 'string' && !(value instanceof Uint8Array)) {
      const err = invalidType("the handler's reply", 'a Uint8Array, a string or undefined', value);
      this.#send(from, encode(KIND_ERROR, id, errorBody(err)));
      return;
    }
    const frame = encode(KIND_REPLY, id, value as Uint8Array | string | undefined);
    if (frame.length > this.transport.maxMessageSize) {
      const err = new MessageTooLargeError(`the reply of ${frame.length - HEADER} bytes is larger than the transport carries`);
      this.emit('reply-error', from, err);
      this.#send(from, encode(KIND_ERROR, id, errorBody(err)));
      return;
    }
    this.#send(from, frame);
  }

  #send(peer: PeerId, frame: Buffer): void {
    if (this.#closed) return;
    // A peer that went down cannot be answered; its requests died with it.
    if (!this.transport.send(peer, frame) && this.listenerCount('reply-error') > 0) {
      this.emit('reply-error', peer, peerDownError(peer, undefined, 0));
    }
  }

  #peerDown(peer: PeerId, err: Error): void {
    const mine: Pending[] = [];
    for (const [id, p] of this.#pending) {
      if (p.peer !== peer) continue;
      mine.push(p);
      this.#pending.delete(id);
    }
    for (const p of mine) p.settle.reject(peerDownError(peer, err, mine.length));
    this.emit('peer-down', peer, err);
  }
}
