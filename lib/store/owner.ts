// The owner: the memory of this member's own blocks, and the one place where operations on them run.
// Requests from peers (any transport) and the member's own calls execute here one at a time, in the
// order they arrive, so every operation on a location is linearizable. Waiters of waitAsync are kept
// here until notify() or their timeout answers them. Replies are batched per peer and sent once per tick.
// Peers that cache blocks (FETCH) are recorded in `Holders`, which holds back a change to a block
// until their copies are invalidated.
import type { PeerId, Transport } from '../rpc/transport';
import { Holders } from './holders';
import type { Layout } from './ownership';
import {
  BatchWriter,
  KIND_REPLIES,
  forEachInvalidation,
  MESSAGE_HEADER,
  NOTIFY_ALL,
  OP_ADD,
  OP_AND,
  OP_COMPARE_EXCHANGE,
  OP_EXCHANGE,
  OP_FETCH,
  OP_LOAD,
  OP_NOTIFY,
  OP_OR,
  OP_READ,
  OP_STORE,
  OP_SUB,
  OP_WAIT,
  OP_WRITE,
  OP_XOR,
  parseRequest,
  REQUEST_HEADER,
  type RequestRecord,
  requestPayload,
  STATUS_BAD_REQUEST,
  STATUS_CLOSING,
  STATUS_NOT_OWNER,
  STATUS_OK,
  STATUS_OUT_OF_RANGE,
  STATUS_TOO_MANY_WAITERS,
} from './protocol';

/** Indexes into WAIT_RESULTS. */
export const WAIT_OK = 0;
export const WAIT_NOT_EQUAL = 1;
export const WAIT_TIMED_OUT = 2;
/** A wait's end that is not a result: the owner closed, or it refused to keep one more wait of that peer. */
export const WAIT_CLOSING = -1;
export const WAIT_REFUSED = -2;

/** Waits one peer may keep pending at an owner unless the member says otherwise (options.maxWaiters). */
export const DEFAULT_MAX_WAITERS = 10_000;

/** A reply batch grows to at most this (or the transport's limit): large enough for any block (<= 1 MiB) and its header. */
const REPLY_BATCH = (1 << 20) + 64;

/** Replies go out in a reaction of this promise (a microtask without queueMicrotask()'s AsyncResource). */
const RESOLVED = Promise.resolve();

/** Where the replies to one peer go: one batch per (transport, peer). */
export class Sink {
  readonly transport: Transport;
  readonly peer: PeerId;
  readonly batch: BatchWriter;
  /** Whether a message taken from `batch` must be a copy (the transport may hold it after send()). */
  readonly owned: boolean;
  /** Waits of this peer kept now (bounded by the owner's maxWaiters). */
  waiters = 0;
  scheduled = false;
  /** The peer went away: nothing more is sent to it, and its requests still held back are dropped. */
  dropped = false;
  constructor(transport: Transport, peer: PeerId) {
    this.transport = transport;
    this.peer = peer;
    this.batch = new BatchWriter(KIND_REPLIES, Math.min(transport.maxMessageSize, REPLY_BATCH));
    this.owned = transport.copies !== true;
  }
}

interface Waiter {
  /** Answers the wait with a WAIT_* index, or WAIT_CLOSING. */
  done: (result: number) => void;
  timer: NodeJS.Timeout | undefined;
  /** The peer that asked (undefined: this member itself). */
  sink: Sink | undefined;
}

export class Owner {
  readonly layout: Layout;
  readonly member: number;
  readonly #bytes: Buffer;
  readonly #i32: Int32Array;
  readonly #i64: BigInt64Array;
  readonly #sinks = new Map<Transport, Map<PeerId, Sink>>();
  /** Sinks with replies to send at the end of this tick: the first #dirtyCount entries. */
  readonly #dirty: Sink[] = [];
  #dirtyCount = 0;
  readonly #waiters = new Map<number, Waiter[]>();
  readonly #record: RequestRecord = { id: 0, op: 0, address: 0, length: 0, payload: 0 };
  /** The sink found last: a steady peer is found without two Map lookups per message. */
  #lastSink: Sink | undefined;
  /** Waits kept per peer at most: a peer cannot make this member hold waiters (and timers) without bound. */
  readonly #maxWaiters: number;
  /** The peers holding cached copies of this member's blocks. */
  readonly #holders = new Holders((sink, message) => this.#sendNow(sink, message));
  /** Request records served (the read cache's tests count them: a cached read sends none). */
  #served = 0;
  #closed = false;

