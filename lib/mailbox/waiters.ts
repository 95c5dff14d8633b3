// The wait engine of a mailbox member: the operations that cannot complete yet (a receive with
// nothing to read, a send into a full ring) and how they sleep until they can. Async waits are
// served in arrival order each time something may have changed (a doorbell, a liveness tick, a new
// waiter); sync waits block the thread in slices. Either way a sleep is the handshake of
// docs/design/mailbox.md ("wake-up protocol"): announce it in the rings' sleep flags, re-check, and
// only then sleep. A peer's death ends waits on it at once: async ones through its pidfd's watch
// (WaitHost.watchPeers and peerDied), sync ones by sleeping on that pidfd beside the eventfd
// (WaitHost.pidfd). Every LIVENESS_MS a sleeper also re-checks the slots (a /proc read), which
// catches a member that left, one that joined during the wait, and hosts without pidfds.
import { AbortError, TimeoutError } from '../internal/errors';
import { Deferred, type DeferredOptions } from '../internal/deferred';
import { DoorbellWaitOutcome } from '../internal/contract';
import { ENDED } from './peer-watch';
import { AWAKE, EVENTFD, FUTEX } from './ring';

/**
 * How often a sleeping receiver or sender re-checks the ring and the peers it depends on: 50 ms.
 * INTERPROC_MAILBOX_LIVENESS_MS (read once, a positive integer) changes it: for tests, which make it
 * huge to show that a death is noticed without it.
 */
export const LIVENESS_MS = livenessMs(process.env.INTERPROC_MAILBOX_LIVENESS_MS);

function livenessMs(v: string | undefined): number {
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 && n <= 2 ** 31 - 1 ? n : 50;
}

/** What this member sleeps on (lib/mailbox/doorbell.ts, OwnDoorbell). */
export interface Bell {
  /** The sleep kind async waits announce in the rings' sleep flags. */
  readonly kind: number;
  /** The bell word now: a wake-up after this read changes it, so a sleep on `seen` returns at once. */
  seen(): number;
  /** Blocks the thread until the bell moves from `seen` or `ms` pass; true when the time ran out. */
  waitSync(seen: number, ms: number): boolean;
  /** Whether sync waits may use waitSyncOrEnd now (the bell is an eventfd every member can ring). */
  readonly syncOnEventfd: boolean;
  /**
   * Blocks the thread on the eventfd (a sleep announced as EVENTFD) and on `pidfd` until a wake-up
   * (DoorbellWaitOutcome Rung or NotEqual), the end of the pidfd's process (PeerEnded), or `ms` pass (TimedOut).
   */
  waitSyncOrEnd(seen: number, ms: number, pidfd: number): number;
  /** Returns to the event loop; the bell's onRing runs after a wake-up (or a liveness slice). */
  sleep(seen: number): void;
  /** Nothing waits any more: nothing may keep the process alive. */
  idle(): void;
}

/** What the waits of one member need from the rest of it. */
export interface WaitHost {
  /** Clears every sleep flag this member raised (before the waiters announce theirs again). */
  disarm(): void;
  /** About to sleep: wake-ups this member put off are due now. */
  beforeSleep(): void;
  /**
   * Async waits are about to sleep: make sure every member held now is watched for death (a pidfd
   * each, lib/mailbox/peer-watch.ts), so a death ends the waits on it at once (see peerDied()).
   */
  watchPeers(): void;
  /**
   * A sync wait on member `id` is about to sleep: a pidfd of its current incarnation to sleep on too
   * (lib/mailbox/peer-watch.ts), NO_PIDFD when there is none, ENDED when that incarnation has ended.
   */
  pidfd(id: number): number;
  /** The pidfd pidfd(id) gave became readable during a sync sleep: it is not to be slept on again. */
  pidfdFired(id: number): void;
}

/**
 * One operation that may have to wait: the engine calls attempt() until it gives a result, and
 * arm() around each sleep. The operation (a receive, a send) subclasses it with its arguments as
 * fields, so a wait costs one object and no closures.
 */
export abstract class Waiter {
  /** The result, or undefined when the operation cannot complete yet; may throw (that ends it). */
  abstract attempt(): unknown;
  /** Announces (kind FUTEX or EVENTFD) or withdraws (AWAKE) this operation's sleep in its rings' flags. */
  abstract arm(kind: number): void;
  /** Why waiting is pointless (the peer died, or left), if it is. */
  abstract dead(): Error | undefined;
  /** The member whose death or departure dead() reports, if there is one (a receive from any has none). */
  abstract readonly peer: number | undefined;
  /**
   * The wait ended without a result (timeout, abort, error, close) or was left: the operation
   * forgets its place in any queue. True when that may let later operations proceed now.
   */
  ended(): boolean {
    return false;
  }
  /** A receive (counted: a new receive queues behind pending ones, so messages go out in call order). */
  get isReceive(): boolean {
    return false;
  }
  /** @internal Set by the engine for an async wait. */
  settle: Deferred<unknown> | undefined;
}

