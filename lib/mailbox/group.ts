// Mailboxes: message passing over shared memory. A MailboxGroup is one segment shared by N members,
// with one single-producer/single-consumer ring for each ordered pair, so send(to) writes only into
// the sender's own ring towards `to` and receive() reads only rings addressed to the receiver. A
// Mailbox is the two-member case. Messages move in JS over the mapping (lib/mailbox/ring.ts); native code
// is called only to sleep, to wake a sleeper, and to set up. Protocols: docs/design.md, "Mailboxes".
import { native, WAIT_TIMED_OUT, type FdWatcher, type Handle } from '../internal/binding';
import { AbortError, asAbortError, closedError, InterprocError, TimeoutError } from '../internal/errors';
import { isAlive, selfIdentity } from '../internal/liveness';
import { POOLED_MAX, SegmentCopier } from './copy-pool';
import { byteLengthOf, makeView } from '../internal/bytes';
import { layout, maxMessage, ownedCopy, RingConsumer, RingProducer } from './ring';
import { normalizeName, SharedMemory } from '../shm/shared-memory';
import {
  ArgValueError, invalidType, OutOfRangeError, validateAbortSignal, validateInteger, validateObject, validateTimeout,
} from '../internal/validate';

const FUTEX = 1;
const EVENTFD = 2;
/** How often a sleeping receiver or sender re-checks that the peers it depends on are alive. */
const LIVENESS_MS = 50;
const DEFAULT_RING_SIZE = 256 * 1024;

export type Doorbell = 'eventfd' | 'futex';
export type MessageData = Uint8Array | ArrayBufferView | ArrayBuffer | string;

export interface MailboxGroupOptions {
  /** How a sleeping async receiver of this member is woken: 'eventfd' (default; one hop into the event loop) or 'futex' (a native waiter thread; for hosts where pidfd_getfd is not permitted). */
  doorbell?: Doorbell;
  /** Microseconds to poll the rings before sleeping (default 0). Polling on the main thread blocks the event loop for that long. */
  spin?: number;
}

export interface MailboxGroupCreateOptions extends MailboxGroupOptions {
  /** Number of members, 2..64. */
  members: number;
  /** Bytes of each ring, a power of two from 4096 (default 262144). The largest message is ringSize / 2 - 8. */
  ringSize?: number;
  /** Permission bits of the segment (default 0o600). */
  mode?: number;
  /** The creator's member id (default 0). */
  id?: number;
}

export interface MailboxGroupJoinOptions extends MailboxGroupOptions {
  /** The member id to take (free, left, or held by a dead process). Default: the first such id. */
  id?: number;
}

export interface ReceiveOptions {
  /** Milliseconds; rejects with code 'ETIMEDOUT' when nothing came in time. */
  timeout?: number;
  signal?: AbortSignal;
  /** Overrides the group's `spin` for this call. */
  spin?: number;
}
export interface ReceiveManyOptions extends ReceiveOptions {
  /** The most messages to return (default 1024). */
  max?: number;
}
export type SendOptions = ReceiveOptions;
export type SyncOptions = Omit<ReceiveOptions, 'signal'>;

export interface Message {
  from: number;
  /** A copy: it stays valid for ever. */
  data: Buffer;
}

/**
 * A message read in place. `data` points into the ring and stays valid until release() (or
 * dispose); after that the producer may overwrite it. Until released, no other message from the
 * same sender can be received.
 */
export interface MessageView extends Disposable {
  readonly from: number;
  readonly data: Buffer;
  release(): void;
}

export type MemberState = 'self' | 'alive' | 'dead' | 'left' | 'free';
export interface MemberInfo {
  id: number;
  pid: number | null;
  state: MemberState;
}

interface Waiter {
  attempt(): unknown;
  arm(kind: number): void;
  dead(): Error | undefined;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer?: NodeJS.Timeout;
  cleanup?: () => void;
}

function peerError(code: 'ERR_MAILBOX_PEER_DEAD' | 'ERR_MAILBOX_PEER_CLOSED', id: number, pid: number): InterprocError {
  const what = code === 'ERR_MAILBOX_PEER_DEAD' ? `died (pid ${pid})` : 'left the group';
  return Object.assign(new InterprocError(code, `mailbox member ${id} ${what}`), { member: id, pid });
}

function notInitialised(name: string | null): InterprocError {
  return new InterprocError('ERR_MAILBOX_INCOMPATIBLE', `'${name}' holds no initialised mailbox group (its header is not published)`);
}

function timeoutError(op: string, ms: number): InterprocError {
  return new TimeoutError(op, ms);
}

function bytesOf(data: unknown): Uint8Array | string {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw invalidType('data', 'of type string or an instance of Buffer, TypedArray, DataView or ArrayBuffer', data);
}

function doorbellOption(v: unknown): Doorbell {
  if (v === undefined) return 'eventfd';
  if (v !== 'eventfd' && v !== 'futex') throw new ArgValueError(`The property 'options.doorbell' must be 'eventfd' or 'futex'. Received ${String(v)}`);
  return v;
}

function spinOption(v: unknown, name: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || Number.isNaN(v)) throw invalidType(name, 'of type number', v);
  if (v < 0 || v > 1e6) throw new OutOfRangeError(`The value of "${name}" is out of range. It must be >= 0 && <= 1000000. Received ${v}`);
  return v;
}

const kReceiveData = Symbol('receiveData');
const kReceiveMany = Symbol('receiveMany');
const DEFAULT_MANY = 1024;

function maxOption(v: unknown, name: string): number {
  if (v === undefined) return DEFAULT_MANY;
  validateInteger(v, name, 1, 2 ** 31 - 1);
  return v as number;
}
/**
 * @internal How this member's async receiver is woken now: 'edge' (edge-triggered eventfd, never
 * read), 'level' (eventfd reset on each wake-up), 'futex', or 'none' (has not slept yet).
 */
