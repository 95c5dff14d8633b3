// The options of Store.create, join and open, and their checks: names a typo would miss are
// refused (validateOptionNames), values out of range throw, defaults are filled in here.
import type { SocketAddress } from '../channel/types';
import { invalidType, validateInteger, validateObject, validateOptionNames, validateTimeout } from '../internal/validate';
import { defaultMaxBlocks } from './cache';
import { Layout, type Ownership } from './ownership';
import { DEFAULT_MAX_WAITERS } from './owner';

export interface StoreLayoutOptions {
  /** Bytes of the address space: a multiple of blockSize, at most 2^48. */
  size: number;
  /** Bytes per block, a power of two from 8 to 1 MiB (default 4096). The unit of ownership and of atomicity. */
  blockSize?: number;
  /** 'cyclic' (default: block b belongs to member b mod members) or 'range' (contiguous runs). */
  ownership?: Ownership;
}

export interface StoreCommonOptions {
  /** Milliseconds before a request with no reply rejects with ETIMEDOUT (default 30 000; Infinity: never). */
  timeout?: number;
  /**
   * waitAsync waits this member keeps at most for each other member (or connection); one more is
   * refused with ERR_STORE_TOO_MANY_WAITERS (default 10 000). A peer cannot make it hold waiters,
   * and their timers, without bound.
   */
  maxWaiters?: number;
  /**
   * The read cache (default off): this member keeps copies of the blocks of other members it reads
   * (`read`, `load`), and answers later reads of them with no message until their owner invalidates
   * them, which it does before any change to the block completes. `true`, or `{ maxBlocks }`: the
   * copies kept at most (default 1024 blocks or 16 MiB, whichever is fewer), least recently used out first.
   */
  cache?: boolean | { maxBlocks?: number };
}

export const COMMON_OPTIONS = ['timeout', 'maxWaiters', 'cache'];
export const LAYOUT_OPTIONS = ['members', 'size', 'blockSize', 'ownership', 'id'];

export interface StoreCreateOptions extends StoreLayoutOptions, StoreCommonOptions {
  /** Members (processes) that own blocks, 2..64 on one host. */
  members: number;
  /** This member's id (default 0). */
  id?: number;
  /** Bytes per mailbox ring (default 262144); the largest batch is half of it. */
  ringSize?: number;
  /** Microseconds the receive loop polls before sleeping (default 0: the 'async' mode). */
  spin?: number;
  mode?: number;
}

export interface StoreJoinOptions extends StoreCommonOptions {
  /** The member id to take (default: the first free slot, or one whose process died). */
  id?: number;
  spin?: number;
}

export interface StoreOpenOptions extends StoreLayoutOptions, StoreCommonOptions {
  /** Members that own blocks. */
  members: number;
  /** This member's id, or -1 (default) for a client that owns nothing and only connects. */
  id?: number;
  /** Where this member serves its blocks (required for a member that others connect to). */
  listen?: SocketAddress;
  /** Where each member listens, by id (this member's own entry and missing ones are skipped). */
  peers?: readonly (SocketAddress | null | undefined)[];
}

const DEFAULT_TIMEOUT = 30_000;

export function layoutOf(options: StoreLayoutOptions, members: unknown): Layout {
  if (typeof members !== 'number') throw invalidType('options.members', 'of type number', members);
  return new Layout(options.size, options.blockSize ?? 4096, members, options.ownership ?? 'cyclic');
}

/** The copies the read cache keeps at most, or undefined when it is off. */
function cacheOf(value: unknown, layout: Layout): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return defaultMaxBlocks(layout.blockSize);
  validateObject(value, 'options.cache');
  validateOptionNames(value, 'options.cache', ['maxBlocks']);
  const { maxBlocks } = value as { maxBlocks?: unknown };
  if (maxBlocks === undefined) return defaultMaxBlocks(layout.blockSize);
  validateInteger(maxBlocks, 'options.cache.maxBlocks', 1, 2 ** 31 - 1);
  return maxBlocks as number;
}

function maxWaitersOf(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_WAITERS;
  validateInteger(value, 'options.maxWaiters', 1, 2 ** 31 - 1);
  return value as number;
}

function timeoutOf(value: unknown): number | undefined {
  if (value === undefined) return DEFAULT_TIMEOUT;
  return validateTimeout(value, 'options.timeout');
}

/** The options object itself: an object, with no name outside `names`. */
export function checkNames(options: unknown, names: readonly string[]): void {
  validateObject(options, 'options');
  validateOptionNames(options, 'options', names);
}

/** timeout, maxWaiters and the cache's size, checked and with their defaults. */
export function commonOf(
  options: StoreCommonOptions,
  layout: Layout,
): { timeout: number | undefined; maxWaiters: number; cacheBlocks: number | undefined } {
  return {
    timeout: timeoutOf(options.timeout),
    maxWaiters: maxWaitersOf(options.maxWaiters),
    cacheBlocks: cacheOf(options.cache, layout),
  };
}
