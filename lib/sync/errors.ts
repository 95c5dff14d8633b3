// Errors of the synchronisation primitives (Mutex, Semaphore, Condition, Barrier, RwLock).
import { InterprocError } from '../internal/errors';
import type { MutexGuard } from './mutex';
import type { RwLockGuard } from './rwlock';

export { TimeoutError } from '../internal/errors';

/**
 * The guard type of an OwnerDeadError<G>. `err instanceof OwnerDeadError` narrows to
 * OwnerDeadError<any>: its guard is then still a MutexGuard | RwLockGuard, not `any`.
 */
export type GuardOf<G> = 0 extends 1 & G ? MutexGuard | RwLockGuard : G;

/**
 * The previous holder died holding the lock (SIGKILL included), or closed its memory while holding
 * it. When `guard` is set, the lock is now held by the caller: repair the protected data, call
 * `guard.markConsistent()`, then unlock. Unlocking without markConsistent() makes the lock
 * permanently unusable (ENOTRECOVERABLE). An RwLock reader gets this error with no guard: it holds
 * nothing, and must wait for a writer to repair the data.
 */
export class OwnerDeadError<G = MutexGuard | RwLockGuard> extends InterprocError {
  readonly guard: GuardOf<G> | undefined;
  constructor(what: string, guard: G | undefined) {
    super(
      'EOWNERDEAD',
      guard !== undefined
        ? `the previous owner of the ${what} died holding it: the lock is now yours; repair the data and call markConsistent()`
        : `the writer of the ${what} died holding it: nothing was locked; a writer must repair the data and call markConsistent()`,
    );
    this.name = 'OwnerDeadError';
    this.guard = guard as GuardOf<G> | undefined;
  }
}

/**
 * wait() or waitSync() on a Barrier object that already has a wait pending (one party per thread):
 * a RangeError with code ERR_BARRIER_WAIT_PENDING.
 */
export class BarrierWaitPendingError extends RangeError {
  readonly code = 'ERR_BARRIER_WAIT_PENDING';
  constructor(what: string) {
    super(`${what}: this Barrier object already has a wait pending (one party per thread)`);
  }
}

/** A Barrier was broken: a party died, left, timed out or was aborted. Call `reset()` to reuse it. */
export class BrokenBarrierError extends InterprocError {
  constructor() {
    super('ERR_BARRIER_BROKEN', 'the Barrier is broken (a party died, left, timed out or was aborted)');
    this.name = 'BrokenBarrierError';
  }
}