  constructor(layout: Layout, member: number, maxWaiters = DEFAULT_MAX_WAITERS) {
    this.layout = layout;
    this.member = member;
    this.#maxWaiters = maxWaiters;
    // Its own ArrayBuffer (never Node's pool), so that the typed views are aligned.
    const memory = new ArrayBuffer(layout.ownedBytes(member));
    this.#bytes = Buffer.from(memory);
    this.#i32 = new Int32Array(memory);
    this.#i64 = new BigInt64Array(memory, 0, memory.byteLength >> 3);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Request records received from peers and served (or held back), malformed ones included. */
  get served(): number {
    return this.#served;
  }

  /** Invalidations sent to holders of cached copies. */
  get invalidationsSent(): number {
    return this.#holders.sent;
  }

  /**
   * For this member's own calls: whether `op` on `address` must wait for the invalidation of cached
   * copies of its block (then `retry` runs once they are gone, and must make the call again).
   * `a` is a compareExchange's expected value (it changes the block only if the cell holds it).
   */
  defers(op: number, address: number, width: number, a: number | bigint, retry: () => void): boolean {
    if (this.#holders.idle) return false;
    const block = this.layout.blockOf(address);
    if (this.#holders.gated(block)) {
      this.#holders.defer(block, retry);
      return true;
    }
    if (!this.#holders.held(block) || !this.#changes(op, address, width, a)) return false;
    this.#holders.invalidate(block, retry);
    return true;
  }

  /** Whether `op` would change the block (a compareExchange only if the cell holds `expected`). */
  #changes(op: number, address: number, width: number, expected: number | bigint): boolean {
    switch (op) {
      case OP_READ:
      case OP_FETCH:
      case OP_LOAD:
      case OP_WAIT:
      case OP_NOTIFY:
        return false;
      case OP_COMPARE_EXCHANGE:
        return width === 4
          ? this.cell32(OP_LOAD, address, 0, 0) === ((expected as number) | 0)
          : this.cell64(OP_LOAD, address, 0n, 0n) === BigInt.asIntN(64, expected as bigint);
      default:
        return true;
    }
  }

  /** STATUS_OK when [address, address + length) is in one block of this member (and a cell is aligned). */
  check(address: number, length: number, cell: boolean): number {
    const L = this.layout;
    if (address + length > L.size || length > L.blockSize) return STATUS_OUT_OF_RANGE;
    if (cell && address % length !== 0) return STATUS_OUT_OF_RANGE;
    const block = L.blockOf(address);
    if (L.blockOf(address + length - 1) !== block) return STATUS_OUT_OF_RANGE;
    return L.ownerOfBlock(block) === this.member ? STATUS_OK : STATUS_NOT_OWNER;
  }

  // --- the operations (the caller has checked the address) ---

  read(address: number, length: number, into: Buffer, at: number): void {
    const off = this.layout.localOffset(address);
    this.#bytes.copy(into, at, off, off + length);
  }

  write(address: number, from: Uint8Array, start: number, length: number): void {
    this.#bytes.set(from.subarray(start, start + length), this.layout.localOffset(address));
  }

  /** A 32-bit read-modify-write (or load/store): returns what Atomics would. */
  cell32(op: number, address: number, a: number, b: number): number {
    const m = this.#i32;
    const i = this.layout.localOffset(address) >> 2;
    const old = m[i] as number;
    switch (op) {
      case OP_LOAD:
        return old;
      case OP_STORE:
        m[i] = a;
        return a | 0;
      case OP_ADD:
        m[i] = old + a;
        break;
      case OP_SUB:
        m[i] = old - a;
        break;
      case OP_AND:
        m[i] = old & a;
        break;
      case OP_OR:
        m[i] = old | a;
        break;
      case OP_XOR:
        m[i] = old ^ a;
        break;
      case OP_EXCHANGE:
        m[i] = a;
        break;
      case OP_COMPARE_EXCHANGE:
        if (old === (a | 0)) m[i] = b;
        break;
    }
    return old;
  }

  /** The same on a 64-bit cell. */
  cell64(op: number, address: number, a: bigint, b: bigint): bigint {
    const m = this.#i64;
    const i = Math.floor(this.layout.localOffset(address) / 8);
    const old = m[i] as bigint;
    switch (op) {
      case OP_LOAD:
        return old;
      case OP_STORE:
        m[i] = a;
        return BigInt.asIntN(64, a);
      case OP_ADD:
        m[i] = old + a;
        break;
      case OP_SUB:
        m[i] = old - a;
        break;
      case OP_AND:
        m[i] = old & a;
        break;
      case OP_OR:
        m[i] = old | a;
        break;
      case OP_XOR:
        m[i] = old ^ a;
        break;
      case OP_EXCHANGE:
        m[i] = a;
        break;
      case OP_COMPARE_EXCHANGE:
        if (old === BigInt.asIntN(64, a)) m[i] = b;
        break;
    }
    return old;
  }

  /**
   * waitAsync at the owner: answers at once with WAIT_NOT_EQUAL, or keeps the waiter until a notify
   * (WAIT_OK), its timeout (WAIT_TIMED_OUT; undefined: none), or the owner's close (WAIT_CLOSING).
   * A peer (`sink`) that already has maxWaiters waits kept is answered WAIT_REFUSED at once.
   */
  wait(
    address: number,
    width: number,
    expected: number | bigint,
    timeout: number | undefined,
    sink: Sink | undefined,
    done: (r: number) => void,
  ): void {
    const current = width === 4 ? this.cell32(OP_LOAD, address, 0, 0) : this.cell64(OP_LOAD, address, 0n, 0n);
    if (current !== expected) {
      done(WAIT_NOT_EQUAL);
      return;
    }
    if (timeout === 0) {
      done(WAIT_TIMED_OUT);
      return;
    }
    if (sink !== undefined) {
      if (sink.waiters >= this.#maxWaiters) {
        done(WAIT_REFUSED);
        return;
      }
      sink.waiters++;
    }
    let list = this.#waiters.get(address);
    if (list === undefined) {
      list = [];
      this.#waiters.set(address, list);
    }
    const w: Waiter = { done, timer: undefined, sink };
    if (timeout !== undefined && Number.isFinite(timeout)) {
      w.timer = setTimeout(
        () => {
          this.#forget(address, w);
          this.#ended(w);
          done(WAIT_TIMED_OUT);
        },
        Math.min(timeout, 2 ** 31 - 1),
      );
    }
    list.push(w);
  }

  /** Wakes up to `count` waiters of `address`, oldest first; returns how many. */
  notify(address: number, count: number): number {
    const list = this.#waiters.get(address);
    if (list === undefined) return 0;
    const n = Math.min(count, list.length);
    const woken = list.splice(0, n);
    if (list.length === 0) this.#waiters.delete(address);
    for (const w of woken) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      this.#ended(w);
      w.done(WAIT_OK);
    }
    return n;
  }

  /** A kept wait ended (answered, or dropped): its peer may keep another. */
  #ended(w: Waiter): void {
    if (w.sink !== undefined) w.sink.waiters--;
  }

