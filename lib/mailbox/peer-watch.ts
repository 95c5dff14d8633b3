// Death watches on the other members of a group: one pidfd (lib/internal/process-watch.ts) per
// incarnation of each held slot, so a member that dies is reported the moment the kernel knows,
// instead of at the next liveness tick. sync() is cheap when nothing changed (one load of each
// slot's generation); a slot whose generation moved is read again and watched anew. Async waits
// learn of a death through onDeath (on the event loop); a sync wait, which blocks the thread, sleeps
// on the watched pidfd itself (pidfd(), and fired() once it became readable).
// Each incarnation that holds its death word (native/core/mailbox/death_word.hpp) is watched through
// that word too: the kernel marks it as the holder's exit begins, milliseconds before the pidfd
// (which waits for the memory's teardown). Whichever comes first reports the death; a word that
// changes without the owner-dead mark (a clean leave, a scribbler) is left to the pidfd.
import { type DeathWatcher, native } from '../internal/binding';
import { type ProcessExit, type ProcessWatch, watchProcess } from '../internal/process-watch';
import type { GroupSegment } from './segment';

/**
 * Whether members' death words are watched: false when the environment sets INTERPROC_DEATH_WORD=0
 * (read at each watch: how tests and benchmarks see the pidfd alone).
 */
export function deathWordsWatched(): boolean {
  return process.env.INTERPROC_DEATH_WORD !== '0';
}

/** pidfd(): no descriptor to sleep on (no pidfds on this host, nobody holds the slot, a join in progress). */
export const NO_PIDFD = -1;
/** pidfd(): the member's current incarnation has ended already (its pidfd fired, or it was gone before the watch began). */
export const ENDED = -2;

interface Watched {
  gen: number;
  watch: ProcessWatch | undefined;
  death: DeathWatcher | undefined;
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
    const early = w.death?.fd() ?? -1; // readable when the death word changes: sooner than the pidfd
    if (early >= 0) return early;
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
    if (w === undefined) return;
    if (w.death !== undefined && !this.#segment.diedMark(id)) {
      // The sleep was on the death word's eventfd, and the word changed without the owner-dead mark
      // (a clean leave, or a scribbler): the pidfd is what a later sleep waits on.
      w.death.close();
      w.death = undefined;
      return;
    }
    w.ended = true;
  }

  #syncOne(id: number): Watched {
    const gen = this.#segment.gen(id);
    const known = this.#watched.get(id);
    if (known !== undefined && known.gen === gen) return known;
    known?.watch?.close();
    known?.death?.close();
    const s = this.#segment.read(id);
    const w: Watched = { gen: s.gen, watch: undefined, death: undefined, ended: false };
    // A held slot (alive, or dead and not yet noticed) names a process to watch; an odd generation
    // (a join in progress) is read again once it settles.
    if ((s.state === 'alive' || s.state === 'dead') && (s.gen & 1) === 0) {
      const { pid } = s;
      const watch = watchProcess(pid, s.start, (exit) => {
        if (this.#watched.get(id) !== w || w.watch !== watch) return;
        w.watch = undefined;
        w.ended = true;
        w.death?.close(); // the pidfd told first (the word was cleared or rewritten): its thread goes too
        w.death = undefined;
        if (!this.#closed) this.#onDeath(id, pid, exit);
      });
      w.watch = watch;
      if (s.state === 'alive') w.death = this.#watchDeathWord(id, s.gen, pid, w);
    }
    this.#watched.set(id, w);
    return w;
  }

  #watchDeathWord(id: number, gen: number, pid: number, w: Watched): DeathWatcher | undefined {
    const tid = deathWordsWatched() ? this.#segment.deathHolder(id) : 0;
    if (tid === 0) return undefined; // not held (yet, or on a host without robust lists): the pidfd alone
    const death = new native.DeathWatcher(this.#segment.handle, id, tid, () => {
      if (this.#watched.get(id) !== w || w.death !== death) return;
      w.death = undefined;
      if (w.ended || this.#segment.gen(id) !== gen || !this.#segment.diedMark(id)) return;
      w.ended = true;
      w.watch?.close();
      w.watch = undefined;
      if (!this.#closed) this.#onDeath(id, pid, { pid, code: null, signal: null, known: false, via: 'death-word' });
    });
    death.unref();
    return death;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watched.values()) {
      w.watch?.close();
      w.death?.close();
    }
    this.#watched.clear();
  }
}
