// A process group, MPI-style: `size` members numbered 0..size-1 over one transport (mailboxes on one
// host, TCP channels across hosts), point-to-point messages matched by source and tag, and the
// collectives. On one host the barrier and the reductions of numbers go through the shared segment
// (shared-area.ts); everything else is messages (collectives.ts). A group is linked by default: when
// a member dies, every pending and later operation of every other member rejects with
// ERR_GROUP_MEMBER_DEAD naming it. Design: docs/design/group.md.
import { closedError, InterprocError } from '../internal/errors';
import { TypedEmitter } from '../internal/typed-emitter';
import { invalidType, validateAbortSignal, validateInteger, validateObject, validateTimeout } from '../internal/validate';
import type { MailboxGroup } from '../mailbox/group';
import type { Transport } from '../rpc/transport';
import * as coll from './collectives';
import { decode, encode, type Encoded, type NumericArray, TYPED_ARRAYS, typedCode } from './data';
import { ANY_SOURCE, ANY_TAG, type Arrival, Matcher } from './matching';
import { kernelOf, type ReduceOp } from './ops';
import type { SharedArea } from './shared-area';
import { frames, HEADER, Reassembler, T_BYE, T_COLLECTIVE, T_HELLO, T_POINT } from './wire';

export interface GroupMessage<T = unknown> {
  from: number;
  tag: number;
  data: T;
}

export interface GroupReceiveOptions {
  /** The sender's rank, or ANY_SOURCE (-1, the default). */
  from?: number;
  /** The tag, or ANY_TAG (-1, the default). */
  tag?: number;
  timeout?: number;
  signal?: AbortSignal;
}

export interface GroupSendOptions {
  /** A non-negative 31-bit integer (default 0). */
  tag?: number;
}

export interface RootOptions {
  /** The rank that sends (broadcast, scatter) or receives (gather, reduce); default 0. */
  root?: number;
}

export interface AllReduceOptions {
  /** Write the result into the input array (typed arrays only) instead of a new one. */
  inPlace?: boolean;
  /** Write the result into this array (same type and length as the input) instead of a new one. */
  into?: NumericArray;
}

export type GroupEvents = {
  /** A member died or left; `error` is the ERR_GROUP_MEMBER_DEAD / ERR_GROUP_MEMBER_LEFT error operations get. */
  'member-down': (rank: number, error: Error) => void;
};

export type TransportKind = 'mailbox' | 'tcp';

/** @internal What joinGroup hands the group. */
export interface GroupParts {
  name: string;
  rank: number;
  size: number;
  kind: TransportKind;
  transport: Transport;
  mailbox?: MailboxGroup | undefined;
  link: boolean;
  /** Other resources to let go of at close (a listening server, the TCP channels). */
  release?: (() => void) | undefined;
}

/** An error naming a member: ERR_GROUP_MEMBER_DEAD or ERR_GROUP_MEMBER_LEFT, with `rank` (and `pid` when known). */
export function memberError(
  code: 'ERR_GROUP_MEMBER_DEAD' | 'ERR_GROUP_MEMBER_LEFT',
  group: string,
  rank: number,
  cause?: Error,
): InterprocError {
  const pid = (cause as { pid?: number } | undefined)?.pid;
  const what = code === 'ERR_GROUP_MEMBER_DEAD' ? `died${pid ? ` (pid ${pid})` : ''}` : 'left the group';
  return Object.assign(new InterprocError(code, `rank ${rank} of process group ${group} ${what}`, { cause }), {
    rank,
    ...(pid ? { pid } : {}),
  });
}

const NO_OPTIONS = Object.freeze({});

export class ProcessGroup extends TypedEmitter<GroupEvents> implements AsyncDisposable {
  /** Matches any sender in `receive({ from })`. */
  static readonly ANY_SOURCE = ANY_SOURCE;
  /** Matches any tag in `receive({ tag })`. */
  static readonly ANY_TAG = ANY_TAG;

  readonly rank: number;
  readonly size: number;
  readonly name: string;
  /** 'mailbox' (one host: mailboxes and a shared segment) or 'tcp' (channels; any hosts). */
  readonly transport: TransportKind;
  /** Whether a member's death fails the whole group (the default) or only what needs that member. */
  readonly linked: boolean;

