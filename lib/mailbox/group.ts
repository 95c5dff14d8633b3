// Mailboxes: message passing over shared memory. A MailboxGroup is one segment shared by N members,
// with one single-producer/single-consumer ring for each ordered pair, so send(to) writes only into
// the sender's own ring towards `to` and receive() reads only rings addressed to the receiver.
// Messages move in JS over the mapping (lib/mailbox/ring.ts); native code is called only to sleep,
// to wake a sleeper, and to set up. Protocols: docs/design/mailbox.md, docs/protocol/mailbox-segment.md.
//
// This file is the API; a member is assembled from: segment.ts (the mapping and the member slots),
// inbox.ts and outbox.ts (the rings to and from this member), doorbell.ts (what it sleeps on and
// how it wakes others), waiters.ts (the operations that wait). mailbox.ts is the two-member case.
import { native } from '../internal/binding';
import { closedError, codeOf } from '../internal/errors';
import {
  ArgValueError,
  invalidType,
  OutOfRangeError,
  validateAbortSignal,
  validateInteger,
  validateObject,
  validateOptionNames,
  validateTimeout,
} from '../internal/validate';
import { normalizeName, SharedMemory } from '../shm/shared-memory';
import { closeEventfd, kDoorbellMode, OwnDoorbell, PeerBells, openEventfd, type DoorbellMode } from './doorbell';
import { Inbox, ReceiveWait, TAKE_DATA, TAKE_MESSAGE, TAKE_VIEW, type Message, type MessageView, type Take } from './inbox';
import { bytesOf, Outbox, SendWait, type MessageData } from './outbox';
import { EVENTFD, FUTEX, layout, maxMessage } from './ring';
import { PeerWatch } from './peer-watch';
import { GroupSegment, type MemberInfo, type Membership } from './segment';
import { WaitEngine } from './waiters';

const DEFAULT_RING_SIZE = 256 * 1024;
const DEFAULT_MANY = 1024;

export type Doorbell = 'eventfd' | 'futex';

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

/**
 * The members this thread holds and has not closed. A process that ends without close() leaves
 * them as close() would, so its peers see 'left' (ERR_MAILBOX_PEER_CLOSED: a Mailbox's for-await
 * ends) and only a death is ERR_MAILBOX_PEER_DEAD: process.exit() runs no environment cleanup hook
 * but emits 'exit', hence this; the end of the event loop and a worker's termination run the native
 * hook (native/binding/mailbox/mailbox_wrap.cc, mailboxHold), which also covers 'exit' not firing.
 */
const openGroups = new Set<MailboxGroup>();
let exitHooked = false;

function closeAtExit(): void {
  for (const g of [...openGroups]) g.close();
}

/** Runs `fn`, except that a segment truncated under it (ERR_SHM_TRUNCATED) is no reason for close() to fail. */
function unlessTruncated(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (codeOf(err) !== 'ERR_SHM_TRUNCATED') throw err;
  }
}

/** A waiting send resolves with nothing (its attempt gave `true`). */
const resolvedVoid = (): void => undefined;

/** The default of every options argument (one object, not one per call). */
const NO_OPTIONS: ReceiveManyOptions = Object.freeze({});
const RECEIVE_KEYS = ['timeout', 'signal', 'spin'];
const RECEIVE_MANY_KEYS = ['timeout', 'signal', 'spin', 'max'];

function doorbellOption(v: unknown): Doorbell {
  if (v === undefined) return 'eventfd';
  if (v !== 'eventfd' && v !== 'futex')
    throw new ArgValueError(`The property 'options.doorbell' must be 'eventfd' or 'futex'. Received ${String(v)}`);
  return v;
}

function spinOption(v: unknown, name: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || Number.isNaN(v)) throw invalidType(name, 'of type number', v);
  if (v < 0 || v > 1e6)
    throw new OutOfRangeError(`The value of "${name}" is out of range. It must be >= 0 && <= 1000000. Received ${v}`);
  return v;
}

function maxOption(v: unknown, name: string): number {
  if (v === undefined) return DEFAULT_MANY;
  validateInteger(v, name, 1, 2 ** 31 - 1);
  return v as number;
}

