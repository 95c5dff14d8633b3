// The client side of the store: every operation goes to the owner of its block, locally (a call,
// no message) when that is this member, else as a request record in that owner's batch. A batch is
// one message, sent once per tick (a microtask after the calls that filled it), so thousands of
// operations issued together cost a handful of messages. Requests are matched to replies by id;
// every request has a deadline, and an owner that goes down rejects all of its requests at once.
import { closedError, TimeoutError } from '../internal/errors';
import type { PeerId, Transport } from '../rpc/transport';
import { OwnerDeadError, RejectedError } from './errors';
import type { Layout } from './ownership';
import type { Owner } from './owner';
import {
  BatchWriter,
  KIND_REQUESTS,
  NOTIFY_ALL,
  OP_COMPARE_EXCHANGE,
  OP_LOAD,
  OP_NOTIFY,
  OP_READ,
  OP_WAIT,
  OP_WRITE,
  forEachReply,
  REQUEST_HEADER,
  STATUS_CLOSING,
  STATUS_OK,
  WAIT_RESULTS,
} from './protocol';

// biome-ignore lint/suspicious/noExplicitAny: each operation resolves with its own type (number, bigint, string, undefined)
export type OnValue = (value: any) => void;
export type OnError = (err: Error) => void;

interface Pending {
  op: number;
  width: number;
  deadline: number;
  resolve: OnValue;
  reject: OnError;
  /** READ: where the bytes go. */
  into: Buffer | undefined;
  at: number;
}

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
  /** Messages made while the owner was not up yet. */
  readonly held: Buffer[] = [];
  readonly pending = new Map<number, Pending>();
  /** waitAsync requests: their deadlines are their own, so they are swept apart. */
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
}

