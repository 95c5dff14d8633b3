// The ownership rule: which member owns each block of the address space. Every member (and every
// client) computes it the same way from the same four numbers, so nobody ever asks who owns what.
//   cyclic (default): block b belongs to member b mod members   (spreads neighbouring blocks)
//   range:            block b belongs to member floor(b / ceil(blocks / members))   (contiguous runs)
import { ArgValueError, OutOfRangeError, validateInteger } from '../internal/validate';

export type Ownership = 'cyclic' | 'range';

/** The blocks one member owns: `first`, `first + stride`, ... (`count` of them). */
export interface BlockSet {
  first: number;
  stride: number;
  count: number;
}

/** Largest address space: addresses travel as 48-bit integers (docs/protocol/store-requests.md). */
export const MAX_STORE_SIZE = 2 ** 48;

export class Layout {
  readonly size: number;
  readonly blockSize: number;
  readonly members: number;
  readonly ownership: Ownership;
  readonly blocks: number;
  /** Blocks per member under the range rule. */
  readonly #run: number;

  constructor(size: number, blockSize: number, members: number, ownership: Ownership) {
    validateInteger(members, 'members', 1, 65535);
    validateInteger(blockSize, 'blockSize', 8, 1 << 20);
    if ((blockSize & (blockSize - 1)) !== 0)
      throw new OutOfRangeError(`The value of "blockSize" is out of range. It must be a power of two. Received ${blockSize}`);
    validateInteger(size, 'size', blockSize, MAX_STORE_SIZE);
    if (size % blockSize !== 0)
      throw new OutOfRangeError(
        `The value of "size" is out of range. It must be a multiple of blockSize (${blockSize}). Received ${size}`,
      );
    if (ownership !== 'cyclic' && ownership !== 'range')
      throw new ArgValueError(`The property 'ownership' must be 'cyclic' or 'range'. Received ${String(ownership)}`);
    this.size = size;
    this.blockSize = blockSize;
    this.members = members;
    this.ownership = ownership;
    this.blocks = size / blockSize;
    this.#run = Math.ceil(this.blocks / members);
  }

  blockOf(address: number): number {
    return Math.floor(address / this.blockSize);
  }

  ownerOfBlock(block: number): number {
    return this.ownership === 'cyclic' ? block % this.members : Math.floor(block / this.#run);
  }

  ownerOf(address: number): number {
    return this.ownerOfBlock(this.blockOf(address));
  }

  blocksOf(member: number): BlockSet {
    if (this.ownership === 'cyclic') {
      const count = member < this.blocks ? Math.floor((this.blocks - 1 - member) / this.members) + 1 : 0;
      return { first: member, stride: this.members, count };
    }
    const first = member * this.#run;
    return { first, stride: 1, count: Math.max(0, Math.min(this.blocks, first + this.#run) - first) };
  }

  /** Bytes of the memory a member keeps for its own blocks. */
  ownedBytes(member: number): number {
    return this.blocksOf(member).count * this.blockSize;
  }

  /** Where `address` (owned by `member`) lives in that member's own memory. */
  localOffset(address: number): number {
    const block = this.blockOf(address);
    const index = this.ownership === 'cyclic' ? Math.floor(block / this.members) : block % this.#run;
    return index * this.blockSize + (address % this.blockSize);
  }

  /** Same numbers, same rule. */
  equals(other: Layout): boolean {
    return (
      this.size === other.size &&
      this.blockSize === other.blockSize &&
      this.members === other.members &&
      this.ownership === other.ownership
    );
  }

  toString(): string {
    return `${this.members} members, ${this.size} bytes in blocks of ${this.blockSize}, ${this.ownership}`;
  }
}