export const kDoorbellMode = Symbol('interproc.doorbellMode');
/** INTERPROC_EDGE_DOORBELL=0 keeps eventfd doorbells level-triggered (an escape hatch; docs/design.md). */
const edgeDoorbell = () => process.env.INTERPROC_EDGE_DOORBELL !== '0';

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class MailboxGroup implements Disposable, AsyncIterable<Message> {
  readonly #shm: SharedMemory;
  readonly #handle: Handle;
  readonly #u32: Uint32Array;
  readonly #buf: Buffer;
  readonly #arrayBuffer: ArrayBuffer; // #buf's, cached: a Buffer's .buffer is a slow lookup (see ring.ts)
  readonly #copier: SegmentCopier;
  readonly #id: number;
  readonly #members: number;
  readonly #capacity: number;
  readonly #gen: number;
  readonly #out: (RingProducer | undefined)[] = [];
  readonly #in: (RingConsumer | undefined)[] = [];
  readonly #kind: number;
  readonly #spin: number;
  readonly #bellOffset: number;
  readonly #bellIdx: number;
  #efd = -1;
  #watcher: FdWatcher | undefined;
  #watching = false;
  #watcherRef = false; // the watcher's ref state, so a steady conversation makes no ref/unref calls
  #futexJob = false;
  #liveness: NodeJS.Timeout | undefined;
  #next = 0; // round-robin start of receive-from-any: no sender can starve another
  readonly #waiters = new Set<Waiter>();
  readonly #peerBells = new Map<number, { gen: number; fd: number }>();
  #warned = false;
  #unreported: Error | undefined; // a corrupt ring found by a batch that had already taken messages
  readonly #owed = new Set<number>(); // senders whose wake-up for room is put off (see #owe)
  #owedFlush: NodeJS.Immediate | undefined;
  #closed = false;
  #corked = 0;

  private constructor(shm: SharedMemory, id: number | undefined, options: MailboxGroupOptions) {
    this.#shm = shm;
    this.#handle = SharedMemory.handleOf(shm);
    const geometry = native.mailboxCheck(this.#handle);
    if (geometry === null) throw notInitialised(shm.name);
    const [members, capacity, ringsOffset, stride] = geometry;
    this.#members = members;
    this.#capacity = capacity;
    this.#u32 = new Uint32Array(shm.buffer);
    this.#buf = Buffer.from(shm.buffer);
    this.#arrayBuffer = shm.buffer;
    this.#copier = new SegmentCopier(shm.buffer);
    this.#kind = doorbellOption(options.doorbell) === 'eventfd' ? EVENTFD : FUTEX;
    this.#spin = spinOption(options.spin, 'options.spin');
    if (id !== undefined) validateInteger(id, 'options.id', 0, members - 1);
    if (this.#kind === EVENTFD) this.#efd = native.doorbellCreate();
    try {
      [this.#id, this.#gen] = this.#claim(id);
    } catch (err) {
      if (this.#efd >= 0) native.doorbellClose(this.#efd);
      throw err;
    }
    this.#bellOffset = this.#slot(this.#id) + layout.slotBell;
    this.#bellIdx = this.#bellOffset >> 2;
    const ringOffset = (from: number, to: number) =>
      ringsOffset + (from * (members - 1) + (to < from ? to : to - 1)) * stride;
    for (let p = 0; p < members; p++) {
      if (p === this.#id) continue;
      this.#out[p] = new RingProducer(this.#u32, this.#buf, ringOffset(this.#id, p));
      this.#in[p] = new RingConsumer(this.#u32, ringOffset(p, this.#id));
      // A predecessor in this slot may have died asleep: its flags are ours to clear.
      this.#out[p]!.setSleep(0);
      this.#in[p]!.setSleep(0);
    }
    this.#next = (this.#id + 1) % members;
  }

  /** Creates a group segment (exclusive) and joins it as `options.id` (default 0). */
  static create(name: string, options: MailboxGroupCreateOptions): MailboxGroup {
    const full = normalizeName(name);
    validateObject(options, 'options');
    const members = options.members;
    validateInteger(members, 'options.members', 2, layout.maxMembers);
    const ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
    validateInteger(ringSize, 'options.ringSize', layout.minCapacity, layout.maxCapacity);
    if ((ringSize & (ringSize - 1)) !== 0) {
      throw new OutOfRangeError(`The value of "options.ringSize" is out of range. It must be a power of two. Received ${ringSize}`);
    }
    if (options.id !== undefined) validateInteger(options.id, 'options.id', 0, members - 1);
    doorbellOption(options.doorbell);
    spinOption(options.spin, 'options.spin');
    const size = native.mailboxSize(members, ringSize) as number;
    // The creator initialises the segment and takes its member slot before the name appears, so a
    // process joining at once can never take the creator's slot or see an uninitialised group.
    let group: MailboxGroup | undefined;
    SharedMemory.createInitialized(full, { size, mode: options.mode }, (shm) => {
      native.mailboxInit(SharedMemory.handleOf(shm), members, ringSize);
      group = new MailboxGroup(shm, options.id ?? 0, options);
    }, () => group?.close());
    return group!;
  }

  /** Opens an existing group and joins it (see options.id). */
  static join(name: string, options: MailboxGroupJoinOptions = {}): MailboxGroup {
    const full = normalizeName(name);
    validateObject(options, 'options');
    doorbellOption(options.doorbell);
    spinOption(options.spin, 'options.spin');
    // A creator that makes the object, sizes it, then publishes the header last can be caught
    // half-way: mailboxCheck returns null until the header is published, so re-open for a while.
    for (let attempt = 0; ; attempt++) {
      const shm = SharedMemory.open(full);
      let ready: boolean;
      try {
        ready = native.mailboxCheck(SharedMemory.handleOf(shm)) !== null;
        if (ready) return new MailboxGroup(shm, (options as MailboxGroupJoinOptions).id, options as MailboxGroupJoinOptions);
      } catch (err) {
        shm.close();
        throw err;
      }
      shm.close();
      if (attempt >= 50) throw notInitialised(full);
      sleepMs(2);
    }
  }

  /** Removes the group's name (members keep working until they close). */
  static unlink(name: string): boolean {
    return SharedMemory.unlink(name);
  }

  get id(): number {
    return this.#id;
  }
  /** Number of member slots. */
  get members(): number {
    return this.#members;
  }
  get name(): string | null {
    return this.#shm.name;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** The largest message this group carries, in bytes. */
  get maxMessageSize(): number {
    return maxMessage(this.#capacity);
  }

  /** Who holds each slot now. */
  memberInfo(id: number): MemberInfo {
    this.#check();
    validateInteger(id, 'id', 0, this.#members - 1);
    if (id === this.#id) return { id, pid: process.pid, state: 'self' };
    const s = this.#readSlot(id);
    return { id, pid: s.pid === 0 ? null : s.pid, state: s.state };
  }

  // ---- sending ----

  /** Sends without waiting: false when the ring to `to` is full (nothing was written). */
  trySend(to: number, data: MessageData): boolean {
    this.#check();
    const ring = this.#outRing(to);
    const bytes = bytesOf(data);
    return this.#write(to, ring, bytes, this.#length(bytes, ring));
  }

  /** Sends, waiting while the ring to `to` is full (back-pressure). Rejects if `to` dies or leaves meanwhile. */
  send(to: number, data: MessageData, options: SendOptions = {}): Promise<void> {
    let ring: RingProducer, bytes: Uint8Array | string, len: number, timeout: number | undefined, spin: number;
    let signal: AbortSignal | undefined;
    try {
      this.#check();
      ring = this.#outRing(to);
      bytes = bytesOf(data);
      len = this.#length(bytes, ring);
      [timeout, signal, spin] = this.#waitOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#write(to, ring, bytes, len)) return Promise.resolve();
    const attempt = () => (this.#write(to, ring, bytes, len) ? true : undefined);
    if (spin > 0 && this.#spinFor(attempt, spin) !== undefined) return Promise.resolve();
    return this.#waitAsync(attempt, (k) => ring.setSleep(k), () => this.#goneError(to, false), timeout, signal, 'send')
      .then(() => undefined);
  }

  /** Sends, blocking the thread while the ring is full. */
  sendSync(to: number, data: MessageData, options: SyncOptions = {}): void {
    this.#check();
    const ring = this.#outRing(to);
    const bytes = bytesOf(data);
    const len = this.#length(bytes, ring);
    validateObject(options, 'options');
    const timeout = validateTimeout(options.timeout, 'options.timeout');
    const spin = options.spin === undefined ? this.#spin : spinOption(options.spin, 'options.spin');
    this.#waitSync(() => (this.#write(to, ring, bytes, len) ? true : undefined), (k) => ring.setSleep(k),
      () => this.#goneError(to, false), timeout, spin, 'sendSync');
  }

  /**
   * Batches sends, like net.Socket#cork: until the matching uncork(), messages are written into the
   * rings but not published, so a burst costs one publication (and at most one wake-up) per ring
   * instead of one per message. A ring that fills up is published at once. Calls nest.
   */
  cork(): void {
    this.#check();
    this.#corked++;
  }

  /** Publishes what was sent since cork() (when the last nested cork is undone). */
  uncork(): void {
    if (this.#closed || this.#corked === 0 || --this.#corked > 0) return;
    this.#publishAll();
  }

  // ---- receiving ----

  /** The next message from `from` (or from any member, fairly), or undefined when none is waiting. */
  tryReceive(from?: number): Message | undefined {
    this.#check();
    return this.#attemptFor(this.#fromArg(from), false) as Message | undefined;
  }

  /** Like tryReceive, but reads in place (see MessageView). */
  tryReceiveView(from?: number): MessageView | undefined {
    this.#check();
    return this.#attemptFor(this.#fromArg(from), true) as MessageView | undefined;
  }

  /**
   * The next message from `from`, or from any member when `from` is undefined (round robin: no
   * sender can starve another). Waits without blocking the event loop. Receiving from a member
   * that died (or left) rejects with ERR_MAILBOX_PEER_DEAD (ERR_MAILBOX_PEER_CLOSED) once every
   * message it completed has been delivered.
   */
  receive(from?: number, options: ReceiveOptions = {}): Promise<Message> {
    return this.#receive(from, options, false) as Promise<Message>;
  }

  /** Like receive, but reads in place (see MessageView). */
  receiveView(from?: number, options: ReceiveOptions = {}): Promise<MessageView> {
    return this.#receive(from, options, true) as Promise<MessageView>;
  }

  /**
   * Every message waiting now, up to `max` (default 1024), from `from` or from any member in turn;
   * [] when none. Messages that arrived together are copied out with one allocation per run (each
   * `data` is a view of it) and given back to the sender with one index store: the batch form for
   * throughput. A view keeps its run (at most 64 KiB, or the one message) alive, like Buffer's pool.
   */
  tryReceiveMany(from?: number, max?: number): Message[] {
    this.#check();
    const f = this.#fromArg(from);
    return (this.#attemptMany(f, maxOption(max, 'max'), false) ?? []) as Message[];
  }

  /** Like tryReceiveMany, but waits (like receive) until at least one message is there. */
  receiveMany(from?: number, options: ReceiveManyOptions = {}): Promise<Message[]> {
    return this.#receiveMany(from, options, false) as Promise<Message[]>;
  }

  /** Like receive, but blocks the thread (for workers and CLIs). */
  receiveSync(from?: number, options: SyncOptions = {}): Message {
    this.#check();
    const f = this.#fromArg(from);
    validateObject(options, 'options');
    const timeout = validateTimeout(options.timeout, 'options.timeout');
    const spin = options.spin === undefined ? this.#spin : spinOption(options.spin, 'options.spin');
    return this.#waitSync(() => this.#attemptFor(f, false), (k) => this.#armIn(f, k),
      () => (f === undefined ? undefined : this.#goneError(f, true)), timeout, spin, 'receiveSync') as Message;
  }

  /** Messages from any member until the group is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    while (!this.#closed) {
      try {
        yield await this.receive();
      } catch (err) {
        if (this.#closed) return;
        throw err;
      }
    }
  }

  /**
   * Leaves the group: pending operations reject with ERR_INVALID_STATE, the slot becomes free for
   * another process to join (it inherits the unread messages addressed to the slot), and the
   * segment is unmapped. Does not unlink the name. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#publishAll(); // complete messages still go out
    this.#payOwed();
    this.#closed = true;
    const err = closedError('MailboxGroup');
    for (const w of [...this.#waiters]) this.#finish(w, err);
    this.#idle();
    this.#stopLiveness();
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#efd >= 0) native.doorbellClose(this.#efd);
    for (const { fd } of this.#peerBells.values()) if (fd >= 0) native.doorbellClose(fd);
    this.#peerBells.clear();
    for (let p = 0; p < this.#members; p++) {
      this.#out[p]?.setSleep(0);
      this.#in[p]?.setSleep(0);
    }
    // Leave cleanly: odd generation while the identity changes, then free (pid 0).
    const base = this.#slot(this.#id) >> 2;
    Atomics.store(this.#u32, base + (layout.slotGen >> 2), this.#gen + 1);
    Atomics.store(this.#u32, base + (layout.slotPid >> 2), 0);
    Atomics.store(this.#u32, base + (layout.slotEventfd >> 2), 0xffffffff);
    Atomics.store(this.#u32, base + (layout.slotGen >> 2), this.#gen + 2);
    this.#shm.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // ---- internals: slots and identity ----

  #slot(id: number): number {
    return layout.groupHeaderSize + id * layout.memberSlotSize;
  }

  /** A consistent read of a member slot (seqlock) and what it means. */
  #readSlot(id: number): { gen: number; pid: number; efd: number; state: MemberState } {
    const base = this.#slot(id) >> 2;
    const u = this.#u32;
    for (;;) {
      const g1 = Atomics.load(u, base + (layout.slotGen >> 2));
      const pid = Atomics.load(u, base + (layout.slotPid >> 2));
      const start = Atomics.load(u, base + (layout.slotStartLo >> 2)) + Atomics.load(u, base + (layout.slotStartHi >> 2)) * 2 ** 32;
      const efd = Atomics.load(u, base + (layout.slotEventfd >> 2)) | 0;
      const g2 = Atomics.load(u, base + (layout.slotGen >> 2));
      if (g1 !== g2) continue;
      if (g1 & 1) {
        // A join in progress; if the joiner died half-way, the slot is as good as dead.
        const dead = pid !== 0 && !isAlive(pid, start);
        return { gen: g1, pid, efd: -1, state: dead ? 'dead' : 'alive' };
      }
      if (pid === 0) return { gen: g1, pid, efd, state: g1 === 0 ? 'free' : 'left' };
      return { gen: g1, pid, efd, state: isAlive(pid, start) ? 'alive' : 'dead' };
    }
  }

  /** Takes slot `want` (or the first takeable one): free, left, or held by a dead process. */
  #claim(want: number | undefined): [number, number] {
    const ids = want === undefined ? [...Array(this.#members).keys()] : [want];
    const { pid: self, startTime: start } = selfIdentity();
    for (const id of ids) {
      const s = this.#readSlot(id);
      if (s.state === 'alive') continue;
      const base = this.#slot(id) >> 2;
      const genIdx = base + (layout.slotGen >> 2);
      const writing = s.gen & 1 ? s.gen + 2 : s.gen + 1; // odd while we write our identity
      if (Atomics.compareExchange(this.#u32, genIdx, s.gen, writing) !== s.gen) continue; // lost a race
      Atomics.store(this.#u32, base + (layout.slotPid >> 2), self);
      Atomics.store(this.#u32, base + (layout.slotStartLo >> 2), start % 2 ** 32);
      Atomics.store(this.#u32, base + (layout.slotStartHi >> 2), Math.floor(start / 2 ** 32));
      Atomics.store(this.#u32, base + (layout.slotEventfd >> 2), this.#efd >>> 0);
      Atomics.store(this.#u32, genIdx, writing + 1);
      return [id, writing + 1];
    }
    if (want !== undefined) {
      const s = this.#readSlot(want);
      throw Object.assign(new InterprocError('ERR_MAILBOX_MEMBER_TAKEN', `mailbox member ${want} is held by a live process (pid ${s.pid})`), { member: want, pid: s.pid });
    }
    throw new InterprocError('ERR_MAILBOX_FULL', `all ${this.#members} members of the mailbox group are held by live processes`);
  }

  /** Why waiting on member `id` is pointless, if it is: dead, or left (receivers also need the ring empty). */
  #goneError(id: number, receiving: boolean): Error | undefined {
    if (receiving && this.#in[id]!.ready()) return undefined;
    const s = this.#readSlot(id);
    if (s.state === 'dead') return peerError('ERR_MAILBOX_PEER_DEAD', id, s.pid);
    if (s.state === 'left') return peerError('ERR_MAILBOX_PEER_CLOSED', id, s.pid);
    return undefined;
  }

  // ---- internals: the hot paths ----

  #check(): void {
    if (this.#closed) throw closedError('MailboxGroup');
  }

  #outRing(to: unknown): RingProducer {
    // Fast path for a valid id; anything else goes through the full check for its error message.
    if (typeof to === 'number' && to !== this.#id) {
      const ring = this.#out[to];
      if (ring !== undefined) return ring;
    }
    validateInteger(to, 'to', 0, this.#members - 1);
    if (to === this.#id) throw new ArgValueError(`The argument 'to' must not be this member's own id. Received ${to}`);
    return this.#out[to]!;
  }

  #fromArg(from: unknown): number | undefined {
    if (from === undefined) return undefined;
    if (typeof from === 'number' && from !== this.#id && this.#in[from] !== undefined) return from;
    validateInteger(from, 'from', 0, this.#members - 1);
    if (from === this.#id) throw new ArgValueError(`The argument 'from' must not be this member's own id. Received ${from}`);
    return from;
  }

  /** The payload's length in bytes, checked against what the ring accepts. */
  #length(bytes: Uint8Array | string, ring: RingProducer): number {
    const len = typeof bytes === 'string' ? Buffer.byteLength(bytes) : byteLengthOf(bytes);
    if (len > ring.max) {
      throw new OutOfRangeError(`The message is too large for this mailbox group: ${len} bytes, at most ${ring.max}`);
    }
    return len;
  }

  #write(to: number, ring: RingProducer, bytes: Uint8Array | string, len: number): boolean {
    const corked = this.#corked > 0;
    const sleeping = ring.tryWrite(bytes, len, !corked);
    if (sleeping === false) {
      // Full while corked: what is written must become visible, or the receiver could never make room.
      if (corked && ring.unpublished) this.#publish(to);
      return false;
    }
    if (sleeping !== 0) this.#wake(to, sleeping);
    return true;
  }

  /** Publishes every ring with records written while corked (a few members: a scan is cheaper than a set per send). */
  #publishAll(): void {
    const out = this.#out;
    for (let p = 0; p < out.length; p++) if (out[p]?.unpublished) this.#publish(p);
  }

  #publish(to: number): void {
    const sleeping = this.#out[to]!.publish();
    if (sleeping !== 0) this.#wake(to, sleeping);
  }

  #attemptFor(from: number | undefined, view: boolean, dataOnly = false): Message | MessageView | Buffer | undefined {
    if (from !== undefined) {
      const ring = this.#in[from]!;
      if (ring.pending) throw new InterprocError('ERR_INVALID_STATE', `a MessageView from member ${from} is not released`);
      return this.#peek(from, ring) ? this.#take(from, ring, view, dataOnly) : undefined;
    }
    this.#throwUnreported();
    const n = this.#members;
    for (let k = 0, p = this.#next; k < n; k++, p = p + 1 === n ? 0 : p + 1) {
      const ring = this.#in[p];
      if (ring === undefined || ring.pending || ring.broken !== undefined) continue;
      if (!this.#peek(p, ring)) continue;
      this.#next = p + 1 === n ? 0 : p + 1;
      return this.#take(p, ring, view, dataOnly);
    }
    return undefined;
  }

  /**
   * ring.peek(), except that a ring whose framing is impossible (another process wrote garbage) is
   * marked broken: receiving from that sender keeps failing with ERR_MAILBOX_CORRUPT, receiving
   * from any member skips it, so one bad peer costs only its own messages.
   */
  #peek(from: number, ring: RingConsumer): boolean {
    if (ring.broken !== undefined) throw ring.broken;
    try {
      return ring.peek();
    } catch (err) {
      throw this.#broke(from, ring, err);
    }
  }

  /** Throws, once, the corrupt ring a batch from any member found after it had taken messages. */
  #throwUnreported(): void {
    const err = this.#unreported;
    if (err === undefined) return;
    this.#unreported = undefined;
    throw err;
  }

  /** Marks the ring broken when `err` is its corrupt framing (not, say, an allocation failure); returns err. */
  #broke(from: number, ring: RingConsumer, err: unknown): unknown {
    if ((err as { code?: unknown })?.code === 'ERR_MAILBOX_CORRUPT') ring.broken = Object.assign(err as Error, { member: from });
    return err;
  }

  #take(from: number, ring: RingConsumer, view: boolean, dataOnly = false): Message | MessageView | Buffer {
    const { at, length } = ring;
    if (view) {
      const data = makeView(this.#arrayBuffer, at, length);
      let released = false;
      const release = () => {
        if (released || this.#closed) return;
        released = true;
        this.#gaveBack(from, ring, ring.release());
      };
      return { from, data, release, [Symbol.dispose]: release };
    }
    // Small messages: carved from a pool (lib/mailbox/copy-pool.ts); large ones: a Buffer of their own.
    let data: Buffer;
    try {
      data = length <= POOLED_MAX ? this.#copier.copy(at, length) : ownedCopy(this.#arrayBuffer, at, length);
    } catch (err) {
      ring.unpeek(); // out of memory, say: the message stays in the ring for the next receive
      throw err;
    }
    this.#gaveBack(from, ring, ring.release());
    return dataOnly ? data : { from, data };
  }

  /** Up to `max` messages from `from`, or from each member in turn; undefined when none is waiting. */
  #attemptMany(from: number | undefined, max: number, dataOnly: boolean): (Message | Buffer)[] | undefined {
    if (from !== undefined) {
      const ring = this.#in[from]!;
      if (ring.pending) throw new InterprocError('ERR_INVALID_STATE', `a MessageView from member ${from} is not released`);
      const bufs = this.#takeMany(from, ring, max);
      if (bufs.length === 0) return undefined;
      return dataOnly ? bufs : bufs.map((data) => ({ from, data }));
    }
    this.#throwUnreported();
    let out: Message[] | undefined;
    const n = this.#members;
    for (let k = 0, p = this.#next, left = max; k < n && left > 0; k++, p = p + 1 === n ? 0 : p + 1) {
      const ring = this.#in[p];
      if (ring === undefined || ring.pending || ring.broken !== undefined) continue;
      let bufs: Buffer[];
      try {
        bufs = this.#takeMany(p, ring, left);
      } catch (err) {
        // Messages already taken from other rings must not be lost: report the bad ring next time.
        if (out === undefined) throw err;
        this.#unreported ??= err as Error;
        continue;
      }
      if (bufs.length === 0) continue;
      this.#next = p + 1 === n ? 0 : p + 1;
      left -= bufs.length;
      const from = p;
      const msgs = bufs.map((data) => ({ from, data }));
      out = out === undefined ? msgs : out.concat(msgs);
    }
    return out;
  }

  /** ring.takeMany(), waking a producer that waits for room, and marking a corrupt ring broken (see #peek). */
  #takeMany(from: number, ring: RingConsumer, max: number): Buffer[] {
    if (ring.broken !== undefined) throw ring.broken;
    let bufs: Buffer[];
    try {
      bufs = ring.takeMany(this.#buf, max);
    } catch (err) {
      throw this.#broke(from, ring, err);
    }
    this.#gaveBack(from, ring, ring.wake);
    return bufs;
  }

  /**
   * After records went back to `from`'s ring: wakes the producer if it sleeps for room (`sleeping`,
   * the flag release()/takeMany() cleared), or owes it the wake-up when the ring put that off.
   */
  #gaveBack(from: number, ring: RingConsumer, sleeping: number): void {
    if (sleeping !== 0) this.#wake(from, sleeping);
    else if (ring.owed) this.#owe(from);
  }

  /** A sleeping producer's wake-up was put off (RingConsumer#owed): done at the end of this turn at the latest. */
  #owe(from: number): void {
    this.#owed.add(from);
    // Ref'd on purpose: an unref'd immediate does not stop the loop from blocking in poll, so the
    // wake-up would wait for some unrelated event (or the producer's own 50 ms re-check).
    if (this.#owedFlush === undefined) this.#owedFlush = setImmediate(() => this.#payOwed());
  }

  /** Wakes every producer whose wake-up was put off; called at the end of the turn and before this side sleeps. */
  #payOwed(): void {
    if (this.#owedFlush !== undefined) {
      clearImmediate(this.#owedFlush);
      this.#owedFlush = undefined;
    }
    for (const p of this.#owed) {
      const k = this.#in[p]!.wakeOwed();
      if (k !== 0) this.#wake(p, k);
    }
    this.#owed.clear();
  }

  #armIn(from: number | undefined, kind: number): void {
    if (from !== undefined) {
      this.#in[from]!.setSleep(kind);
      return;
    }
    for (const ring of this.#in) ring?.setSleep(kind);
  }

  #disarmAll(): void {
    for (let p = 0; p < this.#members; p++) {
      this.#in[p]?.setSleep(0);
      this.#out[p]?.setSleep(0);
    }
  }

  // ---- internals: wake-ups ----

  /** Wakes member `id`, who announced it sleeps on its futex bell (kind 1) or its eventfd (kind 2). */
  #wake(id: number, kind: number): void {
    const bellOffset = this.#slot(id) + layout.slotBell;
    Atomics.add(this.#u32, bellOffset >> 2, 1);
    if (kind === FUTEX) {
      native.futexWake(this.#handle, bellOffset, 0x7fffffff);
      return;
    }
    const fd = this.#peerDoorbell(id);
    if (fd >= 0) native.doorbellRing(fd);
  }

  /** This process's duplicate of member `id`'s eventfd, fetched once per incarnation of the slot. */
  #peerDoorbell(id: number): number {
    const cached = this.#peerBells.get(id);
    const gen = Atomics.load(this.#u32, (this.#slot(id) + layout.slotGen) >> 2);
    if (cached !== undefined && cached.gen === gen) return cached.fd; // no /proc read on the hot path
    const s = this.#readSlot(id);
    if (cached !== undefined && cached.fd >= 0) native.doorbellClose(cached.fd);
    let fd = -1;
    if (s.state === 'alive' && s.efd >= 0) {
      try {
        fd = native.doorbellFetch(s.pid, s.efd) as number;
      } catch (err) {
        // The peer still finds the message within LIVENESS_MS (it re-checks while asleep); say why once.
        if ((err as { code?: string }).code !== 'ESRCH' && !this.#warned) {
          this.#warned = true;
          process.emitWarning(`interproc: cannot reach the eventfd doorbell of mailbox member ${id} (${(err as Error).message}); ` +
            `its wake-ups fall back to a ${LIVENESS_MS} ms poll. Join with { doorbell: 'futex' } on such hosts.`, 'InterprocWarning');
        }
      }
    }
    this.#peerBells.set(id, { gen: s.gen, fd });
    return fd;
  }

  #spinFor(attempt: () => unknown, us: number): unknown {
    const end = performance.now() + us / 1000;
    for (let i = 1; ; i++) {
      const r = attempt();
      if (r !== undefined) return r;
      if ((i & 31) === 0 && performance.now() >= end) return undefined;
    }
  }

  #waitOptions(options: ReceiveOptions): [number | undefined, AbortSignal | undefined, number] {
    validateObject(options, 'options');
    const timeout = validateTimeout(options.timeout, 'options.timeout');
    const signal: unknown = options.signal;
    validateAbortSignal(signal, 'options.signal');
    const spin = options.spin === undefined ? this.#spin : spinOption(options.spin, 'options.spin');
    return [timeout, signal, spin];
  }

  /** @internal Mailbox#receive: resolves with the Buffer alone (no wrapper object, no extra promise). */
  [kReceiveData](from: number, options: ReceiveOptions): Promise<Buffer> {
    return this.#receive(from, options, false, true) as Promise<Buffer>;
  }

  /** @internal Mailbox#tryReceiveMany / receiveMany: Buffers alone. */
  [kReceiveMany](from: number, options: ReceiveManyOptions | undefined, wait: boolean): Buffer[] | Promise<Buffer[]> {
    if (wait) return this.#receiveMany(from, options as ReceiveManyOptions, true) as Promise<Buffer[]>;
    this.#check();
    return (this.#attemptMany(from, maxOption(options?.max, 'max'), true) ?? []) as Buffer[];
  }

  #receive(from: unknown, options: ReceiveOptions, view: boolean, dataOnly = false): Promise<Message | MessageView | Buffer> {
    return this.#receiveWith(from, options, view ? 'receiveView' : 'receive', (f) => this.#attemptFor(f, view, dataOnly));
  }

  #receiveMany(from: unknown, options: ReceiveManyOptions, dataOnly: boolean): Promise<unknown> {
    let max: number;
    try {
      validateObject(options, 'options');
      max = maxOption(options.max, 'options.max');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#receiveWith(from, options, 'receiveMany', (f) => this.#attemptMany(f, max, dataOnly));
  }

  /** The async receives: an attempt at once, then the bounded poll (spin), then the event-loop wait. */
  #receiveWith<T>(from: unknown, options: ReceiveOptions, op: string, attemptFor: (f: number | undefined) => T | undefined): Promise<T> {
    let f: number | undefined, timeout: number | undefined, signal: AbortSignal | undefined, spin: number;
    let first: T | undefined;
    try {
      this.#check();
      f = this.#fromArg(from);
      [timeout, signal, spin] = this.#waitOptions(options);
      first = attemptFor(f);
    } catch (err) {
      return Promise.reject(err);
    }
    if (first !== undefined) return Promise.resolve(first);
    const attempt = () => attemptFor(f);
    if (spin > 0) {
      const r = this.#spinFor(attempt, spin);
      if (r !== undefined) return Promise.resolve(r as T);
    }
    return this.#waitAsync(attempt, (k) => this.#armIn(f, k), () => (f === undefined ? undefined : this.#goneError(f, true)),
      timeout, signal, op) as Promise<T>;
  }

  /**
   * Blocking wait: announce the sleep, re-check, sleep on the futex bell in slices (so a dead peer
   * is noticed), until attempt() gives a result.
   */
  #waitSync(attempt: () => unknown, arm: (kind: number) => void, dead: () => Error | undefined,
    timeout: number | undefined, spin: number, op: string): unknown {
    let r = attempt();
    if (r !== undefined) return r;
    if (spin > 0 && (r = this.#spinFor(attempt, spin)) !== undefined) return r;
    // No clock reads on the way to sleep unless a timeout asks for them.
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    let checkPeers = false; // a /proc read: only after a quiet slice, not before every sleep
    let armed = false;
    try {
      for (;;) {
        const bell = Atomics.load(this.#u32, this.#bellIdx);
        arm(FUTEX);
        armed = true;
        if ((r = attempt()) !== undefined) return r;
        if (checkPeers) {
          const gone = dead();
          if (gone !== undefined) throw gone;
        }
        let slice = LIVENESS_MS;
        if (deadline !== Infinity) {
          const left = deadline - performance.now();
          if (left <= 0) throw timeoutError(op, timeout!);
          if (left < slice) slice = left;
        }
        if (this.#owed.size > 0) this.#payOwed();
        checkPeers = native.futexWait(this.#handle, this.#bellOffset, bell, slice) === WAIT_TIMED_OUT;
        arm(0);
        armed = false;
        if ((r = attempt()) !== undefined) return r;
      }
    } finally {
      if (armed) arm(0);
      if (this.#waiters.size > 0) this.#pump(); // async waiters' flags were overwritten: re-arm them
    }
  }

  #waitAsync(attempt: () => unknown, arm: (kind: number) => void, dead: () => Error | undefined,
    timeout: number | undefined, signal: AbortSignal | undefined, op: string): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise((resolve, reject) => {
      const w: Waiter = { attempt, arm, dead, resolve, reject };
      if (timeout !== undefined) w.timer = setTimeout(() => this.#finish(w, timeoutError(op, timeout)), timeout);
      if (signal !== undefined) {
        const onAbort = () => this.#finish(w, asAbortError(new AbortError(undefined, { cause: signal.reason }), signal));
        signal.addEventListener('abort', onAbort, { once: true });
        w.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#waiters.add(w);
      this.#pump(); // peers' liveness: on the first tick, LIVENESS_MS from now
    });
  }

  #finish(w: Waiter, err: unknown, value?: unknown): void {
    if (!this.#waiters.delete(w)) return;
    if (w.timer !== undefined) clearTimeout(w.timer);
    w.cleanup?.();
    if (err !== undefined) w.reject(err);
    else w.resolve(value);
    if (this.#waiters.size === 0) this.#idle();
  }

  /** Serves pending async operations in arrival order; true when one completed. */
  #serve(): boolean {
    let progressed = false;
    // Iterating the Set itself (no copy per wake-up) is safe: #finish only deletes the current
    // waiter, and what it resolves runs later, as a microtask.
    for (const w of this.#waiters) {
      let r: unknown;
      try {
        r = w.attempt();
      } catch (err) {
        this.#finish(w, err);
        progressed = true;
        continue;
      }
      if (r !== undefined) {
        this.#finish(w, undefined, r);
        progressed = true;
      }
    }
    return progressed;
  }

  /**
   * Runs whenever something may have changed (a doorbell, a liveness tick, a new waiter): serve
   * what can be served, then announce the sleep on the rings still waited on, re-check (the other
   * half of the handshake) and, if still nothing, go back to the event loop until the doorbell rings.
   */
  #pump(checkPeers = false): void {
    if (this.#closed) return;
    this.#disarmAll();
    for (;;) {
      this.#serve();
      if (this.#waiters.size === 0) return;
      const bell = Atomics.load(this.#u32, this.#bellIdx);
      for (const w of this.#waiters) w.arm(this.#kind);
      if (this.#serve()) continue;
      // Liveness costs a /proc read: done for a new wait and on the periodic tick, not per doorbell.
      if (checkPeers) {
        for (const w of [...this.#waiters]) {
          const gone = w.dead();
          if (gone !== undefined) this.#finish(w, gone);
        }
      }
      if (this.#waiters.size === 0) {
        this.#disarmAll();
        return;
      }
      if (this.#owed.size > 0) this.#payOwed();
      this.#sleep(bell);
      return;
    }
  }

  #sleep(bell: number): void {
    if (this.#liveness === undefined) {
      // One unref'd interval while operations wait; it stops itself on the first idle tick, so a
      // steady conversation does not create a timer per message.
      this.#liveness = setInterval(() => {
        if (this.#waiters.size > 0) this.#pump(true);
        else this.#stopLiveness();
      }, LIVENESS_MS);
      this.#liveness.unref();
    }
    if (this.#kind === EVENTFD) {
      if (this.#watcher === undefined) {
        // Doorbell mode: the eventfd is reset natively (or, edge-triggered, never read at all).
        this.#watcher = new native.FdWatcher(this.#efd, () => {
          if (!this.#closed) this.#pump();
        }, { eventfd: true, edgeTriggered: edgeDoorbell() });
      }
      if (!this.#watching) {
        this.#watcher.start(1);
        this.#watching = true;
        this.#watcherRef = true; // a started handle is ref'd
      }
      if (!this.#watcherRef) {
        this.#watcher.ref();
        this.#watcherRef = true;
      }
      return;
    }
    if (this.#futexJob) return;
    this.#futexJob = true;
    const [p] = native.futexWaitAsync(this.#handle, this.#bellOffset, bell, LIVENESS_MS, this.#u32);
    p.then(() => {
      this.#futexJob = false;
      this.#pump();
    }, () => {
      this.#futexJob = false; // the segment was closed under the wait
    });
  }

  #stopLiveness(): void {
    if (this.#liveness !== undefined) {
      clearInterval(this.#liveness);
      this.#liveness = undefined;
    }
  }

  /** No operation pending: nothing may keep the process alive. */
  #idle(): void {
    // The poll handle stays started (restarting costs two epoll_ctl calls per message, and would
    // lose the edge-triggered registration) but unref'd.
    if (this.#watcherRef) {
      this.#watcher?.unref();
      this.#watcherRef = false;
    }
  }

  /** @internal See kDoorbellMode. */
  get [kDoorbellMode](): 'edge' | 'level' | 'futex' | 'none' {
    if (this.#kind === FUTEX) return 'futex';
    if (this.#watcher === undefined) return 'none';
    return this.#watcher.edgeTriggered() ? 'edge' : 'level';
  }
}

/** A two-party channel: a MailboxGroup of two members, each sending to the other. */
export class Mailbox implements Disposable, AsyncIterable<Buffer> {
  readonly #group: MailboxGroup;
  readonly #peer: number;

  private constructor(group: MailboxGroup) {
    this.#group = group;
    this.#peer = 1 - group.id;
  }

  /** Creates the channel's segment (exclusive) and takes side 0. */
  static create(name: string, options: Omit<MailboxGroupCreateOptions, 'members' | 'id'> = {}): Mailbox {
    validateObject(options, 'options');
    return new Mailbox(MailboxGroup.create(name, { ...options, members: 2, id: 0 }));
  }

  /** Opens an existing channel and takes the free side (or `options.id`). */
  static open(name: string, options: MailboxGroupJoinOptions = {}): Mailbox {
    validateObject(options, 'options');
    const group = MailboxGroup.join(name, options);
    if (group.members !== 2) {
      group.close();
      throw new InterprocError('ERR_MAILBOX_INCOMPATIBLE', `'${name}' is a mailbox group of ${group.members} members, not a two-party Mailbox`);
    }
    return new Mailbox(group);
  }

  static unlink(name: string): boolean {
    return MailboxGroup.unlink(name);
  }

  get id(): number {
    return this.#group.id;
  }
  get closed(): boolean {
    return this.#group.closed;
  }
  get maxMessageSize(): number {
    return this.#group.maxMessageSize;
  }
  /** The other side: its pid and whether it is alive, dead, has left, or never came. */
  get peer(): MemberInfo {
    return this.#group.memberInfo(this.#peer);
  }

  trySend(data: MessageData): boolean {
    return this.#group.trySend(this.#peer, data);
  }
  /** See MailboxGroup#cork. */
  cork(): void {
    this.#group.cork();
  }
  uncork(): void {
    this.#group.uncork();
  }
  send(data: MessageData, options?: SendOptions): Promise<void> {
    return this.#group.send(this.#peer, data, options);
  }
  sendSync(data: MessageData, options?: SyncOptions): void {
    this.#group.sendSync(this.#peer, data, options);
  }
  tryReceive(): Buffer | undefined {
    return this.#group.tryReceive(this.#peer)?.data;
  }
  tryReceiveView(): MessageView | undefined {
    return this.#group.tryReceiveView(this.#peer);
  }
  receive(options: ReceiveOptions = {}): Promise<Buffer> {
    return this.#group[kReceiveData](this.#peer, options);
  }
  receiveView(options?: ReceiveOptions): Promise<MessageView> {
    return this.#group.receiveView(this.#peer, options);
  }
  receiveSync(options?: SyncOptions): Buffer {
    return this.#group.receiveSync(this.#peer, options).data;
  }
  /** Every message waiting now, up to `max` (default 1024); [] when none. See MailboxGroup#tryReceiveMany. */
  tryReceiveMany(max?: number): Buffer[] {
    return this.#group[kReceiveMany](this.#peer, { max }, false) as Buffer[];
  }
  /** Like tryReceiveMany, but waits until at least one message is there. */
  receiveMany(options: ReceiveManyOptions = {}): Promise<Buffer[]> {
    return this.#group[kReceiveMany](this.#peer, options, true) as Promise<Buffer[]>;
  }

  /** @internal See kDoorbellMode. */
  get [kDoorbellMode](): 'edge' | 'level' | 'futex' | 'none' {
    return this.#group[kDoorbellMode];
  }

  /** Messages until the peer leaves (the loop ends) or dies (it throws ERR_MAILBOX_PEER_DEAD), or this side closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    while (!this.closed) {
      try {
        yield await this.receive();
      } catch (err) {
        if (this.closed || (err as { code?: string }).code === 'ERR_MAILBOX_PEER_CLOSED') return;
        throw err;
      }
    }
  }

  close(): void {
    this.#group.close();
  }
  [Symbol.dispose](): void {
    this.close();
  }
}