export class Client {
  readonly #layout: Layout;
  readonly #self: number;
  readonly #owner: Owner | undefined;
  readonly #timeout: number | undefined;
  readonly #routes: Route[];
  readonly #dirty: Route[] = [];
  #nextId = 0;
  #inflight = 0;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(layout: Layout, self: number, owner: Owner | undefined, options: ClientOptions) {
    this.#layout = layout;
    this.#self = self;
    this.#owner = owner;
    this.#timeout = options.timeout;
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
    if (!r.batch.empty) r.batch.take();
    this.#failAll(r, this.#dead(member, cause));
  }

  #dead(member: number, cause: Error | undefined): OwnerDeadError {
    return new OwnerDeadError(member, this.#layout.blocksOf(member), { cause });
  }

  #failAll(r: Route, err: Error): void {
    const all = [...r.pending.values(), ...r.waits.values()];
    this.#inflight -= all.length;
    r.pending.clear();
    r.waits.clear();
    for (const p of all) p.reject(err);
  }

  /** A message of replies from `member`. */
  replies(member: number, data: Buffer): void {
    const r = this.#routes[member];
    if (r === undefined) return;
    forEachReply(data, (id, status, buf, off, len) => {
      let p = r.pending.get(id);
      if (p !== undefined) r.pending.delete(id);
      else {
        p = r.waits.get(id);
        if (p === undefined) return; // late (after its timeout) or not ours: nothing waits for it
        r.waits.delete(id);
      }
      this.#inflight--;
      if (status !== STATUS_OK)
        p.reject(status === STATUS_CLOSING ? this.#dead(member, undefined) : new RejectedError(member, status));
      else this.#settle(p, member, buf, off, len);
    });
  }

  #settle(p: Pending, member: number, buf: Buffer, off: number, len: number): void {
    switch (p.op) {
      case OP_READ:
        if (len !== p.width) break;
        buf.copy(p.into as Buffer, p.at, off, off + len);
        p.resolve(undefined);
        return;
      case OP_WRITE:
        p.resolve(undefined);
        return;
      case OP_WAIT:
        if (len !== 1 || (buf[off] as number) > 2) break;
        p.resolve(WAIT_RESULTS[buf[off] as number]);
        return;
      case OP_NOTIFY:
        if (len !== 4) break;
        p.resolve(buf.readUInt32LE(off));
        return;
      default:
        if (len !== p.width) break;
        p.resolve(len === 4 ? buf.readInt32LE(off) : buf.readBigInt64LE(off));
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

  #enqueue(r: Route, op: number, address: number, length: number, payload: number, p: Pending, wait: boolean): number {
    if (!r.batch.fits(REQUEST_HEADER + payload)) this.#flush(r);
    const id = (this.#nextId = (this.#nextId + 1) >>> 0);
    (wait ? r.waits : r.pending).set(id, p);
    if (this.#inflight++ === 0) this.#startSweeper();
    const at = r.batch.request(id, op, address, length, payload);
    if (!r.scheduled) {
      r.scheduled = true;
      if (this.#dirty.push(r) === 1) queueMicrotask(this.#flushAll);
    }
    return at;
  }

  #pending(op: number, width: number, resolve: OnValue, reject: OnError): Pending {
    const deadline = this.#timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + this.#timeout;
    return { op, width, deadline, resolve, reject, into: undefined, at: 0 };
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
  ): void {
    const member = this.#layout.ownerOf(address);
    const owner = this.#owner;
    if (member === this.#self && owner !== undefined) {
      if (this.#closed) reject(closedError('Store'));
      else
        resolve(
          width === 4 ? owner.cell32(op, address, a as number, b as number) : owner.cell64(op, address, a as bigint, b as bigint),
        );
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    const payload = op === OP_LOAD ? 0 : op === OP_COMPARE_EXCHANGE ? 2 * width : width;
    const at = this.#enqueue(r, op, address, width, payload, this.#pending(op, width, resolve, reject), false);
    if (payload === 0) return;
    const buf = r.batch.buf;
    if (width === 4) {
      buf.writeInt32LE(a as number, at);
      if (op === OP_COMPARE_EXCHANGE) buf.writeInt32LE(b as number, at + 4);
    } else {
      buf.writeBigInt64LE(a as bigint, at);
      if (op === OP_COMPARE_EXCHANGE) buf.writeBigInt64LE(b as bigint, at + 8);
    }
  }

  /** Reads [address, address + length) (within one block) into `into` at `at`. */
  read(address: number, length: number, into: Buffer, at: number, resolve: OnValue, reject: OnError): void {
    const member = this.#layout.ownerOf(address);
    if (member === this.#self && this.#owner !== undefined) {
      if (this.#closed) {
        reject(closedError('Store'));
        return;
      }
      this.#owner.read(address, length, into, at);
      resolve(undefined);
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    const p = this.#pending(OP_READ, length, resolve, reject);
    p.into = into;
    p.at = at;
    this.#enqueue(r, OP_READ, address, length, 0, p, false);
  }

  /** Writes `bytes[start, start + length)` at `address` (within one block). */
  write(address: number, bytes: Uint8Array, start: number, length: number, resolve: OnValue, reject: OnError): void {
    const member = this.#layout.ownerOf(address);
    if (member === this.#self && this.#owner !== undefined) {
      if (this.#closed) {
        reject(closedError('Store'));
        return;
      }
      this.#owner.write(address, bytes, start, length);
      resolve(undefined);
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    const at = this.#enqueue(r, OP_WRITE, address, length, length, this.#pending(OP_WRITE, 0, resolve, reject), false);
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
      if (this.#closed) {
        reject(closedError('Store'));
        return;
      }
      owner.wait(address, width, expected, timeout, undefined, (result) =>
        result < 0 ? reject(closedError('Store')) : resolve(WAIT_RESULTS[result]),
      );
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    const p = this.#pending(OP_WAIT, width, resolve, reject);
    p.deadline =
      timeout === undefined || this.#timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeout + this.#timeout;
    const at = this.#enqueue(r, OP_WAIT, address, width, width + 8, p, true);
    const buf = r.batch.buf;
    if (width === 4) buf.writeInt32LE(expected as number, at);
    else buf.writeBigInt64LE(expected as bigint, at);
    buf.writeDoubleLE(timeout === undefined ? -1 : timeout, at + width);
  }

  notify(address: number, width: number, count: number, resolve: OnValue, reject: OnError): void {
    const member = this.#layout.ownerOf(address);
    const owner = this.#owner;
    if (member === this.#self && owner !== undefined) {
      if (this.#closed) {
        reject(closedError('Store'));
        return;
      }
      resolve(owner.notify(address, count));
      return;
    }
    const r = this.#route(member, reject);
    if (r === undefined) return;
    const at = this.#enqueue(r, OP_NOTIFY, address, width, 4, this.#pending(OP_NOTIFY, width, resolve, reject), false);
    r.batch.buf.writeUInt32LE(Number.isFinite(count) ? Math.min(count, NOTIFY_ALL - 1) : NOTIFY_ALL, at);
  }

  // --- sending, deadlines ---

  readonly #flushAll = (): void => {
    for (const r of this.#dirty.splice(0)) {
      r.scheduled = false;
      this.#flush(r);
    }
  };

  #flush(r: Route): void {
    if (r.batch.empty) return;
    const message = r.batch.take();
    if (r.state === UP && r.transport !== undefined) r.transport.send(r.peer, message);
    else if (r.state === WAITING) r.held.push(message);
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
      for (const map of [r.pending, r.waits]) {
        for (const [id, p] of map) {
          if (p.deadline > now) {
            if (map === r.pending) break; // same timeout for all: the rest are younger
            continue;
          }
          map.delete(id);
          this.#inflight--;
          p.reject(new TimeoutError(`store request to member ${r.member}`, this.#timeout));
        }
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
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    for (const r of this.#routes) {
      r.held.length = 0;
      if (!r.batch.empty) r.batch.take();
      this.#failAll(r, closedError('Store'));
    }
  }
}
