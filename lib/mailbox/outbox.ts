// The sending side of a mailbox member: its rings to every other member. A send writes only into
// this member's own ring towards the receiver and publishes it (one index store), waking the
// receiver when it announced a sleep; while corked, records are written but published together.
import { byteLengthOf } from '../internal/bytes';
import { ArgValueError, invalidType, OutOfRangeError, validateInteger } from '../internal/validate';
import type { Waker } from './inbox';
import { AWAKE, RingProducer } from './ring';
import type { GroupSegment } from './segment';
import { Waiter } from './waiters';

export type MessageData = Uint8Array | ArrayBufferView | ArrayBuffer | string;

/** The bytes of a message as the ring copies them: a Uint8Array over them, or the string itself. */
export function bytesOf(data: unknown): Uint8Array | string {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw invalidType('data', 'of type string or an instance of Buffer, TypedArray, DataView or ArrayBuffer', data);
}

export class Outbox {
  readonly #id: number;
  readonly #members: number;
  readonly #out: (RingProducer | undefined)[] = [];
  readonly #bells: Waker;
  /** Per receiver, the sends waiting for room in its ring, oldest first (per-sender order: see SendWait). */
  readonly #queues: (SendWait[] | undefined)[] = [];
  #corked = 0;

  readonly #segment: GroupSegment;

  constructor(segment: GroupSegment, id: number, bells: Waker) {
    this.#segment = segment;
    this.#id = id;
    this.#members = segment.members;
    this.#bells = bells;
    for (let p = 0; p < this.#members; p++) {
      if (p === id) continue;
      this.#out[p] = new RingProducer(segment.u32, segment.buf, segment.ringOffset(id, p), segment.capacity);
      this.#out[p]!.setSleep(AWAKE); // a predecessor in this slot may have died asleep: its flag is ours to clear
    }
  }

  /** The ring to `to`, after checking the argument: another member's id. */
  ring(to: unknown): RingProducer {
    // Fast path for a valid id; anything else goes through the full check for its error message.
    if (typeof to === 'number' && to !== this.#id) {
      const ring = this.#out[to];
      if (ring !== undefined) return ring;
    }
    validateInteger(to, 'to', 0, this.#members - 1);
    if (to === this.#id) throw new ArgValueError(`The argument 'to' must not be this member's own id. Received ${to}`);
    return this.#out[to]!;
  }

  /** The payload's length in bytes, checked against what the ring accepts. */
  length(bytes: Uint8Array | string, ring: RingProducer): number {
    const len = typeof bytes === 'string' ? Buffer.byteLength(bytes) : byteLengthOf(bytes);
    if (len > ring.max) {
      throw new OutOfRangeError(`The message is too large for this mailbox group: ${len} bytes, at most ${ring.max}`);
    }
    return len;
  }

  /** True while sends to `to` wait for room: a later send must queue behind them, never overtake. */
  waiting(to: number): boolean {
    const q = this.#queues[to];
    return q !== undefined && q.length > 0;
  }

  /** The queue of waiting sends to `to` (made on first use). */
  queue(to: number): SendWait[] {
    return (this.#queues[to] ??= []);
  }

  /** Writes one message into the ring to `to` (published unless corked); false when it has no room now. */
  write(to: number, ring: RingProducer, bytes: Uint8Array | string, len: number): boolean {
    // ERR_SHM_TRUNCATED when the segment was truncated, before or while writing (the bytes are lost).
    this.#segment.assertIntact();
    let written: boolean;
    try {
      written = this.#write(to, ring, bytes, len);
    } catch (err) {
      this.#segment.assertIntact();
      throw err;
    }
    this.#segment.assertIntact();
    return written;
  }

  #write(to: number, ring: RingProducer, bytes: Uint8Array | string, len: number): boolean {
    const corked = this.#corked > 0;
    let sleeping: number | false;
    try {
      sleeping = ring.tryWrite(bytes, len, !corked);
    } catch (err) {
      // ERR_MAILBOX_CORRUPT: the receiver's head cannot be; only sends to that member fail.
      throw Object.assign(err as Error, { member: to });
    }
    if (sleeping === false) {
      // Full while corked: what is written must become visible, or the receiver could never make room.
      if (corked && ring.unpublished) this.#publish(to);
      return false;
    }
    if (sleeping !== AWAKE) this.#bells.wake(to, sleeping);
    return true;
  }

  cork(): void {
    this.#corked++;
  }

  /** Undoes one cork(); the last one publishes what was written meanwhile. */
  uncork(): void {
    if (this.#corked === 0 || --this.#corked > 0) return;
    this.publishAll();
  }

  /** Publishes every ring with records written while corked (a few members: a scan is cheaper than a set per send). */
  publishAll(): void {
    const out = this.#out;
    for (let p = 0; p < out.length; p++) if (out[p]?.unpublished) this.#publish(p);
  }

  disarm(): void {
    for (const ring of this.#out) ring?.setSleep(AWAKE);
  }

  #publish(to: number): void {
    const sleeping = this.#out[to]!.publish();
    if (sleeping !== AWAKE) this.#bells.wake(to, sleeping);
  }
}

/** What a waiting send needs to know about its receiver: whether it died or left. */
export interface Peers {
  gone(id: number): Error | undefined;
}

/**
 * A send waiting for room in the ring to `to`. It joins that ring's queue when made and writes only
 * at its head: a later, smaller message that would fit now must not overtake it (per-sender order).
 */
export class SendWait extends Waiter {
  readonly #outbox: Outbox;
  readonly #peers: Peers;
  readonly #to: number;
  readonly #ring: RingProducer;
  readonly #bytes: Uint8Array | string;
  readonly #len: number;
  readonly #queue: SendWait[];

  constructor(outbox: Outbox, peers: Peers, to: number, ring: RingProducer, bytes: Uint8Array | string, len: number) {
    super();
    this.#outbox = outbox;
    this.#peers = peers;
    this.#to = to;
    this.#ring = ring;
    this.#bytes = bytes;
    this.#len = len;
    this.#queue = outbox.queue(to);
    this.#queue.push(this);
  }

  attempt(): true | undefined {
    if (this.#queue[0] !== this) return undefined;
    if (!this.#outbox.write(this.#to, this.#ring, this.#bytes, this.#len)) return undefined;
    this.#queue.shift();
    return true;
  }

  override ended(): boolean {
    const at = this.#queue.indexOf(this);
    if (at < 0) return false;
    this.#queue.splice(at, 1);
    return at === 0 && this.#queue.length > 0;
  }

  arm(kind: number): void {
    this.#ring.setSleep(kind);
  }

  dead(): Error | undefined {
    return this.#peers.gone(this.#to);
  }

  get peer(): number {
    return this.#to;
  }
}
