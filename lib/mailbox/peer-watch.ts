// Death watches on the other members of a group: one pidfd (lib/internal/process-watch.ts) per
// incarnation of each held slot, so a member that dies is reported the moment the kernel knows,
// instead of at the next liveness tick. sync() is cheap when nothing changed (one load of each
// slot's generation); a slot whose generation moved is read again and watched anew.
import { type ProcessExit, type ProcessWatch, watchProcess } from '../internal/process-watch';
import type { GroupSegment } from './segment';

interface Watched {
  gen: number;
  watch: ProcessWatch | undefined;
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

  #syncOne(id: number): void {
    const gen = this.#segment.gen(id);
    const known = this.#watched.get(id);
    if (known !== undefined && known.gen === gen) return;
    known?.watch?.close();
    const s = this.#segment.read(id);
    let watch: ProcessWatch | undefined;
    // A held slot (alive, or dead and not yet noticed) names a process to watch; an odd generation
    // (a join in progress) is read again once it settles.
    if ((s.state === 'alive' || s.state === 'dead') && (s.gen & 1) === 0) {
      const { pid } = s;
      watch = watchProcess(pid, s.start, (exit) => {
        const w = this.#watched.get(id);
        if (w === undefined || w.watch !== watch) return;
        w.watch = undefined;
        if (!this.#closed) this.#onDeath(id, pid, exit);
      });
    }
    this.#watched.set(id, { gen: s.gen, watch });
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watched.values()) w.watch?.close();
    this.#watched.clear();
  }
}
