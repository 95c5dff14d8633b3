// The two ends of a single-producer/single-consumer ring in a mailbox segment, run in JS over the
// mapped buffer: Atomics.load/store on the mapping are real atomic instructions across processes,
// so a message costs no native call at all. Offsets come from native/core/mailbox/ring.hpp (via the binding),
// the one definition of the layout. Protocol: docs/protocol/mailbox-segment.md; why: docs/design/mailbox.md.
import { native, type RingLayout } from '../internal/binding';
import { bufferOf, byteOffsetOf, makeView, typedArraySet } from '../internal/bytes';
import { MailboxSleep } from '../internal/contract';
import { InterprocError } from '../internal/errors';
import { POOLED_MAX, type SegmentCopier } from './copy-pool';

export type { RingLayout };

export const layout: RingLayout = native.mailboxLayout();

// A ring's sleep flags: whether a side is asleep, and on what (MailboxSleep, native/contract/contract.json).
/** Nobody sleeps. */
export const AWAKE = MailboxSleep.Awake;
/** Asleep on the member's futex bell word (sync waits, and async ones with the 'futex' doorbell). */
export const FUTEX = MailboxSleep.Futex;
/** Asleep in the event loop, on the member's eventfd (lib/mailbox/doorbell.ts). */
export const EVENTFD = MailboxSleep.Eventfd;

const HEADER = layout.recordHeader;
const PAD = layout.padMarker;
/** takeMany copies a run of records with one allocation of at most this many bytes (or one record). */
const BLOCK = 64 * 1024;

// takeMany's scratch: the checked lengths of a batch, and its runs as (start, bytes, records)
const lengths: number[] = [];
const runs: number[] = [];

/** Owned copies this large make glibc keep freed heap for reuse (native/core/internal/allocator.hpp). */
const LARGE_COPY = 16 * 1024;
let heapKept = process.env.INTERPROC_KEEP_FREED_HEAP === '0';

/**
 * An owned copy of `bytes` bytes at `offset` of `ab`, in a Buffer of its own (allocUnsafe: no zero
 * fill, the copy covers it). The first copy of LARGE_COPY bytes or more in the process nudges glibc
 * into keeping freed heap, or large copies would fault in fresh pages after every GC.
 */
export function ownedCopy(ab: ArrayBuffer, offset: number, bytes: number): Buffer {
  if (bytes >= LARGE_COPY && !heapKept) {
    heapKept = true;
    native.keepFreedHeap();
  }
  const out = Buffer.allocUnsafe(bytes);
  typedArraySet.call(out, new Uint8Array(ab, offset, bytes));
  return out;
}

/** Bytes a record of a `len`-byte payload takes in the ring: header, payload, padding to 8. */
function recordSize(len: number): number {
  return HEADER + ((len + 7) & ~7);
}

/** A sleep flag's value, cleared: 0 when nobody sleeps (then its line is only read, never written). */
function takeFlag(u32: Uint32Array, idx: number): number {
  if (Atomics.load(u32, idx) === 0) return 0;
  return Atomics.exchange(u32, idx, 0);
}

/**
 * Stores a sleep flag, only when the value changes: the peer reads this line on every publish or
 * release, so clearing a flag it already cleared costs no cache-line transfer (and a flag already
 * raised has been visible since it was stored, which is all the handshake needs).
 */
function setFlag(u32: Uint32Array, idx: number, kind: number): void {
  if (Atomics.load(u32, idx) !== kind) Atomics.store(u32, idx, kind);
}

/** The largest payload a ring of `capacity` bytes accepts: it then fits wherever the index stands. */
/**
 * What takeMany() gives when nothing is waiting: one frozen array, not a new one per call (a loop
 * that polls an idle ring made thousands a millisecond, and the garbage collector ran for them).
 */
const NONE = Object.freeze([]) as unknown as Buffer[];

export function maxMessage(capacity: number): number {
  return capacity / 2 - HEADER;
}

function corrupt(what: string): InterprocError {
  return new InterprocError('ERR_MAILBOX_CORRUPT', `mailbox ring is corrupt: ${what}`);
}

