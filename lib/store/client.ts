// The client side of the store: every operation goes to the owner of its block, locally (a call,
// no message) when that is this member, else as a request record in that owner's batch. A batch is
// one message, sent once per tick (a microtask after the calls that filled it), so thousands of
// operations issued together cost a handful of messages. Requests are matched to replies by id;
// every request has a deadline, and an owner that goes down rejects all of its requests at once.
// With the read cache on, reads and loads of other members' blocks are answered from copies of
// whole blocks (lib/store/cache.ts), fetched once and dropped when their owner invalidates them.
import { closedError, TimeoutError } from '../internal/errors';
import type { PeerId, Transport } from '../rpc/transport';
import type { BlockCache } from './cache';
import { OwnerDeadError, RejectedError, TooManyWaitersError } from './errors';
import type { Layout } from './ownership';
import type { Owner } from './owner';
import { type OnError, type OnValue, type Pending, PendingQueue } from './pending';
import {
  BatchWriter,
  encodeInvalidations,
  forEachInvalidation,
  KIND_REQUESTS,
  MESSAGE_HEADER,
  NOTIFY_ALL,
  OP_COMPARE_EXCHANGE,
  OP_FETCH,
  OP_LOAD,
  OP_NOTIFY,
  OP_READ,
  OP_WAIT,
  OP_WRITE,
  REPLY_HEADER,
  REQUEST_HEADER,
  STATUS_CLOSING,
  STATUS_OK,
  STATUS_TOO_MANY_WAITERS,
  WAIT_RESULTS,
} from './protocol';

export type { OnError, OnValue };

/**
 * Batches go out in a reaction of this promise: a microtask like queueMicrotask(), without the
 * AsyncResource and bound function that Node's queueMicrotask() makes per call.
 */
const RESOLVED = Promise.resolve();

const WAITING = 0; // never reached yet: requests queue until it is (or they time out)
const UP = 1;
const DOWN = 2; // was up, went away: requests reject with ERR_STORE_OWNER_DEAD until it is back

class Route {
  readonly member: number;
  transport: Transport | undefined;
  peer: PeerId = -1;
  state = WAITING;
  cause: Error | undefined;
  readonly batch: BatchWriter;
  /** Whether a message taken from `batch` must be a copy (the transport may hold it after send()). */
  owned = true;
  /** The deadline of the requests in `batch` (one clock read per batch: they are all issued in one tick). */
  deadline = 0;
  /** Messages made while the owner was not up yet. */
  readonly held: Buffer[] = [];
  /** Requests in id order: answered in that order (see PendingQueue). */
  readonly pending = new PendingQueue();
  /** waitAsync requests: answered when woken, and their deadlines are their own, so they are kept apart. */
  readonly waits = new Map<number, Pending>();
  scheduled = false;
  constructor(member: number, limit: number) {
    this.member = member;
    this.batch = new BatchWriter(KIND_REQUESTS, limit);
  }
}

export interface ClientOptions {
  /** Milliseconds before a request with no reply rejects (undefined: never). */
  timeout: number | undefined;
  /** Largest message: a batch never grows past it. */
  messageLimit: number;
  /** The read cache (undefined: off). */
  cache?: BlockCache | undefined;
}

/** A read waiting for its block's copy to arrive: the bytes, or why there are none. */
type Reader = (bytes: Buffer | undefined, err: Error | undefined) => void;

