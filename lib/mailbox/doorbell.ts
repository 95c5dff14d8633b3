// Wake-ups between the members of a mailbox group. A side about to sleep announces how it sleeps
// in the ring's sleep flag (FUTEX or EVENTFD, lib/mailbox/ring.ts); whoever then publishes into or
// makes room in that ring wakes it: it bumps the sleeper's futex bell word and, for FUTEX, calls
// FUTEX_WAKE on it, for EVENTFD rings the sleeper's eventfd (a duplicate fetched once per
// incarnation of its slot with pidfd_getfd). OwnDoorbell is this member's side (what it sleeps
// on), PeerBells the other members' (what it rings). Protocol: docs/design/mailbox.md, "Doorbells".
import { native, WAIT_TIMED_OUT, type FdWatcher, type Handle } from '../internal/binding';
import { codeOf } from '../internal/errors';
import { DoorbellWaitOutcome, POLL_READABLE } from '../internal/contract';
import { EVENTFD, FUTEX } from './ring';
import type { GroupSegment } from './segment';
import { LIVENESS_MS, type Bell } from './waiters';

/** FUTEX_WAKE count: every waiter. */
const WAKE_ALL = 0x7fffffff;

/**
 * @internal How a member's async receiver is woken now: 'edge' (edge-triggered eventfd, never
 * read), 'level' (eventfd reset on each wake-up), 'futex', or 'none' (has not slept yet).
 */
export const kDoorbellMode = Symbol('interproc.doorbellMode');
export type DoorbellMode = 'edge' | 'level' | 'futex' | 'none';

/** INTERPROC_EDGE_DOORBELL=0 keeps eventfd doorbells level-triggered (an escape hatch; docs/design/mailbox.md). */
const edgeDoorbell = () => process.env.INTERPROC_EDGE_DOORBELL !== '0';

/** A new eventfd for a member that sleeps on EVENTFD; -1 for FUTEX (none needed). */
export function openEventfd(kind: number): number {
  return kind === EVENTFD ? native.doorbellCreate() : -1;
}

export function closeEventfd(fd: number): void {
  if (fd >= 0) native.doorbellClose(fd);
}

/**
 * What this member sleeps on. Async waits: its eventfd, watched by a libuv poll handle (EVENTFD), or
 * a native waiter thread on its futex bell word (FUTEX); `onRing` runs on the event loop after each
 * wake-up (or a liveness slice). Sync waits: the eventfd together with the pidfd of the peer they
 * wait on (EVENTFD, while syncOnEventfd), else the futex bell word.
 */
export class OwnDoorbell implements Bell {
  readonly kind: number;
  readonly #handle: Handle;
  readonly #u32: Uint32Array;
  readonly #bellOffset: number;
  readonly #bellIdx: number;
  readonly #efd: number;
  readonly #onRing: () => void;
  #watcher: FdWatcher | undefined;
  #watching = false;
  #watcherRef = false; // the watcher's ref state, so a steady conversation makes no ref/unref calls
  #futexJob = false;
  #closed = false;
  #syncOnEventfd: boolean;

  /** Takes over `efd` (from openEventfd(kind)). */
  constructor(segment: GroupSegment, id: number, kind: number, efd: number, onRing: () => void) {
    this.kind = kind;
    this.#handle = segment.handle;
    this.#u32 = segment.u32;
    this.#bellOffset = segment.bellOffset(id);
    this.#bellIdx = this.#bellOffset >> 2;
    this.#efd = efd;
    this.#onRing = onRing;
    this.#syncOnEventfd = kind === EVENTFD && efd >= 0;
  }

  /**
   * Whether sync waits may sleep on the eventfd (waitSyncOrEnd): kind EVENTFD, until a wake-up is
   * found to have moved the bell without ringing the eventfd. Then some member cannot reach it
   * (pidfd_getfd refused: it warned), and sync waits go back to the futex, which every member can wake.
   */
  get syncOnEventfd(): boolean {
    return this.#syncOnEventfd;
  }