/**
 * Whether a consumer index `head` and a producer index `tail` read from the segment (which any
 * member can write) can be: both multiples of 8 (every record and padding skip is) and at most
 * `cap` bytes apart, mod 2^32. native/core/mailbox/ring.hpp possibleIndices() is the same rule.
 */
export function possibleIndices(head: number, tail: number, cap: number): boolean {
  return ((head | tail) & 7) === 0 && (tail - head) >>> 0 <= cap;
}

function impossible(head: number, tail: number, cap: number): InterprocError {
  return corrupt(`impossible indices: head ${head}, tail ${tail} (ring of ${cap} bytes)`);
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
  /** Set when the ring's indices turned out impossible: every write then throws it. */
  #broken: InterprocError | undefined;

  /** `capacity` is the group's, checked at open: the ring header's copy may have been rewritten since. */
  constructor(u32: Uint32Array, buf: Buffer, offset: number, capacity: number) {
    this.#u32 = u32;
    this.#buf = buf;
    this.#tailIdx = (offset + layout.ringTail) >> 2;
    this.#headIdx = (offset + layout.ringHead) >> 2;
    this.#sleepIdx = (offset + layout.ringConsumerSleep) >> 2;
    this.#ownSleepIdx = (offset + layout.ringProducerSleep) >> 2;
    this.#cap = capacity;
    this.#data = offset + layout.ringHeaderSize;
    this.max = maxMessage(this.#cap);
    // A (re)joining producer continues where the slot's previous holder published: an unpublished
    // half-written record of a dead predecessor is simply overwritten.
    this.#tail = Atomics.load(u32, this.#tailIdx);
    this.#published = this.#tail;
    this.#head = Atomics.load(u32, this.#headIdx);
    if (!possibleIndices(this.#head, this.#tail, capacity)) this.#broken = impossible(this.#head, this.#tail, capacity);
  }

  /** The ring's corruption, once found (ERR_MAILBOX_CORRUPT): it is then never written again. */
  get broken(): InterprocError | undefined {
    return this.#broken;
  }

  /**
   * Copies one message in and (unless `publish` is false: corked, and less than a quarter of the
   * ring is pending) publishes it. Returns false when there is no room now; otherwise what
   * publish() returns (0 when it did not publish).
   */
  tryWrite(data: Uint8Array | string, len: number, publish = true): number | false {
    if (this.#broken !== undefined) throw this.#broken;
    const cap = this.#cap;
    const rec = recordSize(len);
    const pos = this.#tail & (cap - 1);
    const toEnd = cap - pos;
    const need = rec <= toEnd ? rec : toEnd + rec;
    if (cap - ((this.#tail - this.#head) >>> 0) < need) {
      const head = Atomics.load(this.#u32, this.#headIdx);
      // Untrusted: an aligned head no further than our tail, never moving back (ring.hpp does the same).
      if (!possibleIndices(head, this.#tail, cap) || (head - this.#head) >>> 0 > (this.#tail - this.#head) >>> 0) {
        throw (this.#broken = impossible(head, this.#tail, cap));
      }
      this.#head = head;
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
    else typedArraySet.call(this.#buf, data, at + HEADER);
    this.#u32[at >> 2] = len;
    this.#tail = (tail + rec) >>> 0;
    // Corked: still publish once a quarter of the ring is pending, so large messages stay pipelined.
    return publish || (this.#tail - this.#published) >>> 0 >= cap >>> 2 ? this.publish() : 0;
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
    // or the consumer's re-check after raising it sees our record (docs/design/mailbox.md, wake-up protocol).
    return takeFlag(this.#u32, this.#sleepIdx);
  }

  /** Announces that the producer is about to sleep until space frees (FUTEX or EVENTFD), or clears it (AWAKE). */
  setSleep(kind: number): void {
    setFlag(this.#u32, this.#ownSleepIdx, kind);
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
  /** Impossible indices found at attach (head, tail): the first read throws them. */
  #attachError: InterprocError | undefined;
  /** After peek(): where the payload starts in the segment, and its length. */
  at = 0;
  length = 0;

  /** `capacity` is the group's, checked at open: the ring header's copy may have been rewritten since. */
  constructor(u32: Uint32Array, offset: number, capacity: number) {
    this.#u32 = u32;
    this.#tailIdx = (offset + layout.ringTail) >> 2;
    this.#headIdx = (offset + layout.ringHead) >> 2;
    this.#sleepIdx = (offset + layout.ringConsumerSleep) >> 2;
    this.#producerSleepIdx = (offset + layout.ringProducerSleep) >> 2;
    this.#cap = capacity;
    this.#max = maxMessage(this.#cap);
    this.#data = offset + layout.ringHeaderSize;
    this.#head = Atomics.load(u32, this.#headIdx);
    this.#tail = Atomics.load(u32, this.#tailIdx);
    if (!possibleIndices(this.#head, this.#tail, capacity)) {
      this.#attachError = impossible(this.#head, this.#tail, capacity);
      this.#tail = this.#head; // nothing is read from a ring whose indices cannot be
    }
  }

  /**
   * The producer's index, read again and checked (an aligned tail at most the capacity ahead of
   * head, and not behind what it published before: a zero-filled or rewound header would otherwise
   * read as an endless run of empty records). Throws ERR_MAILBOX_CORRUPT.
   */
  #loadTail(): number {
    if (this.#attachError !== undefined) throw this.#attachError;
    const tail = Atomics.load(this.#u32, this.#tailIdx);
    const head = this.#head;
    if (!possibleIndices(head, tail, this.#cap) || (tail - head) >>> 0 < (this.#tail - head) >>> 0) {
      throw impossible(head, tail, this.#cap);
    }
    return (this.#tail = tail);
  }

  get pending(): boolean {
    return this.#pending !== 0;
  }

  /** True when a message is waiting, or the ring is corrupt (a read then says so): reads the producer's index. */
  ready(): boolean {
    if (this.#head !== this.#tail) return true;
    try {
      return this.#head !== this.#loadTail();
    } catch {
      return true;
    }
  }

  /** Finds the next complete message (sets at/length) or returns false when empty. */
  peek(): boolean {
    if (this.#head === this.#tail && this.#head === this.#loadTail()) return false;
    const cap = this.#cap;
    let pos = this.#head & (cap - 1);
    let len = this.#u32[(this.#data + pos) >> 2];
    let skip = 0;
    if (len === PAD) {
      skip = cap - pos;
      pos = 0;
      len = this.#u32[this.#data >> 2];
    }
    const rec = skip + recordSize(len);
    if (len > this.#max || rec > (this.#tail - this.#head) >>> 0 || pos + rec - skip > cap) {
      throw corrupt(`record of ${len} bytes at index ${this.#head} beyond the published ${(this.#tail - this.#head) >>> 0}`);
    }
    this.#pending = rec;
    this.at = this.#data + pos + HEADER;
    this.length = len;
    return true;
  }

  /**
   * Copies up to `max` complete messages out of the ring and gives them all back to the producer
   * with one index store. Each contiguous run of records is copied with one allocation (at most
   * BLOCK bytes unless one record is larger; a run of at most POOLED_MAX bytes into `copier`'s
   * pool) and every message is a Buffer view of its run, so a batch of small messages costs one
   * copy instead of one allocation each. Stops before a record
   * whose framing is impossible (thrown as ERR_MAILBOX_CORRUPT when it comes first). Returns the
   * messages (an empty, frozen array when none is waiting); `wake` is then the producer's sleep flag,
   * cleared (0: no wake-up due).
   */
  takeMany(segment: Buffer, max: number, copier?: SegmentCopier): Buffer[] {
    const u32 = this.#u32;
    const cap = this.#cap;
    const data = this.#data;
    const tail = this.#loadTail();
    // First the framing: every length is read from shared memory once, checked and kept (a member
    // that rewrites one after the check cannot make a view reach outside the private copy), and the
    // runs are noted as (start, bytes, records) triples. Then the copies and views, into an array
    // made at its final size (growing one by push costs more than the views themselves).
    let head = this.#head;
    let taken = 0;
    let bad = false; // a record whose framing is impossible: reported at once if it is the first
    let nRuns = 0;
    while (taken < max && head !== tail && !bad) {
      let pos = head & (cap - 1);
      if (u32[(data + pos) >> 2] === PAD) {
        const skip = cap - pos;
        if (skip + HEADER > (tail - head) >>> 0) {
          bad = true;
          break;
        }
        head = (head + skip) >>> 0;
        pos = 0;
      }
      // A run: from pos up to the end of the data area, the published tail, max or BLOCK (a larger
      // record is a run of its own).
      let end = pos;
      let h = head;
      const first = taken;
      while (taken < max && h !== tail && end < cap) {
        const len = u32[(data + end) >> 2];
        if (len === PAD) {
          if (end === pos) bad = true; // a padding record right after one (or at 0): impossible
          break;
        }
        const rec = recordSize(len);
        if (len > this.#max || rec > (tail - h) >>> 0 || end + rec > cap) {
          bad = true;
          break;
        }
        if (end !== pos && end + rec - pos > BLOCK) break;
        lengths[taken] = len;
        end += rec;
        h = (h + rec) >>> 0;
        taken++;
      }
      if (end === pos) break;
      runs[nRuns++] = pos;
      runs[nRuns++] = end - pos;
      runs[nRuns++] = taken - first;
      head = h;
    }
    this.wake = 0;
    if (taken === 0) {
      if (bad) throw corrupt(`impossible record at index ${head} (published ${(tail - head) >>> 0} bytes)`);
      return NONE;
    }
    const out: Buffer[] = new Array(taken);
    const src = bufferOf(segment);
    const srcOffset = byteOffsetOf(segment) + data;
    for (let r = 0, k = 0; r < nRuns; r += 3) {
      const pos = runs[r];
      const bytes = runs[r + 1];
      // A small run into the shared copy pool (a word loop, no allocation of its own), as a single
      // take() does; a large one into a Buffer of its own.
      const block =
        copier !== undefined && bytes <= POOLED_MAX
          ? copier.copy(srcOffset + pos, bytes)
          : ownedCopy(src, srcOffset + pos, bytes);
      const ab = bufferOf(block);
      for (let p = byteOffsetOf(block) + HEADER, end = k + runs[r + 2]; k < end; k++) {
        const len = lengths[k];
        out[k] = makeView(ab, p, len);
        p += recordSize(len);
      }
    }
    if (taken > 8192) {
      // a huge batch (max is the caller's): do not keep its scratch for the life of the process
      lengths.length = 0;
      runs.length = 0;
    }
    this.#head = head;
    Atomics.store(u32, this.#headIdx, head);
    this.wake = this.#producerWake();
    return out;
  }

  /** After takeMany(): the producer's sleep flag, cleared (0 when no wake-up is due). */
  wake = 0;

  /** Forgets the record handed out by peek() without consuming it (it is found again next time). */
  unpeek(): void {
    this.#pending = 0;
  }

  /** Gives the record back to the producer. Returns the producer's sleep flag, cleared (0: no wake due). */
  release(): number {
    this.#head = (this.#head + this.#pending) >>> 0;
    this.#pending = 0;
    Atomics.store(this.#u32, this.#headIdx, this.#head);
    return this.#producerWake();
  }

  /**
   * After giving records back: a producer that sleeps for room is woken at once only when half
   * the ring is free, so it refills the ring in bursts instead of paying a wake-up per message.
   * Otherwise `owed` is set and the owner calls wakeOwed() at the end of its turn or before it
   * sleeps itself (the producer also re-checks on its own every 50 ms, so nothing can hang).
   */
  #producerWake(): number {
    if (Atomics.load(this.#u32, this.#producerSleepIdx) === 0) return 0;
    if ((this.#tail - this.#head) >>> 0 > this.#cap >>> 1) {
      this.owed = true;
      return 0;
    }
    return this.wakeOwed();
  }

  /** True when a sleeping producer's wake-up was put off (see #producerWake). */
  owed = false;

  /** The put-off wake-up: the producer's sleep flag, cleared (0: it no longer sleeps). */
  wakeOwed(): number {
    this.owed = false;
    return takeFlag(this.#u32, this.#producerSleepIdx);
  }

  /** Announces that the consumer is about to sleep until a message comes (FUTEX or EVENTFD), or clears it (AWAKE). */
  setSleep(kind: number): void {
    setFlag(this.#u32, this.#sleepIdx, kind);
  }
}
