// The two ends of a single-producer/single-consumer ring in a mailbox segment, run in JS over the
// mapped buffer: Atomics.load/store on the mapping are real atomic instructions across processes,
// so a message costs no native call at all. Offsets come from native/core/ring.hpp (via the binding),
// the one definition of the layout. See docs/design.md, "Mailboxes".
import { native } from './binding';
import { InterprocError } from './errors';

export interface RingLayout {
  magic: number;
  version: number;
  recordHeader: number;
  padMarker: number;
  minCapacity: number;
  maxCapacity: number;
  maxMembers: number;
  groupHeaderSize: number;
  memberSlotSize: number;
  ringHeaderSize: number;
  slotGen: number;
  slotPid: number;
  slotStartLo: number;
  slotStartHi: number;
  slotEventfd: number;
  slotBell: number;
  ringTail: number;
  ringHead: number;
  ringConsumerSleep: number;
  ringProducerSleep: number;
  ringCapacity: number;
}

export const layout: RingLayout = native.mailboxLayout();
const HEADER = layout.recordHeader;
const PAD = layout.padMarker;

/** The largest payload a ring of `capacity` bytes accepts: it then fits wherever the index stands. */
export function maxMessage(capacity: number): number {
  return capacity / 2 - HEADER;
}

function corrupt(what: string): InterprocError {
  return new InterprocError('ERR_MAILBOX_CORRUPT', `mailbox ring is corrupt: ${what}`);
}

export class RingProducer {
  readonly #u32: Uint32Array;
  readonly #buf: Buffer;
  readonly #tailIdx: number;
  readonly #headIdx: number;
  readonly #sleepIdx: number;
  readonly #ownSleepIdx: number;
  readonly #data: number;
  readonly #cap: number;
  readonly max: number;
  #tail: number;
  #published: number; // the tail last stored to the segment
  #head: number; // cached consumer index: the consumer's line is read only when this says "full"

