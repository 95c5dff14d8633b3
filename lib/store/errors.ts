// The store's errors: an owner that is gone, an owner that said no, an owner that keeps no more waits.
import { InterprocError } from '../internal/errors';
import type { BlockSet } from './ownership';
import { STATUS_BAD_REQUEST, STATUS_CLOSING, STATUS_NOT_OWNER, STATUS_OUT_OF_RANGE, STATUS_TOO_MANY_WAITERS } from './protocol';

/** ERR_STORE_OWNER_DEAD: the owner of the blocks died, left, or became unreachable. */
export class OwnerDeadError extends InterprocError {
  /** The member that owned them. */
  readonly member: number;
  /** Its blocks: first, first + stride, ... (count of them). */
  readonly blocks: BlockSet;
  constructor(member: number, blocks: BlockSet, options?: { cause?: unknown }) {
    const which =
      blocks.stride === 1 ? `${blocks.first}..${blocks.first + blocks.count - 1}` : `${blocks.first} + ${blocks.stride}k`;
    super('ERR_STORE_OWNER_DEAD', `store member ${member} (owner of ${blocks.count} blocks: ${which}) is gone`, options);
    this.member = member;
    this.blocks = blocks;
  }
}

const STATUS_TEXT: Record<number, string> = {
  [STATUS_BAD_REQUEST]: 'the request is malformed',
  [STATUS_OUT_OF_RANGE]: 'the address is out of range, crosses a block, or is not aligned',
  [STATUS_NOT_OWNER]: 'the member does not own that block (do both sides have the same layout?)',
  [STATUS_CLOSING]: 'the owner is closing',
  [STATUS_TOO_MANY_WAITERS]: 'the owner keeps no more waits of this member',
};

/** ERR_STORE_REJECTED: the owner answered with an error status. */
export class RejectedError extends InterprocError {
  readonly status: number;
  readonly member: number;
  constructor(member: number, status: number) {
    super('ERR_STORE_REJECTED', `store member ${member} rejected the request: ${STATUS_TEXT[status] ?? `status ${status}`}`);
    this.status = status;
    this.member = member;
  }
}

/**
 * ERR_STORE_TOO_MANY_WAITERS: the owner already keeps its `maxWaiters` waitAsync waits of this
 * member (or connection) and refused one more. Nothing was kept.
 */
export class TooManyWaitersError extends InterprocError {
  /** The owner that refused. */
  readonly member: number;
  constructor(member: number) {
    super(
      'ERR_STORE_TOO_MANY_WAITERS',
      `store member ${member} keeps no more waitAsync waits of this member (its maxWaiters): notify or let some end, or raise it`,
    );
    this.member = member;
  }
}