export class Client {
  readonly #layout: Layout;
  readonly #self: number;
  readonly #owner: Owner | undefined;
  readonly #timeout: number | undefined;
  readonly #routes: Route[];
  readonly #cache: BlockCache | undefined;
  /** Blocks being fetched for the cache, with the reads waiting for them (one FETCH per block at a time). */
  readonly #fetching = new Map<number, Reader[]>();
  /** Routes with a batch to send at the end of this tick: the first #dirtyCount entries. */
  readonly #dirty: Route[] = [];
  #dirtyCount = 0;
  #nextId = 0;
  #inflight = 0;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(layout: Layout, self: number, owner: Owner | undefined, options: ClientOptions) {
    this.#layout = layout;
    this.#self = self;
    this.#owner = owner;
    this.#timeout = options.timeout;
    this.#cache = options.cache;
    this.#routes = Array.from({ length: layout.members }, (_, m) => new Route(m, options.messageLimit));
  }

  /** Whether requests to `member` can be sent now (it is this member, or its route is up). */
  isUp(member: number): boolean {
    return member === this.#self || this.#routes[member]?.state === UP;
  }

  /** `member` is reachable through `transport` as `peer`: queued requests go now. */
  attach(member: number, transport: Transport, peer: PeerId): void {
    const r = this.#routes[member];
    if (r === undefined || this.#closed) return;
    r.transport = transport;
    r.peer = peer;
    r.state = UP;
    r.cause = undefined;
    r.owned = transport.copies !== true;
    this.#cache?.dropOwner(member, this.#layout); // a member back in its slot starts empty
    for (const m of r.held.splice(0)) transport.send(peer, m);
    this.#flush(r);
  }

  /** `member` went away: everything pending for it rejects, and so will new requests until it is back. */
  detach(member: number, transport: Transport, cause: Error): void {
    const r = this.#routes[member];
    if (r === undefined || r.transport !== transport || r.state !== UP) return;
    r.state = DOWN;
    r.cause = cause;
    r.transport = undefined;
    r.held.length = 0;
    r.batch.clear();
    this.#cache?.dropOwner(member, this.#layout); // its blocks are gone with it
    this.#failAll(r, this.#dead(member, cause));
  }

  /**
   * Invalidations from `member`: drops those copies, then acknowledges every record through `ack`
   * (a block not held, or not `member`'s, is only acknowledged: nothing of this member changes).
   */
  invalidations(member: number, data: Buffer, ack: (message: Buffer) => void): void {
    const tokens: number[] = [];
    const L = this.#layout;
    forEachInvalidation(data, (token, block) => {
      tokens.push(token);
      if (block < L.blocks && L.ownerOfBlock(block) === member) this.#cache?.invalidate(block);
    });
    if (tokens.length > 0) ack(encodeInvalidations(tokens, undefined));
  }

  #dead(member: number, cause: Error | undefined): OwnerDeadError {
    return new OwnerDeadError(member, this.#layout.blocksOf(member), { cause });
  }

  #failAll(r: Route, err: Error): void {
    const all = r.pending.drain();
    for (const p of r.waits.values()) all.push(p);
    this.#inflight -= all.length;
    r.waits.clear();
    for (const p of all) p.reject(err);
  }

  /** A message of replies from `member`; parsing stops at the first record that does not fit (a broken message). */
  replies(member: number, data: Buffer): void {
    const r = this.#routes[member];
    if (r === undefined || data.length < MESSAGE_HEADER) return;
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    const count = view.getUint16(2, true);
    let pos = MESSAGE_HEADER;
    for (let i = 0; i < count; i++) {
      if (pos + REPLY_HEADER > data.length) return;
      const id = view.getUint32(pos, true);
      const status = data[pos + 4] as number;
      const len = view.getUint32(pos + 8, true);
      const off = pos + REPLY_HEADER;
      if (off + len > data.length) return;
      pos = off + len;
      let p = r.pending.take(id);
      if (p === undefined) {
        p = r.waits.get(id);
        if (p === undefined) continue; // late (after its timeout) or not ours: nothing waits for it
        r.waits.delete(id);
      }
      this.#inflight--;
      if (status === STATUS_OK) this.#settle(p, member, data, view, off, len);
      else if (status === STATUS_CLOSING) p.reject(this.#dead(member, undefined));
      else if (status === STATUS_TOO_MANY_WAITERS && p.op === OP_WAIT) p.reject(new TooManyWaitersError(member));
      else p.reject(new RejectedError(member, status));
    }
  }

  #settle(p: Pending, member: number, buf: Buffer, view: DataView, off: number, len: number): void {
    switch (p.op) {
      case OP_READ:
        if (len !== p.width) break;
        buf.copy(p.into as Buffer, p.tag, off, off + len);
        p.resolve(undefined, 0);
        return;
      case OP_WRITE:
        p.resolve(undefined, 0);
        return;
      case OP_FETCH: {
        if (len !== p.width) break;
        const copy = Buffer.allocUnsafeSlow(len);
        buf.copy(copy, 0, off, off + len);
        p.resolve(copy, 0);
        return;
      }
      case OP_WAIT:
        if (len !== 1 || (buf[off] as number) > 2) break;
        p.resolve(WAIT_RESULTS[buf[off] as number], 0);
        return;
      case OP_NOTIFY:
        if (len !== 4) break;
        p.resolve(view.getUint32(off, true), 0);
        return;
      default:
        if (len !== p.width) break;
        p.resolve(len === 4 ? view.getInt32(off, true) : view.getBigInt64(off, true), p.tag);
        return;
    }
    p.reject(new RejectedError(member, -1)); // a reply of the wrong shape
  }

  // --- submitting ---

  /** The route for a request to `member`, or undefined after rejecting it (closed, owner down). */
  #route(member: number, reject: OnError): Route | undefined {
    if (this.#closed) {
      reject(closedError('Store'));
      return undefined;
    }
    const r = this.#routes[member] as Route;
    if (r.state === DOWN) {
      reject(this.#dead(member, r.cause));
      return undefined;
    }
    return r;
  }

  /**
   * Appends a request to `r`'s batch and files its Pending (made by #pending with r's deadline);
   * returns where its payload goes. A WAIT is filed apart with its own deadline, set by the caller.
   */
  #enqueue(r: Route, op: number, address: number, length: number, payload: number, p: Pending, wait: boolean): number {
    const id = (this.#nextId = (this.#nextId + 1) >>> 0);
    p.id = id;
    if (wait) r.waits.set(id, p);
    else r.pending.push(p);
    if (this.#inflight++ === 0) this.#startSweeper();
    const at = r.batch.request(id, op, address, length, payload);
    if (!r.scheduled) {
      r.scheduled = true;
      this.#dirty[this.#dirtyCount] = r;
      if (this.#dirtyCount++ === 0) RESOLVED.then(this.#flushAll);
    }
    return at;
  }

  /** A Pending for a request about to go into `r`'s batch (flushed first if the request does not fit). */
  #pending(r: Route, bytes: number, op: number, width: number, resolve: OnValue, reject: OnError, tag: number): Pending {
    if (!r.batch.fits(REQUEST_HEADER + bytes)) this.#flush(r);
    if (r.batch.empty) r.deadline = this.#timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + this.#timeout;
    return { id: 0, op, width, deadline: r.deadline, resolve, reject, into: undefined, tag };
  }

  /** load/store/add/.../compareExchange on a 4- or 8-byte cell; `a`, `b` already coerced (number or bigint). */
  cell(
    op: number,
    address: number,
    width: number,
    a: number | bigint,
    b: number | bigint,
    resolve: OnValue,
    reject: OnError,
    tag = 0,
  ): void {
    const member = this.#layout.ownerOf(address);
    const owner = this.#owner;
    if (member === this.#self && owner !== undefined) {
      if (this.#closed || owner.closed) reject(closedError('Store'));
      else if (owner.defers(op, address, width, a, () => this.cell(op, address, width, a, b, resolve, reject, tag))) return;
      else
        resolve(
          width === 4 ? owner.cell32(op, address, a as number, b as number) : owner.cell64(op, address, a as bigint, b as bigint),
          tag,
        );
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    if (op === OP_LOAD && this.#cache !== undefined) {
      this.#cached(
        r,
        address,
        (bytes, at) => resolve(width === 4 ? bytes.readInt32LE(at) : bytes.readBigInt64LE(at), tag),
        reject,
      );
      return;
    }
    const payload = op === OP_LOAD ? 0 : op === OP_COMPARE_EXCHANGE ? 2 * width : width;
    const p = this.#pending(r, payload, op, width, resolve, reject, tag);
    const at = this.#enqueue(r, op, address, width, payload, p, false);
    if (payload === 0) return;
    const v = r.batch.view;
    if (width === 4) {
      v.setInt32(at, a as number, true);
      if (op === OP_COMPARE_EXCHANGE) v.setInt32(at + 4, b as number, true);
    } else {
      v.setBigInt64(at, a as bigint, true);
      if (op === OP_COMPARE_EXCHANGE) v.setBigInt64(at + 8, b as bigint, true);
    }
  }

  /** Reads [address, address + length) (within one block) into `into` at `at`. */
  read(address: number, length: number, into: Buffer, at: number, resolve: OnValue, reject: OnError): void {
    const member = this.#layout.ownerOf(address);
    const owner = this.#owner;
    if (member === this.#self && owner !== undefined) {
      if (this.#closed || owner.closed) {
        reject(closedError('Store'));
        return;
      }
      if (owner.defers(OP_READ, address, length, 0, () => this.read(address, length, into, at, resolve, reject))) return;
      owner.read(address, length, into, at);
      resolve(undefined, 0);
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    if (this.#cache !== undefined) {
      this.#cached(
        r,
        address,
        (bytes, off) => {
          bytes.copy(into, at, off, off + length);
          resolve(undefined, 0);
        },
        reject,
      );
      return;
    }
    const p = this.#pending(r, 0, OP_READ, length, resolve, reject, at);
    p.into = into;
    this.#enqueue(r, OP_READ, address, length, 0, p, false);
  }

  /** Writes `bytes[start, start + length)` at `address` (within one block). */
  write(address: number, bytes: Uint8Array, start: number, length: number, resolve: OnValue, reject: OnError): void {
    const member = this.#layout.ownerOf(address);
    const owner = this.#owner;
    if (member === this.#self && owner !== undefined) {
      if (this.#closed || owner.closed) {
        reject(closedError('Store'));
        return;
      }
      if (owner.defers(OP_WRITE, address, length, 0, () => this.write(address, bytes, start, length, resolve, reject))) return;
      owner.write(address, bytes, start, length);
      resolve(undefined, 0);
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    const p = this.#pending(r, length, OP_WRITE, 0, resolve, reject, 0);
    const at = this.#enqueue(r, OP_WRITE, address, length, length, p, false);
    r.batch.buf.set(bytes.subarray(start, start + length), at);
  }

  /** waitAsync at the owner; `timeout` undefined: none (the request then has no deadline either). */
  wait(
    address: number,
    width: number,
    expected: number | bigint,
    timeout: number | undefined,
    resolve: OnValue,
    reject: OnError,
  ): void {
    const member = this.#layout.ownerOf(address);
    const owner = this.#owner;
    if (member === this.#self && owner !== undefined) {
      if (this.#closed || owner.closed) {
        reject(closedError('Store'));
        return;
      }
      if (owner.defers(OP_WAIT, address, width, 0, () => this.wait(address, width, expected, timeout, resolve, reject))) return;
      owner.wait(address, width, expected, timeout, undefined, (result) =>
        result < 0 ? reject(closedError('Store')) : resolve(WAIT_RESULTS[result], 0),
      );
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    const p = this.#pending(r, width + 8, OP_WAIT, width, resolve, reject, 0);
    p.deadline =
      timeout === undefined || this.#timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeout + this.#timeout;
    const at = this.#enqueue(r, OP_WAIT, address, width, width + 8, p, true);
    const v = r.batch.view;
    if (width === 4) v.setInt32(at, expected as number, true);
    else v.setBigInt64(at, expected as bigint, true);
    v.setFloat64(at + width, timeout === undefined ? -1 : timeout, true);
  }

  notify(address: number, width: number, count: number, resolve: OnValue, reject: OnError): void {
    const member = this.#layout.ownerOf(address);
    const owner = this.#owner;
    if (member === this.#self && owner !== undefined) {
      if (this.#closed || owner.closed) {
        reject(closedError('Store'));
        return;
      }
      if (owner.defers(OP_NOTIFY, address, width, 0, () => this.notify(address, width, count, resolve, reject))) return;
      resolve(owner.notify(address, count), 0);
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    const p = this.#pending(r, 4, OP_NOTIFY, width, resolve, reject, 0);
    const at = this.#enqueue(r, OP_NOTIFY, address, width, 4, p, false);
    r.batch.view.setUint32(at, Number.isFinite(count) ? Math.min(count, NOTIFY_ALL - 1) : NOTIFY_ALL, true);
  }

  /**
   * A read of `address` from the cache: `answer(bytes, offset)` with the block's copy (at once when
   * it is held), else once the block is fetched (one FETCH per block, however many reads wait for it).
   */
  #cached(r: Route, address: number, answer: (bytes: Buffer, at: number) => void, reject: OnError): void {
    const cache = this.#cache as BlockCache;
    const bs = this.#layout.blockSize;
    const block = Math.floor(address / bs);
    const at = address - block * bs;
    const copy = cache.get(block);
    if (copy !== undefined) {
      cache.stats.hits++;
      answer(copy, at);
      return;
    }
    cache.stats.misses++;
    const reader: Reader = (bytes, err) => (bytes === undefined ? reject(err as Error) : answer(bytes, at));
    const waiting = this.#fetching.get(block);
    if (waiting !== undefined) {
      waiting.push(reader);
      return;
    }
    const readers = [reader];
    this.#fetching.set(block, readers);
    const p = this.#pending(
      r,
      0,
      OP_FETCH,
      bs,
      (bytes: Buffer) => {
        this.#fetching.delete(block);
        cache.put(block, bytes); // replies and invalidations come in order: a later invalidation drops it
        for (const f of readers) f(bytes, undefined);
      },
      (err) => {
        this.#fetching.delete(block);
        for (const f of readers) f(undefined, err);
      },
      0,
    );
    this.#enqueue(r, OP_FETCH, block * bs, bs, 0, p, false);
  }

  // --- sending, deadlines ---

  readonly #flushAll = (): void => {
    const dirty = this.#dirty;
    try {
      for (let i = 0; i < this.#dirtyCount; i++) {
        const r = dirty[i] as Route;
        r.scheduled = false;
        this.#flush(r);
      }
    } finally {
      // A send that threw must not leave the rest scheduled for ever.
      for (let i = 0; i < this.#dirtyCount; i++) (dirty[i] as Route).scheduled = false;
      this.#dirtyCount = 0;
    }
  };

  #flush(r: Route): void {
    if (r.batch.empty) return;
    if (r.state === UP && r.transport !== undefined) r.transport.send(r.peer, r.batch.take(r.owned));
    else if (r.state === WAITING) r.held.push(r.batch.take(true));
    else r.batch.clear();
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined) return;
    const every = this.#timeout === undefined ? 1000 : Math.max(5, Math.min(250, this.#timeout / 4));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#sweeper.unref();
  }

  #sweep(): void {
    const now = Date.now();
    for (const r of this.#routes) {
      // Same timeout for all, and in id order: the first one not yet due ends the sweep of the route.
      for (let p = r.pending.peek(); p !== undefined && p.deadline <= now; p = r.pending.peek()) {
        r.pending.shift();
        this.#inflight--;
        p.reject(new TimeoutError(`store request to member ${r.member}`, this.#timeout));
      }
      for (const [id, p] of r.waits) {
        if (p.deadline > now) continue;
        r.waits.delete(id);
        this.#inflight--;
        p.reject(new TimeoutError(`store request to member ${r.member}`, this.#timeout));
      }
    }
    if (this.#inflight === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache?.clear();
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    for (const r of this.#routes) {
      r.held.length = 0;
      r.batch.clear();
      this.#failAll(r, closedError('Store'));
    }
  }
}