  constructor(u32: Uint32Array, buf: Buffer, offset: number) {
    this.#u32 = u32;
    this.#buf = buf;
    this.#tailIdx = (offset + layout.ringTail) >> 2;
    this.#headIdx = (offset + layout.ringHead) >> 2;
    this.#sleepIdx = (offset + layout.ringConsumerSleep) >> 2;
    this.#ownSleepIdx = (offset + layout.ringProducerSleep) >> 2;
    this.#cap = u32[(offset + layout.ringCapacity) >> 2];
    this.#data = offset + layout.ringHeaderSize;
    this.max = maxMessage(this.#cap);
    // A (re)joining producer continues where the slot's previous holder published: an unpublished
    // half-written record of a dead predecessor is simply overwritten.
    this.#tail = Atomics.load(u32, this.#tailIdx);
    this.#published = this.#tail;
    this.#head = Atomics.load(u32, this.#headIdx);
  }

  /**
   * Copies one message in and (unless `publish` is false: corked, and less than a quarter of the
   * ring is pending) publishes it. Returns false when there is no room now; otherwise what
   * publish() returns (0 when it did not publish).
   */
  tryWrite(data: Uint8Array | string, len: number, publish = true): number | false {
    const cap = this.#cap;
    const rec = HEADER + ((len + 7) & ~7);
    const pos = this.#tail & (cap - 1);
    const toEnd = cap - pos;
    const need = rec <= toEnd ? rec : toEnd + rec;
    if (cap - ((this.#tail - this.#head) >>> 0) < need) {
      this.#head = Atomics.load(this.#u32, this.#headIdx);
      if (cap - ((this.#tail - this.#head) >>> 0) < need) return false;
    }
    let at = this.#data + pos;
    let tail = this.#tail;
    if (rec > toEnd) {
      this.#u32[at >> 2] = PAD;
      tail = (tail + toEnd) >>> 0;
      at = this.#data;
    }
    if (typeof data === 'string') this.#buf.write(data, at + HEADER, len, 'utf8');
    else this.#buf.set(data, at + HEADER);
    this.#u32[at >> 2] = len;
    this.#tail = (tail + rec) >>> 0;
    // Corked: still publish once a quarter of the ring is pending, so large messages stay pipelined.
    return publish || ((this.#tail - this.#published) >>> 0) >= cap >>> 2 ? this.publish() : 0;
  }

  /** True when records were written but not yet published (corked). */
  get unpublished(): boolean {
    return this.#tail !== this.#published;
  }

  /**
   * Makes every record written so far visible. Returns the consumer's sleep flag, cleared (0 when
   * nobody sleeps: then no wake-up is due).
   */
  publish(): number {
    this.#published = this.#tail;
    // Publishing the index is the only store that makes a record visible: a producer killed
    // anywhere before it leaves nothing for the consumer to see (no torn message).
    Atomics.store(this.#u32, this.#tailIdx, this.#tail);
    // Sequentially consistent store then load: either we see the consumer's "about to sleep" flag,
    // or the consumer's re-check after raising it sees our record (docs/design.md, wake-up protocol).
    if (Atomics.load(this.#u32, this.#sleepIdx) === 0) return 0;
    return Atomics.exchange(this.#u32, this.#sleepIdx, 0);
  }

  /** Announces that the producer is about to sleep until space frees (kind 1 futex, 2 eventfd), or clears it (0). */
  setSleep(kind: number): void {
    Atomics.store(this.#u32, this.#ownSleepIdx, kind);
  }
}

export class RingConsumer {
  readonly #u32: Uint32Array;
  readonly #tailIdx: number;
  readonly #headIdx: number;
  readonly #sleepIdx: number;
  readonly #producerSleepIdx: number;
  readonly #data: number;
  readonly #cap: number;
  readonly #max: number;
  #head: number;
  #tail: number; // cached producer index
  #pending = 0; // bytes of the record handed out by peek() and not yet released
  /** Set by the owner when this ring's framing turned out impossible; it is then never read again. */
  broken: Error | undefined;
  /** After peek(): where the payload starts in the segment, and its length. */
  at = 0;
  length = 0;

  constructor(u32: Uint32Array, offset: number) {
    this.#u32 = u32;
    this.#tailIdx = (offset + layout.ringTail) >> 2;
    this.#headIdx = (offset + layout.ringHead) >> 2;
    this.#sleepIdx = (offset + layout.ringConsumerSleep) >> 2;
    this.#producerSleepIdx = (offset + layout.ringProducerSleep) >> 2;
    this.#cap = u32[(offset + layout.ringCapacity) >> 2];
    this.#max = maxMessage(this.#cap);
    this.#data = offset + layout.ringHeaderSize;
    this.#head = Atomics.load(u32, this.#headIdx);
    this.#tail = Atomics.load(u32, this.#tailIdx);
  }

  get pending(): boolean {
    return this.#pending !== 0;
  }

  /** True when a complete message is waiting (reads the producer's index). */
  ready(): boolean {
    if (this.#head !== this.#tail) return true;
    this.#tail = Atomics.load(this.#u32, this.#tailIdx);
    return this.#head !== this.#tail;
  }

  /** Finds the next complete message (sets at/length) or returns false when empty. */
  peek(): boolean {
    if (this.#head === this.#tail) {
      this.#tail = Atomics.load(this.#u32, this.#tailIdx);
      if (this.#head === this.#tail) return false;
    }
    const cap = this.#cap;
    let pos = this.#head & (cap - 1);
    let len = this.#u32[(this.#data + pos) >> 2];
    let skip = 0;
    if (len === PAD) {
      skip = cap - pos;
      pos = 0;
      len = this.#u32[this.#data >> 2];
    }
    const rec = skip + HEADER + ((len + 7) & ~7);
    if (len > this.#max || rec > ((this.#tail - this.#head) >>> 0)) {
      throw corrupt(`record of ${len} bytes at index ${this.#head} beyond the published ${(this.#tail - this.#head) >>> 0}`);
    }
    this.#pending = rec;
    this.at = this.#data + pos + HEADER;
    this.length = len;
    return true;
  }

  /** Gives the record back to the producer. Returns the producer's sleep flag, cleared (0: no wake due). */
  release(): number {
    this.#head = (this.#head + this.#pending) >>> 0;
    this.#pending = 0;
    Atomics.store(this.#u32, this.#headIdx, this.#head);
    if (Atomics.load(this.#u32, this.#producerSleepIdx) === 0) return 0;
    return Atomics.exchange(this.#u32, this.#producerSleepIdx, 0);
  }

  /** Announces that the consumer is about to sleep until a message comes (kind 1 futex, 2 eventfd), or clears it (0). */
  setSleep(kind: number): void {
    Atomics.store(this.#u32, this.#sleepIdx, kind);
  }
}
