// The receiving side of a mailbox member: the rings addressed to it, one per sender. It takes
// messages from one sender or from any in turn (round robin, so no sender can starve another), as
// owned copies, views in place, or batches; marks a sender's ring broken when its framing is
// impossible, so one bad peer costs only its own messages; and gives room back to the senders,
// waking one that sleeps for it (at once, or put off to the end of the turn: RingConsumer#owed).
import { makeView } from '../internal/bytes';
import { codeOf, InterprocError } from '../internal/errors';
import { ArgValueError, validateInteger } from '../internal/validate';
import { POOLED_MAX, SegmentCopier } from './copy-pool';
import { AWAKE, ownedCopy, RingConsumer } from './ring';
import type { GroupSegment } from './segment';
import { Waiter } from './waiters';

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

/** What a single receive gives: a Message (an owned copy), a MessageView, or the copy's Buffer alone. */
export const TAKE_MESSAGE = 0;
export const TAKE_VIEW = 1;
export const TAKE_DATA = 2;
export type Take = typeof TAKE_MESSAGE | typeof TAKE_VIEW | typeof TAKE_DATA;

/** Wakes a member that sleeps on a ring (lib/mailbox/doorbell.ts, PeerBells). */
export interface Waker {
  wake(id: number, kind: number): void;
}