/** A wait with neither a timeout nor a signal: the Deferred never cancels, so it needs no what or onCancel. */
const UNBOUNDED: DeferredOptions = { what: 'mailbox wait' };

export class WaitEngine {
  readonly #bell: Bell;
  readonly #host: WaitHost;
  readonly #waiters = new Set<Waiter>();
  readonly #onTick = () => {
    if (this.#waiters.size > 0) {
      this.#host.watchPeers();
      this.#pump(true);
    } else this.#stopLiveness();
  };
  #liveness: NodeJS.Timeout | undefined;
  #closed = false;
  #receives = 0; // async receives among #waiters

  /** True while async receives wait: a new receive or tryReceive must let them go first. */
  get receiving(): boolean {
    return this.#receives > 0;
  }

  /**
   * Serves the pending async operations now, in arrival order, without sleeping: called before an
   * operation issued later (a try*, a sync call) may take a message or room ahead of them.
   */
  serve(): void {
    if (this.#waiters.size > 0 && !this.#closed) this.#serve();
  }

  constructor(bell: Bell, host: WaitHost) {
    this.#bell = bell;
    this.#host = host;
  }

  /** Polls attempt() for `us` microseconds (blocking the thread); its result, or undefined. */
  spin(w: Pick<Waiter, 'attempt'>, us: number): unknown {
    const end = performance.now() + us / 1000;
    for (let i = 1; ; i++) {
      const r = w.attempt();
      if (r !== undefined) return r;
      if ((i & 31) === 0 && performance.now() >= end) return undefined;
    }
  }

  /**
   * Waits without blocking the event loop until `w` completes: resolves with its result, rejects
   * with what it throws, with its dead() error, a TimeoutError (after `timeout` ms, `what` in the
   * message), an AbortError (signal), or `close(err)`'s error.
   */
  wait(w: Waiter, timeout: number | undefined, signal: AbortSignal | undefined, what: string): Promise<unknown> {
    if (signal?.aborted) {
      w.ended();
      return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    }
    const d = new Deferred<unknown>(
      timeout === undefined && signal === undefined ? UNBOUNDED : { timeout, signal, what, onCancel: () => this.#drop(w) },
    );
    w.settle = d;
    this.#waiters.add(w);
    if (w.isReceive) this.#receives++;
    this.#host.watchPeers(); // deaths: at once, by pidfd; a slot that changes later: on the next tick
    this.#pump();
    return d.promise;
  }

  /**
   * Blocking wait: announce the sleep, re-check, sleep in slices until w.attempt() gives a result.
   * The sleep is on the eventfd and the pidfd of the peer `w` depends on when both can be had (its
   * death ends the sleep at once), else on the futex bell (a death is then found by the re-check
   * after a quiet slice). Throws a TimeoutError after `timeout` ms.
   */
  waitSync(w: Waiter, timeout: number | undefined, spin: number, what: string): unknown {
    try {
      return this.#waitSync(w, timeout, spin, what);
    } finally {
      w.ended(); // a sync send leaves its ring's queue (a no-op once it completed)
    }
  }

  #waitSync(w: Waiter, timeout: number | undefined, spin: number, what: string): unknown {
    // Async operations issued earlier go first (per-sender order, receive order): each attempt of
    // this one serves them before it, while this thread blocks their event loop.
    const attempt =
      this.#waiters.size === 0
        ? () => w.attempt()
        : () => {
            this.serve();
            return w.attempt();
          };
    let r = attempt();
    if (r !== undefined) return r;
    if (spin > 0 && (r = this.spin({ attempt }, spin)) !== undefined) return r;
    // No clock reads on the way to sleep unless a timeout asks for them.
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    const bell = this.#bell;
    const peer = w.peer;
    let checkPeers = false; // a /proc read: only after a quiet slice or a death, not before every sleep
    let armed = false;
    try {
      for (;;) {
        // The peer's pidfd, when the eventfd can be slept on beside it (asked every time round: the
        // slot may have changed hands); else the futex bell, as with no peer to watch.
        let pidfd = -1;
        if (peer !== undefined && bell.syncOnEventfd) {
          pidfd = this.#host.pidfd(peer);
          if (pidfd === ENDED) checkPeers = true;
        }
        const seen = bell.seen();
        w.arm(pidfd >= 0 ? EVENTFD : FUTEX);
        armed = true;
        if ((r = attempt()) !== undefined) return r;
        if (checkPeers) {
          const gone = w.dead();
          if (gone !== undefined) throw gone;
        }
        let slice = LIVENESS_MS;
        if (deadline !== Infinity) {
          const left = deadline - performance.now();
          if (left <= 0) throw new TimeoutError(what, timeout);
          if (left < slice) slice = left;
        }
        this.#host.beforeSleep();
        if (pidfd >= 0) {
          const o = bell.waitSyncOrEnd(seen, slice, pidfd);
          if (o === DoorbellWaitOutcome.PeerEnded) this.#host.pidfdFired(peer!);
          checkPeers = o === DoorbellWaitOutcome.TimedOut || o === DoorbellWaitOutcome.PeerEnded;
        } else checkPeers = bell.waitSync(seen, slice);
        w.arm(AWAKE);
        armed = false;
        if ((r = attempt()) !== undefined) return r;
      }
    } finally {
      if (armed) w.arm(AWAKE);
      if (this.#waiters.size > 0) this.#pump(); // async waiters' flags were overwritten: re-arm them
    }
  }

  /** A member died (its pidfd said so): end the waits that depended on it. */
  peerDied(): void {
    this.#pump(true);
  }

  /** Something may have changed (the doorbell rang): serve the waiters, and sleep again if some remain. */
  pump(): void {
    this.#pump();
  }

  /** Ends the pending async receives with `err`; sends and the engine carry on. */
  endReceives(err: Error): void {
    if (this.#receives === 0) return;
    for (const w of [...this.#waiters]) if (w.isReceive) this.#finish(w, err);
  }

  /** Ends every wait with `err` and stops the engine (the member is closing). */
  close(err: Error): void {
    this.#closed = true;
    for (const w of [...this.#waiters]) this.#finish(w, err);
    this.#stopLiveness();
  }

  /** Takes `w` out after its Deferred ended it (timeout or abort). */
  #drop(w: Waiter): void {
    if (!this.#remove(w)) return;
    // A send that gave up its place at the head of its ring's queue: the next one may fit now.
    if (w.ended() && this.#waiters.size > 0) this.#pump();
    if (this.#waiters.size === 0) this.#bell.idle();
  }

  #finish(w: Waiter, err: unknown, value?: unknown): void {
    if (!this.#remove(w)) return;
    if (err !== undefined) {
      w.ended(); // later waiters are served in the same pass anyway (they come after it in the set)
      w.settle!.reject(err);
    } else w.settle!.resolve(value);
    if (this.#waiters.size === 0) this.#bell.idle();
  }

  #remove(w: Waiter): boolean {
    if (!this.#waiters.delete(w)) return false;
    if (w.isReceive) this.#receives--;
    return true;
  }

  /** Serves pending async operations in arrival order; true when one completed. */
  #serve(): boolean {
    let progressed = false;
    // Iterating the Set itself (no copy per wake-up) is safe: #finish only deletes the current
    // waiter, and what it resolves runs later, as a microtask.
    for (const w of this.#waiters) {
      let r: unknown;
      try {
        r = w.attempt();
      } catch (err) {
        this.#finish(w, err);
        progressed = true;
        continue;
      }
      if (r !== undefined) {
        this.#finish(w, undefined, r);
        progressed = true;
      }
    }
    return progressed;
  }

  /**
   * Runs whenever something may have changed (a doorbell, a liveness tick, a new waiter): serve
   * what can be served, then announce the sleep on the rings still waited on, re-check (the other
   * half of the handshake) and, if still nothing, go back to the event loop until the doorbell rings.
   */
  #pump(checkPeers = false): void {
    if (this.#closed) return;
    this.#host.disarm();
    for (;;) {
      this.#serve();
      if (this.#waiters.size === 0) return;
      const seen = this.#bell.seen();
      const kind = this.#bell.kind;
      for (const w of this.#waiters) w.arm(kind);
      if (this.#serve()) continue;
      // Liveness costs a /proc read: done for a new wait and on the periodic tick, not per doorbell.
      if (checkPeers) {
        for (const w of [...this.#waiters]) {
          const gone = w.dead();
          if (gone !== undefined) this.#finish(w, gone);
        }
      }
      if (this.#waiters.size === 0) {
        this.#host.disarm();
        return;
      }
      this.#host.beforeSleep();
      this.#sleep(seen);
      return;
    }
  }

  #sleep(seen: number): void {
    if (this.#liveness === undefined) {
      // One unref'd interval while operations wait; it stops itself on the first idle tick, so a
      // steady conversation does not create a timer per message.
      this.#liveness = setInterval(this.#onTick, LIVENESS_MS);
      this.#liveness.unref();
    }
    this.#bell.sleep(seen);
  }

  #stopLiveness(): void {
    if (this.#liveness !== undefined) {
      clearInterval(this.#liveness);
      this.#liveness = undefined;
    }
  }
}
