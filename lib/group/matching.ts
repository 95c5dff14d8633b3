// MPI's matching of messages to receives. A receive names a source and a tag, either of which may be
// "any". An arriving message goes to the oldest posted receive it matches; with none, it waits in the
// unexpected-message queue, in arrival order, where a later receive takes the oldest one it matches.
// The transport delivers one sender's messages in the order sent, and both queues keep their order,
// so two messages from one sender that one receive could both match are received in the order sent:
// MPI's non-overtaking rule.
import { Deferred } from '../internal/deferred';

/** Matches a message from any member. */
export const ANY_SOURCE = -1;
/** Matches a message of any tag. */
export const ANY_TAG = -1;

export interface Arrival {
  from: number;
  tag: number;
  data: unknown;
}

interface Posted {
  from: number;
  tag: number;
  deferred: Deferred<Arrival>;
}

export interface PostOptions {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

function matches(wantFrom: number, wantTag: number, from: number, tag: number): boolean {
  return (wantFrom === ANY_SOURCE || wantFrom === from) && (wantTag === ANY_TAG || wantTag === tag);
}

export class Matcher {
  readonly #unexpected: Arrival[] = [];
  readonly #posted: Posted[] = [];
  readonly #what: string;

  /** `what`: the operation named in a timeout's message. */
  constructor(what: string) {
    this.#what = what;
  }

  /** A message came: it settles the oldest matching receive, or waits for one. */
  arrive(m: Arrival): void {
    const posted = this.#posted;
    for (let i = 0; i < posted.length; i++) {
      const p = posted[i] as Posted;
      if (matches(p.from, p.tag, m.from, m.tag)) {
        posted.splice(i, 1);
        p.deferred.resolve(m);
        return;
      }
    }
    this.#unexpected.push(m);
  }

  /** The oldest waiting message that matches, taken out of the queue; undefined if none. */
  take(from: number, tag: number): Arrival | undefined {
    const queue = this.#unexpected;
    for (let i = 0; i < queue.length; i++) {
      const m = queue[i] as Arrival;
      if (matches(from, tag, m.from, m.tag)) {
        if (i === 0) queue.shift();
        else queue.splice(i, 1);
        return m;
      }
    }
    return undefined;
  }

  /** A waiting message that matches, left in the queue (MPI_Iprobe). */
  peek(from: number, tag: number): Arrival | undefined {
    for (const m of this.#unexpected) if (matches(from, tag, m.from, m.tag)) return m;
    return undefined;
  }

  /** The next matching message: from the queue at once, or when it arrives. */
  receive(from: number, tag: number, options: PostOptions = {}): Promise<Arrival> {
    const m = this.take(from, tag);
    if (m !== undefined) return Promise.resolve(m);
    const entry: Posted = { from, tag, deferred: undefined as unknown as Deferred<Arrival> };
    entry.deferred = new Deferred<Arrival>({
      timeout: options.timeout,
      signal: options.signal,
      what: this.#what,
      onCancel: () => {
        const i = this.#posted.indexOf(entry);
        if (i >= 0) this.#posted.splice(i, 1);
      },
    });
    this.#posted.push(entry);
    return entry.deferred.promise;
  }

  /** Rejects the posted receives that `which(from)` selects (by the source they wait for) with `error`. */
  fail(which: (from: number) => boolean, error: (from: number) => Error): void {
    const posted = this.#posted;
    for (let i = 0; i < posted.length; ) {
      const p = posted[i] as Posted;
      if (which(p.from)) {
        posted.splice(i, 1);
        p.deferred.reject(error(p.from));
      } else i++;
    }
  }

  /** How many messages wait unreceived. */
  get unexpected(): number {
    return this.#unexpected.length;
  }

  /** Whether some unreceived message came from `from`. */
  hasFrom(from: number): boolean {
    return this.#unexpected.some((m) => m.from === from);
  }
}