export class Inbox {
  readonly #segment: GroupSegment;
  readonly #id: number;
  readonly #members: number;
  readonly #in: (RingConsumer | undefined)[] = [];
  readonly #copier: SegmentCopier;
  readonly #bells: Waker;
  #next: number; // round-robin start of receive-from-any
  #unreported: Error | undefined; // a corrupt ring found by a batch that had already taken messages
  readonly #owed = new Set<number>(); // senders whose wake-up for room is put off (see #owe)
  #owedFlush: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(segment: GroupSegment, id: number, bells: Waker) {
    this.#segment = segment;
    this.#id = id;
    this.#members = segment.members;
    this.#copier = new SegmentCopier(segment.arrayBuffer);
    this.#bells = bells;
    for (let p = 0; p < this.#members; p++) {
      if (p === id) continue;
      this.#in[p] = new RingConsumer(segment.u32, segment.ringOffset(p, id), segment.capacity);
      this.#in[p]!.setSleep(AWAKE); // a predecessor in this slot may have died asleep: its flag is ours to clear
    }
    this.#next = (id + 1) % this.#members;
  }

  /** Checks a `from` argument: undefined (any member) or another member's id. */
  fromArg(from: unknown): number | undefined {
    if (from === undefined) return undefined;
    if (typeof from === 'number' && from !== this.#id && this.#in[from] !== undefined) return from;
    validateInteger(from, 'from', 0, this.#members - 1);
    if (from === this.#id) throw new ArgValueError(`The argument 'from' must not be this member's own id. Received ${from}`);
    return from;
  }

  /**
   * The next message from `from` (or from any member, fairly) as `take` says; undefined when none is
   * waiting. ERR_SHM_TRUNCATED when the segment was truncated, before or while reading (a message
   * read then may hold zeros of the lost pages).
   */
  take(from: number | undefined, take: Take): Message | MessageView | Buffer | undefined {
    this.#segment.assertIntact();
    let m: Message | MessageView | Buffer | undefined;
    try {
      m = this.#takeOne(from, take);
    } catch (err) {
      this.#segment.assertIntact(); // zeros of lost pages look like a corrupt ring: say what happened
      throw err;
    }
    if (m !== undefined) this.#segment.assertIntact();
    return m;
  }

  #takeOne(from: number | undefined, take: Take): Message | MessageView | Buffer | undefined {
    if (from !== undefined) {
      const ring = this.#in[from]!;
      if (ring.pending) throw new InterprocError('ERR_INVALID_STATE', `a MessageView from member ${from} is not released`);
      return this.#peek(from, ring) ? this.#take(from, ring, take) : undefined;
    }
    this.#throwUnreported();
    const n = this.#members;
    for (let k = 0, p = this.#next; k < n; k++, p = p + 1 === n ? 0 : p + 1) {
      const ring = this.#in[p];
      if (ring === undefined || ring.pending || ring.broken !== undefined) continue;
      if (!this.#peek(p, ring)) continue;
      this.#next = p + 1 === n ? 0 : p + 1;
      return this.#take(p, ring, take);
    }
    return undefined;
  }

  /** Up to `max` messages from `from`, or from each member in turn; undefined when none is waiting. */
  takeMany(from: number | undefined, max: number, dataOnly: boolean): (Message | Buffer)[] | undefined {
    this.#segment.assertIntact();
    let m: (Message | Buffer)[] | undefined;
    try {
      m = this.#takeSome(from, max, dataOnly);
    } catch (err) {
      this.#segment.assertIntact();
      throw err;
    }
    if (m !== undefined) this.#segment.assertIntact();
    return m;
  }

  #takeSome(from: number | undefined, max: number, dataOnly: boolean): (Message | Buffer)[] | undefined {
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

  /** Announces (or withdraws, AWAKE) a sleep until a message comes from `from` (or from anyone). */
  arm(from: number | undefined, kind: number): void {
    if (from !== undefined) {
      this.#in[from]!.setSleep(kind);
      return;
    }
    for (const ring of this.#in) ring?.setSleep(kind);
  }

  disarm(): void {
    for (const ring of this.#in) ring?.setSleep(AWAKE);
  }

  /** Why waiting for `from` is pointless, if it is: it died or left, and nothing of it is left to read. */
  gone(from: number): Error | undefined {
    if (this.#in[from]!.ready()) return undefined;
    return this.#segment.gone(from);
  }

  /** Wakes every sender whose wake-up was put off; called at the end of the turn and before this member sleeps. */
  payOwed(): void {
    if (this.#owedFlush !== undefined) {
      clearImmediate(this.#owedFlush);
      this.#owedFlush = undefined;
    }
    if (this.#owed.size === 0) return;
    for (const p of this.#owed) {
      const k = this.#in[p]!.wakeOwed();
      if (k !== AWAKE) this.#bells.wake(p, k);
    }
    this.#owed.clear();
  }

  /** Views can no longer be released (the segment goes); sleep flags are cleared. */
  close(): void {
    this.payOwed();
    this.#closed = true;
    this.disarm();
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
    if (codeOf(err) === 'ERR_MAILBOX_CORRUPT') ring.broken = Object.assign(err as Error, { member: from });
    return err;
  }

  #take(from: number, ring: RingConsumer, take: Take): Message | MessageView | Buffer {
    const { at, length } = ring;
    if (take === TAKE_VIEW) {
      const data = makeView(this.#segment.arrayBuffer, at, length);
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
      data = length <= POOLED_MAX ? this.#copier.copy(at, length) : ownedCopy(this.#segment.arrayBuffer, at, length);
    } catch (err) {
      ring.unpeek(); // out of memory, say: the message stays in the ring for the next receive
      throw err;
    }
    this.#gaveBack(from, ring, ring.release());
    return take === TAKE_DATA ? data : { from, data };
  }

  /** ring.takeMany(), waking a producer that waits for room, and marking a corrupt ring broken (see #peek). */
  #takeMany(from: number, ring: RingConsumer, max: number): Buffer[] {
    if (ring.broken !== undefined) throw ring.broken;
    let bufs: Buffer[];
    try {
      bufs = ring.takeMany(this.#segment.buf, max, this.#copier);
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
    if (sleeping !== AWAKE) this.#bells.wake(from, sleeping);
    else if (ring.owed) this.#owe(from);
  }

  /** A sleeping producer's wake-up was put off (RingConsumer#owed): done at the end of this turn at the latest. */
  #owe(from: number): void {
    this.#owed.add(from);
    // Ref'd on purpose: an unref'd immediate does not stop the loop from blocking in poll, so the
    // wake-up would wait for some unrelated event (or the producer's own 50 ms re-check).
    if (this.#owedFlush === undefined) this.#owedFlush = setImmediate(() => this.payOwed());
  }
}

/** A receive waiting for a message: from one member or any (`from` undefined), one (`max` 0) or a batch. */
export class ReceiveWait extends Waiter {
  readonly #inbox: Inbox;
  readonly #from: number | undefined;
  readonly #take: Take;
  readonly #max: number;

  constructor(inbox: Inbox, from: number | undefined, take: Take, max: number) {
    super();
    this.#inbox = inbox;
    this.#from = from;
    this.#take = take;
    this.#max = max;
  }

  attempt(): unknown {
    return this.#max === 0
      ? this.#inbox.take(this.#from, this.#take)
      : this.#inbox.takeMany(this.#from, this.#max, this.#take === TAKE_DATA);
  }

  arm(kind: number): void {
    this.#inbox.arm(this.#from, kind);
  }

  dead(): Error | undefined {
    return this.#from === undefined ? undefined : this.#inbox.gone(this.#from);
  }

  override get isReceive(): boolean {
    return true;
  }
}