  seen(): number {
    return Atomics.load(this.#u32, this.#bellIdx);
  }

  waitSync(seen: number, ms: number): boolean {
    return native.futexWait(this.#handle, this.#bellOffset, seen, ms) === WAIT_TIMED_OUT;
  }

  waitSyncOrEnd(seen: number, ms: number, pidfd: number): number {
    const o = native.doorbellWait(this.#handle, this.#bellOffset, seen, ms, this.#efd, pidfd);
    if (o === undefined) return DoorbellWaitOutcome.Rung; // the worker is being terminated: no JS runs after this
    if (o === DoorbellWaitOutcome.BellOnly) {
      // Woken through the bell alone: a peer that could not fetch the eventfd (or was just about to ring it).
      this.#syncOnEventfd = false;
      return DoorbellWaitOutcome.NotEqual;
    }
    return o;
  }

  sleep(seen: number): void {
    if (this.kind === EVENTFD) {
      if (this.#watcher === undefined) {
        // Doorbell mode: the eventfd is reset natively (or, edge-triggered, never read at all).
        this.#watcher = new native.FdWatcher(
          this.#efd,
          () => {
            if (!this.#closed) this.#onRing();
          },
          { eventfd: true, edgeTriggered: edgeDoorbell() },
        );
      }
      if (!this.#watching) {
        this.#watcher.start(POLL_READABLE);
        this.#watching = true;
        this.#watcherRef = true; // a started handle is ref'd
      }
      if (!this.#watcherRef) {
        this.#watcher.ref();
        this.#watcherRef = true;
      }
      return;
    }
    if (this.#futexJob) return;
    this.#futexJob = true;
    const [p] = native.futexWaitAsync(this.#handle, this.#bellOffset, seen, LIVENESS_MS, this.#u32);
    p.then(
      () => {
        this.#futexJob = false;
        if (!this.#closed) this.#onRing();
      },
      () => {
        this.#futexJob = false; // the segment was closed under the wait
      },
    );
  }

  idle(): void {
    // The poll handle stays started (restarting costs two epoll_ctl calls per message, and would
    // lose the edge-triggered registration) but unref'd.
    if (this.#watcherRef) {
      this.#watcher?.unref();
      this.#watcherRef = false;
    }
  }

  get mode(): DoorbellMode {
    if (this.kind === FUTEX) return 'futex';
    if (this.#watcher === undefined) return 'none';
    return this.#watcher.edgeTriggered() ? 'edge' : 'level';
  }

  /** Stops watching and closes the eventfd (before the segment is unmapped). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.idle();
    this.#watcher?.close();
    this.#watcher = undefined;
    closeEventfd(this.#efd);
  }
}

/** Rings the other members' doorbells. */
export class PeerBells {
  readonly #segment: GroupSegment;
  /** This process's duplicate of each member's eventfd, and the slot generation it belongs to. */
  readonly #fds = new Map<number, { gen: number; fd: number }>();
  #warned = false;

  constructor(segment: GroupSegment) {
    this.#segment = segment;
  }

  /** Wakes member `id`, who announced in a ring's sleep flag that it sleeps on FUTEX or EVENTFD (`kind`). */
  wake(id: number, kind: number): void {
    const bellOffset = this.#segment.bellOffset(id);
    Atomics.add(this.#segment.u32, bellOffset >> 2, 1);
    if (kind === FUTEX) {
      try {
        native.futexWake(this.#segment.handle, bellOffset, WAKE_ALL);
      } catch (err) {
        // A truncated segment has nobody left to wake: its waits end on their own with that error.
        if (codeOf(err) !== 'ERR_SHM_TRUNCATED') throw err;
      }
      return;
    }
    const fd = this.#eventfd(id);
    if (fd >= 0) native.doorbellRing(fd);
  }

  /** This process's duplicate of member `id`'s eventfd, fetched once per incarnation of the slot. */
  #eventfd(id: number): number {
    const cached = this.#fds.get(id);
    const gen = this.#segment.gen(id);
    if (cached !== undefined && cached.gen === gen) return cached.fd; // no /proc read on the hot path
    const s = this.#segment.read(id);
    if (cached !== undefined) closeEventfd(cached.fd);
    let fd = -1;
    if (s.state === 'alive' && s.efd >= 0) {
      try {
        fd = native.doorbellFetch(s.pid, s.efd);
      } catch (err) {
        // The peer still finds the message within LIVENESS_MS (it re-checks while asleep); say why once.
        if (codeOf(err) !== 'ESRCH' && !this.#warned) {
          this.#warned = true;
          process.emitWarning(
            `interproc: cannot reach the eventfd doorbell of mailbox member ${id} (${(err as Error).message}); ` +
              `its wake-ups fall back to a ${LIVENESS_MS} ms poll. Join with { doorbell: 'futex' } on such hosts.`,
            'InterprocWarning',
          );
        }
      }
    }
    this.#fds.set(id, { gen: s.gen, fd });
    return fd;
  }

  /** Closes every duplicate. */
  close(): void {
    for (const { fd } of this.#fds.values()) closeEventfd(fd);
    this.#fds.clear();
  }
}
