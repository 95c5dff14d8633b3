// Owned copies of small messages out of a mapped segment, carved from a shared pool the way
// Buffer.allocUnsafe() carves small Buffers from Node's 8 KiB pool (the copies of one pool chunk
// share its ArrayBuffer; each is still the caller's own bytes, never a view of the segment).
//
// Why not Uint8Array#slice: above 64 bytes V8 gives every slice its own off-heap backing store
// (malloc, an ArrayBuffer, external-memory accounting): ~390 ns for 256 B against ~60 ns here.
// Measured in one process on this machine, see docs/design/mailbox.md ("What the hot path avoids").
import { markAsUntransferable } from 'node:worker_threads';
import { makeView, typedArraySet } from '../internal/bytes';

/** Messages up to this size are copied into the pool; larger ones get their own allocation. */
export const POOLED_MAX = 1024;
const POOL_SIZE = 8 * 1024;
/** Up to this size a word loop beats the TypedArray#set call and its temporary source view. */
const WORD_LOOP_MAX = 64;

let pool = newPool(); // uninitialised: every byte handed out is copied over
let pool32 = new Int32Array(pool);
let used = 0;

function newPool(): ArrayBuffer {
  const ab = Buffer.allocUnsafeSlow(POOL_SIZE).buffer as ArrayBuffer;
  // As Node does with its own pool: a user who transfers one message's buffer to a worker or a
  // port gets a copy instead of detaching (and taking along) every other message of the chunk.
  markAsUntransferable(ab);
  return ab;
}

/** Copies out of one mapped segment (the views it needs, made once). */
export class SegmentCopier {
  readonly #segment: ArrayBuffer;
  readonly #bytes: Uint8Array;
  readonly #words: Int32Array;

  constructor(segment: ArrayBuffer) {
    this.#segment = segment;
    this.#bytes = new Uint8Array(segment);
    this.#words = new Int32Array(segment, 0, segment.byteLength >> 2);
  }

  /**
   * A copy of `length` bytes at byte offset `at` (`length` <= POOLED_MAX). Ring payloads start on
   * 8-byte boundaries, so small ones are copied a word at a time.
   */
  copy(at: number, length: number): Buffer {
    if (used + length > POOL_SIZE || pool.byteLength === 0) {
      // full, or detached after all
      pool = newPool();
      pool32 = new Int32Array(pool);
      used = 0;
    }
    const out = makeView(pool, used, length);
    if (length <= WORD_LOOP_MAX && (at & 3) === 0) {
      // aligned unless a member wrote garbage indices
      const words = length >> 2;
      const dst = used >> 2;
      const src = at >> 2;
      const from = this.#words;
      for (let i = 0; i < words; i++) pool32[dst + i] = from[src + i];
      for (let i = words << 2; i < length; i++) out[i] = this.#bytes[at + i];
    } else {
      typedArraySet.call(out, new Uint8Array(this.#segment, at, length));
    }
    used = (used + length + 7) & ~7; // the next copy starts 8-byte aligned, like the ring's records
    return out;
  }
}
