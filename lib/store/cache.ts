// The read cache of a member (off unless options.cache): copies of other members' blocks, each
// fetched whole from its owner, which records this member as a holder and invalidates the copy
// before any change to the block is done (lib/store/holders.ts). Bounded: at most maxBlocks copies,
// the least recently used evicted first. An eviction sends nothing: the owner's record of this
// member as a holder goes stale, and its next invalidation of that block is answered like any other
// (it costs that write one round trip to this member, and saves a message per eviction).
import type { Layout } from './ownership';

/** Copies kept at most unless the member says otherwise: 1024 blocks or 16 MiB, whichever is fewer. */
export function defaultMaxBlocks(blockSize: number): number {
  return Math.max(1, Math.min(1024, Math.floor((16 << 20) / blockSize)));
}

export interface CacheStats {
  /** Copies kept now. */
  blocks: number;
  /** Reads and loads answered from a copy, with no message. */
  hits: number;
  /** Reads and loads that fetched their block. */
  misses: number;
  /** Copies dropped to stay under maxBlocks. */
  evictions: number;
  /** Copies dropped by an owner's invalidation. */
  invalidated: number;
}

export class BlockCache {
  readonly maxBlocks: number;
  /** block -> its bytes; a Map's insertion order is the LRU order (a hit moves the block to the end). */
  readonly #blocks = new Map<number, Buffer>();
  /** The block used last: a run of hits on one block costs one lookup each, no reinsertion. */
  #last = -1;
  readonly stats: CacheStats = { blocks: 0, hits: 0, misses: 0, evictions: 0, invalidated: 0 };

  constructor(maxBlocks: number) {
    this.maxBlocks = maxBlocks;
  }

  /** The copy of `block`, or undefined. */
  get(block: number): Buffer | undefined {
    const b = this.#blocks.get(block);
    if (b !== undefined && block !== this.#last) {
      this.#blocks.delete(block);
      this.#blocks.set(block, b);
      this.#last = block;
    }
    return b;
  }

  put(block: number, bytes: Buffer): void {
    this.#blocks.delete(block);
    this.#blocks.set(block, bytes);
    this.#last = block;
    if (this.#blocks.size > this.maxBlocks) {
      const oldest = this.#blocks.keys().next().value as number;
      this.#blocks.delete(oldest);
      this.stats.evictions++;
    }
    this.stats.blocks = this.#blocks.size;
  }

  /** Drops the copy of `block` (an owner's invalidation); whether there was one. */
  invalidate(block: number): boolean {
    if (!this.#drop(block)) return false;
    this.stats.invalidated++;
    return true;
  }

  /** Drops every copy of `member`'s blocks (it went away: a member back in its slot starts empty). */
  dropOwner(member: number, layout: Layout): void {
    for (const block of [...this.#blocks.keys()]) if (layout.ownerOfBlock(block) === member) this.#drop(block);
  }

  clear(): void {
    this.#blocks.clear();
    this.#last = -1;
    this.stats.blocks = 0;
  }

  #drop(block: number): boolean {
    if (!this.#blocks.delete(block)) return false;
    if (this.#last === block) this.#last = -1;
    this.stats.blocks = this.#blocks.size;
    return true;
  }
}