/**
 * @internal What the two-party Mailbox uses beyond the public API: receives that give the
 * Buffers alone (no wrapper object, no extra promise per message).
 */
export interface DataReceiver {
  receiveData(from: number, options: ReceiveOptions): Promise<Buffer>;
  receiveManyData(from: number, options: ReceiveManyOptions): Promise<Buffer[]>;
  tryReceiveManyData(from: number, max: number | undefined): Buffer[];
}

export class MailboxGroup implements Disposable, AsyncIterable<Message> {
  readonly #segment: GroupSegment;
  readonly #membership: Membership;
  readonly #bell: OwnDoorbell;
  readonly #peers: PeerBells;
  readonly #inbox: Inbox;
  readonly #outbox: Outbox;
  readonly #waits: WaitEngine;
  readonly #spin: number;
  readonly #hold: number; // native.mailboxHold's token: the environment's cleanup hook leaves the slot
  /** Death watches on the other members, made on the first wait that sleeps. */
  #deaths: PeerWatch | undefined;
  #closed = false;

  private constructor(segment: GroupSegment, id: number | undefined, options: MailboxGroupOptions) {
    const kind = doorbellOption(options.doorbell) === 'eventfd' ? EVENTFD : FUTEX;
    this.#spin = spinOption(options.spin, 'options.spin');
    if (id !== undefined) validateInteger(id, 'options.id', 0, segment.members - 1);
    const efd = openEventfd(kind);
    try {
      this.#membership = segment.claim(id, efd);
    } catch (err) {
      closeEventfd(efd);
      throw err;
    }
    const self = this.#membership.id;
    this.#hold = native.mailboxHold(segment.handle, self, this.#membership.gen);
    openGroups.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', closeAtExit);
    }
    this.#segment = segment;
    this.#bell = new OwnDoorbell(segment, self, kind, efd, () => this.#waits.pump());
    this.#peers = new PeerBells(segment);
    this.#inbox = new Inbox(segment, self, this.#peers);
    this.#outbox = new Outbox(segment, self, this.#peers);
    const inbox = this.#inbox;
    const outbox = this.#outbox;
    this.#waits = new WaitEngine(this.#bell, {
      disarm: () => {
        inbox.disarm();
        outbox.disarm();
      },
      beforeSleep: () => inbox.payOwed(),
      watchPeers: () => this.#peerWatch().sync(),
      pidfd: (id) => this.#peerWatch().pidfd(id),
      pidfdFired: (id) => this.#deaths?.fired(id),
    });
  }

  /** Creates a group segment (exclusive) and joins it as `options.id` (default 0). */
  static create(name: string, options: MailboxGroupCreateOptions): MailboxGroup {
    const full = normalizeName(name);
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['members', 'ringSize', 'mode', 'id', 'doorbell', 'spin']);
    const members = options.members;
    validateInteger(members, 'options.members', 2, layout.maxMembers);
    const ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
    validateInteger(ringSize, 'options.ringSize', layout.minCapacity, layout.maxCapacity);
    if ((ringSize & (ringSize - 1)) !== 0) {
      throw new OutOfRangeError(
        `The value of "options.ringSize" is out of range. It must be a power of two. Received ${ringSize}`,
      );
    }
    if (options.id !== undefined) validateInteger(options.id, 'options.id', 0, members - 1);
    doorbellOption(options.doorbell);
    spinOption(options.spin, 'options.spin');
    // The creator takes its member slot before the name appears (see GroupSegment.create).
    return GroupSegment.create(
      full,
      members,
      ringSize,
      options.mode,
      (segment) => new MailboxGroup(segment, options.id ?? 0, options),
    );
  }

  /** Opens an existing group and joins it (see options.id). */
  static join(name: string, options: MailboxGroupJoinOptions = NO_OPTIONS): MailboxGroup {
    const full = normalizeName(name);
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['id', 'doorbell', 'spin']);
    doorbellOption(options.doorbell);
    spinOption(options.spin, 'options.spin');
    return GroupSegment.open(full, (segment) => new MailboxGroup(segment, (options as MailboxGroupJoinOptions).id, options));
  }

  /** @internal The segment under a group (lib/rpc/mailbox-transport.ts watches its member slots). */
  static segmentOf(group: MailboxGroup): GroupSegment {
    return group.#segment;
  }

  /** Removes the group's name (members keep working until they close). */
  static unlink(name: string): boolean {
    return SharedMemory.unlink(name);
  }

  get id(): number {
    return this.#membership.id;
  }
  /** Number of member slots. */
  get members(): number {
    return this.#segment.members;
  }
  get name(): string | null {
    return this.#segment.name;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** The largest message this group carries, in bytes. */
  get maxMessageSize(): number {
    return maxMessage(this.#segment.capacity);
  }

  /** Who holds each slot now. */
  memberInfo(id: number): MemberInfo {
    this.#check();
    validateInteger(id, 'id', 0, this.#segment.members - 1);
    if (id === this.#membership.id) return { id, pid: process.pid, state: 'self' };
    return this.#segment.info(id);
  }

  // ---- sending ----

  /**
   * Sends without waiting: false when the ring to `to` is full, or earlier sends to `to` still wait
   * for room (a message never overtakes them); nothing was written then.
   */
  trySend(to: number, data: MessageData): boolean {
    this.#check();
    const ring = this.#outbox.ring(to);
    const bytes = bytesOf(data);
    const len = this.#outbox.length(bytes, ring);
    if (this.#outbox.waiting(to)) {
      this.#waits.serve(); // the waiting ones may fit now: they go first
      if (this.#outbox.waiting(to)) return false;
    }
    return this.#outbox.write(to, ring, bytes, len);
  }

  /** Sends, waiting while the ring to `to` is full (back-pressure). Rejects if `to` dies or leaves meanwhile. */
  send(to: number, data: MessageData, options: SendOptions = NO_OPTIONS): Promise<void> {
    let w: SendWait, timeout: number | undefined;
    try {
      this.#check();
      const ring = this.#outbox.ring(to);
      const bytes = bytesOf(data);
      const len = this.#outbox.length(bytes, ring);
      validateObject(options, 'options');
      if (options !== NO_OPTIONS) validateOptionNames(options, 'options', ['timeout', 'signal', 'spin']);
      timeout = validateTimeout(options.timeout, 'options.timeout');
      validateAbortSignal(options.signal, 'options.signal');
      const spin = options.spin === undefined ? this.#spin : spinOption(options.spin, 'options.spin');
      // Behind earlier sends to `to` that still wait for room, this one waits its turn (per-sender order).
      const behind = this.#outbox.waiting(to);
      if (!behind && this.#outbox.write(to, ring, bytes, len)) return Promise.resolve();
      w = new SendWait(this.#outbox, this.#segment, to, ring, bytes, len);
      if (spin > 0 && !behind && this.#waits.spin(w, spin) !== undefined) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#waits.wait(w, timeout, options.signal, 'MailboxGroup send').then(resolvedVoid);
  }

  /** Sends, blocking the thread while the ring is full. */
  sendSync(to: number, data: MessageData, options: SyncOptions = NO_OPTIONS): void {
    this.#check();
    const ring = this.#outbox.ring(to);
    const bytes = bytesOf(data);
    const len = this.#outbox.length(bytes, ring);
    validateObject(options, 'options');
    if (options !== NO_OPTIONS) validateOptionNames(options, 'options', ['timeout', 'spin']);
    const timeout = validateTimeout(options.timeout, 'options.timeout');
    const spin = options.spin === undefined ? this.#spin : spinOption(options.spin, 'options.spin');
    // Pending async sends to `to` go first: waitSync serves them before each attempt of this one.
    if (!this.#outbox.waiting(to) && this.#outbox.write(to, ring, bytes, len)) return;
    this.#waits.waitSync(new SendWait(this.#outbox, this.#segment, to, ring, bytes, len), timeout, spin, 'MailboxGroup sendSync');
  }

  /**
   * Batches sends, like net.Socket#cork: until the matching uncork(), messages are written into the
   * rings but not published, so a burst costs one publication (and at most one wake-up) per ring
   * instead of one per message. A ring that fills up is published at once. Calls nest.
   */
  cork(): void {
    this.#check();
    this.#outbox.cork();
  }

  /** Publishes what was sent since cork() (when the last nested cork is undone). */
  uncork(): void {
    if (!this.#closed) this.#outbox.uncork();
  }

  // ---- receiving ----

  /** The next message from `from` (or from any member, fairly), or undefined when none is waiting. */
  tryReceive(from?: number): Message | undefined {
    this.#check();
    if (this.#waits.receiving) this.#waits.serve(); // receives issued earlier take messages first
    return this.#inbox.take(this.#inbox.fromArg(from), TAKE_MESSAGE) as Message | undefined;
  }

  /** Like tryReceive, but reads in place (see MessageView). */
  tryReceiveView(from?: number): MessageView | undefined {
    this.#check();
    if (this.#waits.receiving) this.#waits.serve();
    return this.#inbox.take(this.#inbox.fromArg(from), TAKE_VIEW) as MessageView | undefined;
  }

  /**
   * The next message from `from`, or from any member when `from` is undefined (round robin: no
   * sender can starve another). Waits without blocking the event loop. Receiving from a member
   * that died (or left) rejects with ERR_MAILBOX_PEER_DEAD (ERR_MAILBOX_PEER_CLOSED) once every
   * message it completed has been delivered.
   */
  receive(from?: number, options: ReceiveOptions = NO_OPTIONS): Promise<Message> {
    return this.#receive(from, options, TAKE_MESSAGE, 0, 'MailboxGroup receive') as Promise<Message>;
  }

  /** Like receive, but reads in place (see MessageView). */
  receiveView(from?: number, options: ReceiveOptions = NO_OPTIONS): Promise<MessageView> {
    return this.#receive(from, options, TAKE_VIEW, 0, 'MailboxGroup receiveView') as Promise<MessageView>;
  }

  /**
   * Every message waiting now, up to `max` (default 1024), from `from` or from any member in turn;
   * [] when none. Messages that arrived together are copied out with one allocation per run (each
   * `data` is a view of it) and given back to the sender with one index store: the batch form for
   * throughput. A view keeps its run (at most 64 KiB, or the one message) alive, like Buffer's pool.
   */
  tryReceiveMany(from?: number, max?: number): Message[] {
    this.#check();
    if (this.#waits.receiving) this.#waits.serve();
    const f = this.#inbox.fromArg(from);
    return (this.#inbox.takeMany(f, maxOption(max, 'max'), false) ?? []) as Message[];
  }

  /** Like tryReceiveMany, but waits (like receive) until at least one message is there. */
  receiveMany(from?: number, options: ReceiveManyOptions = NO_OPTIONS): Promise<Message[]> {
    return this.#receiveMany(from, options, TAKE_MESSAGE, 'MailboxGroup receiveMany') as Promise<Message[]>;
  }

  /** Like receive, but blocks the thread (for workers and CLIs). */
  receiveSync(from?: number, options: SyncOptions = NO_OPTIONS): Message {
    this.#check();
    const f = this.#inbox.fromArg(from);
    validateObject(options, 'options');
    if (options !== NO_OPTIONS) validateOptionNames(options, 'options', ['timeout', 'spin']);
    const timeout = validateTimeout(options.timeout, 'options.timeout');
    const spin = options.spin === undefined ? this.#spin : spinOption(options.spin, 'options.spin');
    if (this.#waits.receiving) this.#waits.serve(); // async receives issued earlier go first
    const first = this.#inbox.take(f, TAKE_MESSAGE);
    if (first !== undefined) return first as Message;
    return this.#waits.waitSync(
      new ReceiveWait(this.#inbox, f, TAKE_MESSAGE, 0),
      timeout,
      spin,
      'MailboxGroup receiveSync',
    ) as Message;
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

  /** @internal See DataReceiver (Mailbox#receive). */
  receiveData(from: number, options: ReceiveOptions): Promise<Buffer> {
    return this.#receive(from, options, TAKE_DATA, 0, 'Mailbox receive') as Promise<Buffer>;
  }

  /** @internal See DataReceiver (Mailbox#receiveMany). */
  receiveManyData(from: number, options: ReceiveManyOptions): Promise<Buffer[]> {
    return this.#receiveMany(from, options, TAKE_DATA, 'Mailbox receiveMany') as Promise<Buffer[]>;
  }

  /** @internal See DataReceiver (Mailbox#tryReceiveMany). */
  tryReceiveManyData(from: number, max: number | undefined): Buffer[] {
    this.#check();
    if (this.#waits.receiving) this.#waits.serve();
    return (this.#inbox.takeMany(this.#inbox.fromArg(from), maxOption(max, 'max'), true) ?? []) as Buffer[];
  }

  /**
   * @internal tryReceiveMany(undefined, max), but undefined (no empty array) when nothing is
   * waiting: for a loop that polls the rings itself (lib/rpc/mailbox-transport.ts, spin mode).
   */
  pollMany(max: number): Message[] | undefined {
    this.#check();
    if (this.#waits.receiving) this.#waits.serve();
    return this.#inbox.takeMany(undefined, max, false) as Message[] | undefined;
  }

  /**
   * @internal Ends this member's pending async receives with ERR_INVALID_STATE (`what` closed): a
   * receive loop over the group (lib/rpc/mailbox-transport.ts) stops with this instead of an
   * AbortSignal, whose listener would cost ~1 µs per receive. The group stays open.
   */
  endReceives(what: string): void {
    if (!this.#closed) this.#waits.endReceives(closedError(what));
  }

  /**
   * Leaves the group: pending operations reject with ERR_INVALID_STATE, the slot becomes free for
   * another process to join (it inherits the unread messages addressed to the slot), and the
   * segment is unmapped. Does not unlink the name. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    unlessTruncated(() => this.#outbox.publishAll()); // complete messages still go out
    unlessTruncated(() => this.#inbox.close()); // and put-off wake-ups too
    this.#closed = true;
    this.#waits.close(closedError('MailboxGroup'));
    this.#deaths?.close();
    this.#outbox.disarm();
    // Leave before closing the eventfd: until the slot stops naming it, a peer could fetch that fd
    // number with pidfd_getfd after it was closed and reused, and ring an unrelated descriptor.
    this.#segment.leave(this.#membership);
    native.mailboxRelease(this.#hold);
    openGroups.delete(this);
    this.#bell.close();
    this.#peers.close();
    this.#segment.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal See kDoorbellMode. */
  get [kDoorbellMode](): DoorbellMode {
    return this.#bell.mode;
  }

  #check(): void {
    if (this.#closed) throw closedError('MailboxGroup');
  }

  #peerWatch(): PeerWatch {
    return (this.#deaths ??= new PeerWatch(this.#segment, this.#membership.id, () => this.#waits.peerDied()));
  }

  #receiveMany(from: unknown, options: ReceiveManyOptions, take: Take, what: string): Promise<unknown> {
    let max: number;
    try {
      validateObject(options, 'options');
      max = maxOption(options.max, 'options.max');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#receive(from, options, take, max, what);
  }

  /**
   * The async receives (`max` 0: one message, else a batch of up to `max`): an attempt at once,
   * then the bounded poll (spin), then the event-loop wait. Bad arguments reject.
   */
  #receive(from: unknown, options: ReceiveOptions, take: Take, max: number, what: string): Promise<unknown> {
    let w: ReceiveWait, timeout: number | undefined;
    try {
      this.#check();
      const f = this.#inbox.fromArg(from);
      validateObject(options, 'options');
      if (options !== NO_OPTIONS) validateOptionNames(options, 'options', max === 0 ? RECEIVE_KEYS : RECEIVE_MANY_KEYS);
      timeout = validateTimeout(options.timeout, 'options.timeout');
      validateAbortSignal(options.signal, 'options.signal');
      const spin = options.spin === undefined ? this.#spin : spinOption(options.spin, 'options.spin');
      // Receives still pending take messages first (in call order): then this one waits its turn.
      const behind = this.#waits.receiving;
      if (!behind) {
        const first = max === 0 ? this.#inbox.take(f, take) : this.#inbox.takeMany(f, max, take === TAKE_DATA);
        if (first !== undefined) return Promise.resolve(first);
      }
      w = new ReceiveWait(this.#inbox, f, take, max);
      if (spin > 0 && !behind) {
        const r = this.#waits.spin(w, spin);
        if (r !== undefined) return Promise.resolve(r);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#waits.wait(w, timeout, options.signal, what);
  }
}