  #forget(address: number, w: Waiter): void {
    const list = this.#waiters.get(address);
    if (list === undefined) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#waiters.delete(address);
  }

  // --- serving peers ---

  #sink(transport: Transport, peer: PeerId): Sink {
    const last = this.#lastSink;
    if (last !== undefined && last.transport === transport && last.peer === peer) return last;
    let byPeer = this.#sinks.get(transport);
    if (byPeer === undefined) {
      byPeer = new Map();
      this.#sinks.set(transport, byPeer);
    }
    let s = byPeer.get(peer);
    if (s === undefined) {
      s = new Sink(transport, peer);
      byPeer.set(peer, s);
    }
    this.#lastSink = s;
    return s;
  }

  /** Serves one message of requests from `peer`. A malformed record gets STATUS_BAD_REQUEST and ends the message. */
  serve(transport: Transport, peer: PeerId, data: Buffer): void {
    if (this.#closed) return;
    const sink = this.#sink(transport, peer);
    const view = new DataView(data.buffer, data.byteOffset, data.length);
    const count = view.getUint16(2, true);
    const r = this.#record;
    let pos = MESSAGE_HEADER;
    for (let i = 0; i < count; i++) {
      this.#served++;
      const next = parseRequest(view, pos, r);
      if (next < 0) {
        if (r.id >= 0) this.#reply(sink, r.id, STATUS_BAD_REQUEST, 0);
        break;
      }
      this.#serveOne(sink, data, view, r);
      pos = next;
    }
    this.#schedule(sink);
  }

  #serveOne(sink: Sink, data: Buffer, view: DataView, r: RequestRecord): void {
    const { id, op, address, length, payload } = r;
    const isCell = op !== OP_READ && op !== OP_WRITE && op !== OP_FETCH;
    let status = this.check(address, length, isCell);
    if (op === OP_FETCH && status === STATUS_OK && (length !== this.layout.blockSize || address % length !== 0))
      status = STATUS_OUT_OF_RANGE; // a FETCH is of one whole block
    if (status !== STATUS_OK) {
      this.#reply(sink, id, status, 0);
      return;
    }
    if (!this.#holders.idle && this.#holdBack(sink, data, view, r)) return;
    switch (op) {
      case OP_FETCH: {
        this.#holders.add(this.layout.blockOf(address), sink);
        const at = this.#reply(sink, id, STATUS_OK, length);
        this.read(address, length, sink.batch.buf, at);
        return;
      }
      case OP_READ: {
        const at = this.#reply(sink, id, STATUS_OK, length);
        this.read(address, length, sink.batch.buf, at);
        return;
      }
      case OP_WRITE:
        this.write(address, data, payload, length);
        this.#reply(sink, id, STATUS_OK, 0);
        return;
      case OP_WAIT: {
        const expected = length === 4 ? view.getInt32(payload, true) : view.getBigInt64(payload, true);
        const t = view.getFloat64(payload + length, true);
        const timeout = t >= 0 ? t : undefined; // NaN and negative: no timeout
        this.wait(address, length, expected, timeout, sink, (result) => {
          if (sink.transport.closed) return;
          if (result === WAIT_REFUSED) this.#reply(sink, id, STATUS_TOO_MANY_WAITERS, 0);
          else if (result === WAIT_CLOSING) this.#reply(sink, id, STATUS_CLOSING, 0);
          else {
            const at = this.#reply(sink, id, STATUS_OK, 1);
            sink.batch.buf[at] = result;
          }
          this.#schedule(sink);
        });
        return;
      }
      case OP_NOTIFY: {
        const n = view.getUint32(payload, true);
        const woken = this.notify(address, n === NOTIFY_ALL ? Number.POSITIVE_INFINITY : n);
        const at = this.#reply(sink, id, STATUS_OK, 4);
        sink.batch.view.setUint32(at, woken, true);
        return;
      }
      default:
        if (length === 4) {
          const v = this.cell32(
            op,
            address,
            op === OP_LOAD ? 0 : view.getInt32(payload, true),
            op === OP_COMPARE_EXCHANGE ? view.getInt32(payload + 4, true) : 0,
          );
          const at = this.#reply(sink, id, STATUS_OK, 4);
          sink.batch.view.setInt32(at, v, true);
        } else {
          const v = this.cell64(
            op,
            address,
            op === OP_LOAD ? 0n : view.getBigInt64(payload, true),
            op === OP_COMPARE_EXCHANGE ? view.getBigInt64(payload + 8, true) : 0n,
          );
          const at = this.#reply(sink, id, STATUS_OK, 8);
          sink.batch.view.setBigInt64(at, v, true);
        }
    }
  }

  /**
   * Whether the request must wait for the invalidation of cached copies of its block (a change to a
   * held block, or anything on a block being invalidated); if so it is copied and queued, and is
   * served again once the holders are done.
   */
  #holdBack(sink: Sink, data: Buffer, view: DataView, r: RequestRecord): boolean {
    const block = this.layout.blockOf(r.address);
    const gated = this.#holders.gated(block);
    if (!gated) {
      if (!this.#holders.held(block)) return false;
      const expected =
        r.op !== OP_COMPARE_EXCHANGE ? 0 : r.length === 4 ? view.getInt32(r.payload, true) : view.getBigInt64(r.payload, true);
      if (!this.#changes(r.op, r.address, r.length, expected)) return false;
    }
    const start = r.payload - REQUEST_HEADER;
    const copy = Buffer.from(data.subarray(start, r.payload + requestPayload(r.op, r.length)));
    const record: RequestRecord = { id: r.id, op: r.op, address: r.address, length: r.length, payload: REQUEST_HEADER };
    const job = () => {
      if (this.#closed || sink.dropped) return;
      this.#serveOne(sink, copy, new DataView(copy.buffer, copy.byteOffset, copy.length), record);
      this.#schedule(sink);
    };
    if (gated) this.#holders.defer(block, job);
    else this.#holders.invalidate(block, job);
    return true;
  }

  /** A message to a holder, after the replies already batched for it (a FETCH's reply before the invalidation of its copy). */
  #sendNow(sink: Sink, message: Buffer): boolean {
    if (sink.dropped || sink.transport.closed) return false;
    try {
      this.#flush(sink);
      sink.transport.send(sink.peer, message);
      return true;
    } catch {
      return false; // the peer is gone: nothing to wait for
    }
  }

  /** Acknowledgements of invalidations from `peer`. One that is not for an invalidation sent to that peer is ignored. */
  acks(transport: Transport, peer: PeerId, data: Buffer): void {
    const sink = this.#sinks.get(transport)?.get(peer);
    if (sink === undefined || this.#closed) return;
    forEachInvalidation(data, (token) => this.#holders.ack(sink, token));
  }

  /** Appends a reply header to the peer's batch (sending the batch first if it is full); returns the payload offset. */
  #reply(sink: Sink, id: number, status: number, length: number): number {
    if (!sink.batch.fits(12 + length)) this.#flush(sink);
    return sink.batch.reply(id, status, length);
  }

  #schedule(sink: Sink): void {
    if (sink.scheduled || sink.batch.empty) return;
    sink.scheduled = true;
    this.#dirty[this.#dirtyCount] = sink;
    if (this.#dirtyCount++ === 0) RESOLVED.then(this.#flushAll);
  }

  readonly #flushAll = (): void => {
    const dirty = this.#dirty;
    try {
      for (let i = 0; i < this.#dirtyCount; i++) {
        const s = dirty[i] as Sink;
        s.scheduled = false;
        this.#flush(s);
      }
    } finally {
      // A send that threw must not leave the rest scheduled for ever.
      for (let i = 0; i < this.#dirtyCount; i++) (dirty[i] as Sink).scheduled = false;
      this.#dirtyCount = 0;
    }
  };

  #flush(sink: Sink): void {
    if (sink.batch.empty) return;
    if (sink.transport.closed) sink.batch.clear();
    else sink.transport.send(sink.peer, sink.batch.take(sink.owned));
  }

  /** A peer went away: its waiters are dropped (nobody is left to answer) and its batch is discarded. */
  dropPeer(transport: Transport, peer: PeerId): void {
    const sink = this.#sinks.get(transport)?.get(peer);
    if (sink === undefined) return;
    this.#sinks.get(transport)?.delete(peer);
    if (this.#lastSink === sink) this.#lastSink = undefined;
    sink.dropped = true;
    this.#holders.dropSink(sink);
    for (const [address, list] of this.#waiters) {
      const kept = list.filter((w) => {
        if (w.sink !== sink) return true;
        if (w.timer !== undefined) clearTimeout(w.timer);
        this.#ended(w);
        return false;
      });
      if (kept.length === 0) this.#waiters.delete(address);
      else this.#waiters.set(address, kept);
    }
  }

  /** Ends every waiter (remote ones get STATUS_CLOSING, sent now) and serves nothing more. */
  close(): void {
    if (this.#closed) return;
    const all = [...this.#waiters.values()].flat();
    this.#waiters.clear();
    for (const w of all) {
      if (w.timer !== undefined) clearTimeout(w.timer);
      this.#ended(w);
      w.done(WAIT_CLOSING);
    }
    this.#flushAll();
    this.#closed = true;
    this.#holders.close();
  }
}