  readonly #net: Transport;
  readonly #mailbox: MailboxGroup | undefined;
  #area: SharedArea | undefined;
  readonly #release: (() => void) | undefined;
  readonly #maxFrame: number;
  readonly #reassembler = new Reassembler();
  readonly #point = new Matcher('ProcessGroup receive');
  readonly #coll = new Matcher('ProcessGroup collective');
  readonly #hellos = new Set<number>();
  #onHello: (() => void) | undefined;
  /** Members that died or left, with the error that operations needing them get. */
  readonly #gone = new Map<number, Error>();
  readonly #byes = new Set<number>();
  /** The error every operation gets once the group has failed (linked death, or close). */
  #failure: Error | undefined;
  readonly #abort = new AbortController();
  #closed = false;
  #seq = 0;
  /** The collective in progress, so that collectives called without awaiting run one after another. */
  #tail: Promise<unknown> | undefined;
  readonly #onExit = () => this.close();
  readonly #collNet: coll.CollectiveNet;

  /** @internal Use joinGroup(). */
  constructor(parts: GroupParts) {
    super();
    this.rank = parts.rank;
    this.size = parts.size;
    this.name = parts.name;
    this.transport = parts.kind;
    this.linked = parts.link;
    this.#net = parts.transport;
    this.#mailbox = parts.mailbox;
    this.#release = parts.release;
    this.#maxFrame = Math.min(this.#net.maxMessageSize, 1 << 20);
    if (this.#maxFrame <= HEADER) throw new RangeError('the transport carries messages too small for the group header');
    this.#net.on('message', (from, data) => this.#onMessage(from, data));
    this.#net.on('peer-down', (peer, error) => this.#onPeerDown(peer, error));
    this.#collNet = {
      rank: this.rank,
      size: this.size,
      send: (to, seq, value) => this.#sendFrames(to, T_COLLECTIVE, seq, encode(value)),
      receive: (from, seq) => this.#receiveFrom(this.#coll, from, seq, undefined).then((m) => m.data),
    };
    process.once('exit', this.#onExit);
  }

  /** @internal The shared segment of a one-host group (joinGroup attaches it). */
  attachArea(area: SharedArea): void {
    this.#area = area;
  }

  /** @internal What the shared segment waits with: the group's failure and its abort signal. */
  get failureSignal(): { failure: () => Error | undefined; signal: AbortSignal } {
    return {
      failure: () => this.#failure ?? (this.#gone.size === 0 ? undefined : this.#gone.values().next().value),
      signal: this.#abort.signal,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The ranks that died or left so far. */
  get down(): number[] {
    return [...this.#gone.keys()];
  }

  // ---- start-up ------------------------------------------------------------------------------

  /** @internal Waits until every member is reachable and has said hello (it listens). */
  async start(timeout: number | undefined): Promise<void> {
    const others = () => Array.from({ length: this.size }, (_, k) => k).filter((k) => k !== this.rank);
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const greeted = new Set<number>();
      const step = () => {
        if (this.#failure !== undefined) return reject(this.#failure);
        const dead = this.#gone.entries().next().value;
        if (dead !== undefined) return reject(dead[1]);
        for (const k of others()) {
          if (!greeted.has(k) && this.#net.isUp(k)) {
            greeted.add(k);
            this.#sendFrames(k, T_HELLO, 0, encode(0));
          }
        }
        if (others().every((k) => this.#hellos.has(k) && greeted.has(k))) resolve();
      };
      this.#onHello = step;
      this.#net.on('peer-up', step);
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          const missing = others().filter((k) => !this.#hellos.has(k));
          reject(
            Object.assign(
              new InterprocError(
                'ETIMEDOUT',
                `joining process group ${this.name} timed out after ${timeout} ms: rank ${missing.join(', ')} never came`,
              ),
              { missing },
            ),
          );
        }, timeout);
      }
      step();
    });
    try {
      await done;
    } finally {
      this.#onHello = undefined;
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  // ---- receiving from the transport ----------------------------------------------------------

  #onMessage(from: number, data: Buffer): void {
    if (this.#closed || !Number.isInteger(from) || from < 0 || from >= this.size || from === this.rank) return;
    let frame: ReturnType<Reassembler['push']>;
    let value: unknown;
    try {
      frame = this.#reassembler.push(from, data);
      if (frame === undefined) return;
      value = frame.type === T_POINT || frame.type === T_COLLECTIVE ? decode(frame.kind, frame.dtype, frame.data) : undefined;
    } catch (err) {
      // A member that breaks the framing is treated as dead: nothing more from it can be trusted.
      this.#reassembler.forget(from);
      this.#memberDown(from, memberError('ERR_GROUP_MEMBER_DEAD', this.name, from, err as Error));
      return;
    }
    switch (frame.type) {
      case T_POINT:
        this.#point.arrive({ from, tag: frame.tag, data: value });
        break;
      case T_COLLECTIVE:
        this.#coll.arrive({ from, tag: frame.tag, data: value });
        break;
      case T_HELLO:
        this.#hellos.add(from);
        this.#onHello?.();
        break;
      case T_BYE:
        this.#byes.add(from);
        this.#memberDown(from, memberError('ERR_GROUP_MEMBER_LEFT', this.name, from));
        break;
    }
  }

  #onPeerDown(peer: number, error: Error): void {
    if (this.#closed || this.#byes.has(peer) || this.#gone.has(peer)) return;
    if ((error as { code?: string }).code === 'ERR_MAILBOX_PEER_CLOSED') {
      // It left cleanly: give its last messages (and its goodbye) a moment to be delivered first.
      setTimeout(() => {
        if (!this.#byes.has(peer)) this.#memberDown(peer, memberError('ERR_GROUP_MEMBER_LEFT', this.name, peer, error));
      }, 50).unref();
      return;
    }
    this.#memberDown(peer, memberError('ERR_GROUP_MEMBER_DEAD', this.name, peer, error));
  }

  #memberDown(rank: number, error: InterprocError): void {
    if (this.#closed || this.#gone.has(rank)) return;
    this.#gone.set(rank, error);
    this.#reassembler.forget(rank);
    if (this.linked && error.code === 'ERR_GROUP_MEMBER_DEAD') this.#fail(error);
    else {
      // Only what needs that member fails: receives naming it, and every collective (each needs all).
      this.#point.fail(
        (from) => from === rank || (from === ANY_SOURCE && this.#gone.size === this.size - 1),
        () => error,
      );
      this.#coll.fail(
        (from) => from === rank,
        () => error,
      );
      this.#abort.abort(error); // wakes a member asleep in the shared barrier; it fails unless the barrier opened
    }
    if (this.listenerCount('member-down') > 0) this.emit('member-down', rank, error);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#abort.abort(error);
    this.#point.fail(
      () => true,
      () => error,
    );
    this.#coll.fail(
      () => true,
      () => error,
    );
  }

  // ---- point to point ------------------------------------------------------------------------

  #sendFrames(to: number, type: number, tag: number, value: Encoded): void {
    for (const f of frames(type, tag, value, this.#maxFrame)) {
      if (!this.#net.send(to, f)) {
        const gone = this.#gone.get(to) ?? memberError('ERR_GROUP_MEMBER_DEAD', this.name, to);
        throw gone;
      }
    }
  }

  #usable(): void {
    if (this.#closed) throw closedError('ProcessGroup');
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Sends `data` to member `to` with `options.tag`. Never blocks: the value is copied (encoded) at
   * once and queued in order behind earlier sends to `to`. Throws if `to` is gone.
   */
  send(to: number, data: unknown, options: GroupSendOptions = NO_OPTIONS): void {
    validateInteger(to, 'to', 0, this.size - 1);
    validateObject(options, 'options');
    const tag = options.tag ?? 0;
    validateInteger(tag, 'options.tag', 0, 2 ** 31 - 1);
    this.#usable();
    if (to === this.rank) {
      // Encode and decode, so that the receiver gets a copy as from anyone else.
      const e = encode(data);
      this.#point.arrive({ from: to, tag, data: decode(e.kind, e.dtype, Buffer.from(e.bytes)) });
      return;
    }
    const gone = this.#gone.get(to);
    if (gone !== undefined) throw gone;
    this.#sendFrames(to, T_POINT, tag, encode(data));
  }

  /** The next message that matches `from` and `tag` (each may be "any"), oldest first. */
  receive<T = unknown>(options: GroupReceiveOptions = NO_OPTIONS): Promise<GroupMessage<T>> {
    try {
      validateObject(options, 'options');
      const from = options.from ?? ANY_SOURCE;
      const tag = options.tag ?? ANY_TAG;
      validateInteger(from, 'options.from', -1, this.size - 1);
      validateInteger(tag, 'options.tag', -1, 2 ** 31 - 1);
      const timeout = validateTimeout(options.timeout, 'options.timeout');
      validateAbortSignal(options.signal, 'options.signal');
      this.#usable();
      return this.#receiveFrom(this.#point, from, tag, { timeout, signal: options.signal }) as Promise<GroupMessage<T>>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A waiting message that matches, without taking it (MPI_Iprobe); undefined if none has come. */
  probe(options: Omit<GroupReceiveOptions, 'timeout' | 'signal'> = NO_OPTIONS): { from: number; tag: number } | undefined {
    const m = this.#point.peek(options.from ?? ANY_SOURCE, options.tag ?? ANY_TAG);
    return m === undefined ? undefined : { from: m.from, tag: m.tag };
  }

  #receiveFrom(
    matcher: Matcher,
    from: number,
    tag: number,
    options: { timeout?: number | undefined; signal?: AbortSignal | undefined } | undefined,
  ): Promise<Arrival> {
    const m = matcher.take(from, tag);
    if (m !== undefined) return Promise.resolve(m);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (from !== ANY_SOURCE) {
      const gone = this.#gone.get(from);
      if (gone !== undefined) return Promise.reject(gone);
    } else if (this.#gone.size === this.size - 1 && this.size > 1) {
      return Promise.reject(this.#gone.values().next().value);
    }
    return matcher.receive(from, tag, options);
  }

  // ---- collectives ---------------------------------------------------------------------------

  /** Runs collectives one after another (in call order, as every member calls them). */
  #collective<T>(run: (seq: number) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError('ProcessGroup'));
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) | 0;
    const go = () => run(seq);
    const p = this.#tail === undefined ? go() : this.#tail.then(go, go);
    this.#tail = p;
    const clear = () => {
      if (this.#tail === p) this.#tail = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  #root(options: RootOptions | undefined): number {
    if (options === undefined) return 0;
    validateObject(options, 'options');
    const root = options.root ?? 0;
    validateInteger(root, 'options.root', 0, this.size - 1);
    return root;
  }

  /** Resolves once every member has called barrier(). */
  barrier(): Promise<void> {
    const area = this.#area;
    if (area !== undefined) {
      if (this.#closed) return Promise.reject(closedError('ProcessGroup'));
      if (this.#tail === undefined) return this.#collective(() => area.barrier());
    }
    return this.#collective((seq) => (area !== undefined ? area.barrier() : coll.barrier(this.#collNet, seq)));
  }

  /** Root's `value` on every member (others pass anything, e.g. undefined). */
  broadcast<T>(value: T, options?: RootOptions): Promise<T> {
    try {
      const root = this.#root(options);
      return this.#collective((seq) => coll.broadcast(this.#collNet, seq, value, root));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Root passes one value per member (`values[k]` goes to rank k); each member gets its own. */
  scatter<T>(values: readonly T[] | undefined, options?: RootOptions): Promise<T> {
    try {
      const root = this.#root(options);
      if (this.rank === root && (!Array.isArray(values) || values.length !== this.size))
        throw invalidType('values', `an array of ${this.size} values on the root`, values);
      return this.#collective((seq) => coll.scatter(this.#collNet, seq, values, root));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Every member's value, in rank order, on root; undefined on the others. */
  gather<T>(value: T, options?: RootOptions): Promise<T[] | undefined> {
    try {
      const root = this.#root(options);
      return this.#collective((seq) => coll.gather(this.#collNet, seq, value, root));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Every member's value, in rank order, on every member. */
  allGather<T>(value: T): Promise<T[]> {
    return this.#collective((seq) => coll.allGather(this.#collNet, seq, value));
  }

  /** Member k gets `values[r]` from every member r, in rank order (`values` has one entry per member). */
  allToAll<T>(values: readonly T[]): Promise<T[]> {
    if (!Array.isArray(values) || values.length !== this.size)
      return Promise.reject(invalidType('values', `an array of ${this.size} values`, values));
    return this.#collective((seq) => coll.allToAll(this.#collNet, seq, values));
  }

  /** Every member's number or typed array combined with `op`, in rank order, on root; undefined on the others. */
  reduce<T extends number | NumericArray>(value: T, op: ReduceOp, options?: RootOptions): Promise<T | undefined> {
    try {
      const root = this.#root(options);
      return this.#reduce(value, op, root, false) as Promise<T | undefined>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Every member's number or typed array combined with `op` ('sum', 'min', 'max', 'product' or a function), on every member. */
  allReduce<T extends number | NumericArray>(value: T, op: ReduceOp, options: AllReduceOptions = NO_OPTIONS): Promise<T> {
    try {
      validateObject(options, 'options');
      const into = options.into as NumericArray | undefined;
      if (
        into !== undefined &&
        (typedCode(into) < 0 ||
          into.constructor !== (value as object)?.constructor ||
          into.length !== (value as NumericArray).length)
      )
        throw invalidType('options.into', "a typed array of the input's type and length", into);
      return this.#reduce(value, op, -1, options.inPlace === true, into) as Promise<T>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #reduce(value: unknown, op: ReduceOp, root: number, inPlace: boolean, into?: NumericArray): Promise<unknown> {
    const { kernel, code } = kernelOf(op);
    const isNumber = typeof value === 'number';
    if (!isNumber && typedCode(value) < 0) throw invalidType('value', 'a number or a numeric typed array', value);
    if (isNumber && inPlace) throw invalidType('value', 'a typed array with inPlace', value);
    const area = this.#area;
    if (isNumber && area !== undefined) return this.#collective(() => area.reduceNumber(value as number, kernel, code, root));
    const input: NumericArray = isNumber ? Float64Array.of(value as number) : (value as NumericArray);
    const wants = root < 0 || root === this.rank;
    const Ctor = TYPED_ARRAYS[typedCode(input)] as unknown as new (n: number) => NumericArray;
    const out = wants ? (inPlace ? input : (into ?? new Ctor(input.length))) : undefined;
    const result = () => (out === undefined ? undefined : isNumber ? (out[0] as number) : out);
    if (area !== undefined) return this.#collective(() => area.reduce(input, kernel, code, root, out).then(result));
    return this.#collective(async (seq) => {
      const target = out ?? new Ctor(input.length);
      const r = await coll.reduce(this.#collNet, seq, input, kernel, Math.max(root, 0), target);
      if (root >= 0) {
        if (r?.mismatch !== undefined) throw new InterprocError('ERR_GROUP_MISMATCH', r.mismatch);
        return result();
      }
      // allReduce: the reduced array (or the mismatch) from rank 0 to everyone.
      const sent = await coll.broadcast(
        this.#collNet,
        seq,
        r === undefined ? undefined : r.mismatch !== undefined ? r : target,
        0,
      );
      if (sent !== null && typeof sent === 'object' && !ArrayBuffer.isView(sent))
        throw new InterprocError('ERR_GROUP_MISMATCH', (sent as { mismatch: string }).mismatch);
      const got = sent as NumericArray;
      if (got.length !== input.length || got.constructor !== input.constructor)
        throw new InterprocError('ERR_GROUP_MISMATCH', `rank 0 reduced ${got.length} elements; this member has ${input.length}`);
      if (this.rank !== 0 && out !== undefined) (out as Uint8Array).set(got as Uint8Array);
      return result();
    });
  }

  // ---- leaving -------------------------------------------------------------------------------

  /**
   * Leaves the group: the others are told (their operations that need this member reject with
   * ERR_GROUP_MEMBER_LEFT), pending operations here reject with ERR_INVALID_STATE. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    process.off('exit', this.#onExit);
    if (this.#failure === undefined) {
      for (let k = 0; k < this.size; k++) {
        if (k === this.rank || this.#gone.has(k)) continue;
        try {
          this.#sendFrames(k, T_BYE, 0, encode(0));
        } catch {
          // already gone
        }
      }
    }
    this.#fail(closedError('ProcessGroup'));
    this.#closed = true;
    this.#net.close();
    this.#mailbox?.close();
    this.#area?.close();
    this.#release?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
