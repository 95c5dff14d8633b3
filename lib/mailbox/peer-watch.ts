// Death watches on the other members of a group: one pidfd (lib/internal/process-watch.ts) per
// incarnation of each held slot, so a member that dies is reported the moment the kernel knows,
// instead of at the next liveness tick. sync() is cheap when nothing changed (one load of each
// slot's generation); a slot whose generation moved is read again and watched anew. Async waits
// learn of a death through onDeath (on the event loop); a sync wait, which blocks the thread, sleeps
// on the watched pidfd itself (pidfd(), and fired() once it became readable).
import { type ProcessExit, type ProcessWatch, watchProcess } from '../internal/process-watch';
import type { GroupSegment } from './segment';

/** pidfd(): no descriptor to sleep on (no pidfds on this host, nobody holds the slot, a join in progress). */
export const NO_PIDFD = -1;
/** pidfd(): the member's current incarnation has ended already (its pidfd fired, or it was gone before the watch began). */
export const ENDED = -2;

interface Watched {
  gen: number;
  watch: ProcessWatch | undefined;
  /** The incarnation has ended: its callback ran, or a sync wait saw its pidfd fire. */
  ended: boolean;
}

export class PeerWatch {
  readonly #segment: GroupSegment;
  readonly #self: number;
  readonly #onDeath: (id: number, pid: number, exit: ProcessExit) => void;
  readonly #watched = new Map<number, Watched>();
  #closed = false;

  /** `onDeath(id, pid, exit)` runs on the event loop once per incarnation that ends while watched. */
  constructor(segment: GroupSegment, self: number, onDeath: (id: number, pid: number, exit: ProcessExit) => void) {
    this.#segment = segment;
    this.#self = self;
    this.#onDeath = onDeath;
  }

  /** Watches every member slot held now (new incarnations only); `only` limits it to one member. */
  sync(only?: number): void {
    if (this.#closed) return;
    if (only !== undefined) {
      if (only !== this.#self) this.#syncOne(only);
      return;
    }
    for (let id = 0; id < this.#segment.members; id++) if (id !== this.#self) this.#syncOne(id);
  }

  /**
   * A pidfd of member `id`'s current incarnation, to sleep on (it becomes readable when that process
   * ends): watched first if it is not yet. NO_PIDFD when there is none, ENDED when that incarnation
   * is known to have ended (the caller reads the slot instead of sleeping on a pidfd that fired).
   */
  pidfd(id: number): number {
    if (this.#closed || id === this.#self) return NO_PIDFD;
    const w = this.#syncOne(id);
    if (w.ended) return ENDED;
    if (w.watch === undefined) return NO_PIDFD;
    const fd = w.watch.fd;
    if (fd >= 0) return fd;
    return w.watch.via === 'pidfd' ? ENDED : NO_PIDFD; // a pidfd watch without one: gone before it began
  }

  /**
   * A sync wait saw member `id`'s pidfd become readable: pidfd() says ENDED for this incarnation from
   * now on, so no later sleep wakes on it again (the watch stays: its callback still tells async waits).
   */
  fired(id: number): void {
    const w = this.#watched.get(id);
    if (w !== undefined) w.ended = true;
  }

  #syncOne(id: number): Watched {
    const gen = this.#segment.gen(id);
    const known = this.#watched.get(id);
    if (known !== undefined && known.gen === gen) return known;
    known?.watch?.close();
    const s = this.#segment.read(id);
    const w: Watched = { gen: s.gen, watch: undefined, ended: false };
    // A held slot (alive, or dead and not yet noticed) names a process to watch; an odd generation
    // (a join in progress) is read again once it settles.
    if ((s.state === 'alive' || s.state === 'dead') && (s.gen & 1) === 0) {
      const { pid } = s;
      const watch = watchProcess(pid, s.start, (exit) => {
        if (this.#watched.get(id) !== w || w.watch !== watch) return;
        w.watch = undefined;
        w.ended = true;
        if (!this.#closed) this.#onDeath(id, pid, exit);
      });
      w.watch = watch;
    }
    this.#watched.set(id, w);
    return w;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watched.values()) w.watch?.close();
    this.#watched.clear();
  }
}
