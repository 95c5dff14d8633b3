// The requests of one route that wait for their replies, oldest first. An owner answers one peer's
// requests in the order they came (docs/protocol/store-requests.md; waitAsync is kept apart), so a
// reply is nearly always for the oldest entry: it is matched at the head, with no hashing and no
// allocation (a Map keyed by id rehashed every few requests and was the largest cost of a round
// trip). A reply out of order (a broken or hostile peer) is found by binary search and leaves a
// hole. Ids are u32 and wrap around: they are compared by their distance from the oldest id.

// biome-ignore lint/suspicious/noExplicitAny: each operation resolves with its own type (number, bigint, string, undefined)
export type OnValue = (value: any, tag: number) => void;
export type OnError = (err: Error) => void;

export interface Pending {
  id: number;
  op: number;
  /** Cell width, or the length of a READ. */
  width: number;
  deadline: number;
  /** Called with the result and `tag`. */
  resolve: OnValue;
  reject: OnError;
  /** READ: where the bytes go. */
  into: Buffer | undefined;
  /** READ: the offset in `into`; otherwise passed to resolve (a pipeline's slot). */
  tag: number;
}

export class PendingQueue {
  #slots: (Pending | undefined)[] = new Array(16).fill(undefined);
  #mask = 15;
  /** Index of the oldest entry (never a hole while size > 0). */
  #head = 0;
  /** Index after the youngest. */
  #tail = 0;
  /** Entries, holes not counted. */
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Appends `p`, whose id must follow every id already queued. */
  push(p: Pending): void {
    if (((this.#tail - this.#head) & this.#mask) === this.#mask) this.#grow();
    this.#slots[this.#tail] = p;
    this.#tail = (this.#tail + 1) & this.#mask;
    this.#size++;
  }

  /** The oldest entry, or undefined. */
  peek(): Pending | undefined {
    return this.#size === 0 ? undefined : this.#slots[this.#head];
  }

  /** Takes the oldest entry out. */
  shift(): Pending | undefined {
    if (this.#size === 0) return undefined;
    const p = this.#slots[this.#head];
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#size--;
    this.#skipHoles();
    return p;
  }

  /** Takes out the entry for `id`; undefined when none waits for it (late after a timeout, or not ours). */
  take(id: number): Pending | undefined {
    if (this.#size === 0) return undefined;
    const head = this.#slots[this.#head] as Pending;
    if (head.id === id) return this.shift();
    // Out of order: binary search on the distance from the oldest id (ids only grow, modulo 2^32).
    const base = head.id;
    const want = (id - base) >>> 0;
    let lo = 0;
    let hi = ((this.#tail - this.#head) & this.#mask) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      let k = (this.#head + mid) & this.#mask;
      let p = this.#slots[k];
      // A hole: look at the nearest entry after it, up to `hi`.
      let step = mid;
      while (p === undefined && step < hi) {
        step++;
        k = (this.#head + step) & this.#mask;
        p = this.#slots[k];
      }
      if (p === undefined) {
        hi = mid - 1;
        continue;
      }
      const d = (p.id - base) >>> 0;
      if (d === want) {
        this.#slots[k] = undefined;
        this.#size--;
        this.#trimTail();
        return p;
      }
      if (d < want) lo = step + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Takes every entry out, oldest first. */
  drain(): Pending[] {
    const all: Pending[] = [];
    for (let k = this.#head; k !== this.#tail; k = (k + 1) & this.#mask) {
      const p = this.#slots[k];
      if (p !== undefined) all.push(p);
      this.#slots[k] = undefined;
    }
    this.#head = this.#tail = 0;
    this.#size = 0;
    return all;
  }

  #skipHoles(): void {
    if (this.#size === 0) {
      this.#head = this.#tail = 0;
      return;
    }
    while (this.#slots[this.#head] === undefined) this.#head = (this.#head + 1) & this.#mask;
  }

  /** After a hole was made in the middle: the tail steps back over holes (it stops at the head, an entry). */
  #trimTail(): void {
    while (this.#slots[(this.#tail - 1) & this.#mask] === undefined) this.#tail = (this.#tail - 1) & this.#mask;
  }

  #grow(): void {
    const n = this.#mask + 1;
    const next: (Pending | undefined)[] = new Array(n * 2).fill(undefined);
    let j = 0;
    for (let k = this.#head; k !== this.#tail; k = (k + 1) & this.#mask) next[j++] = this.#slots[k];
    this.#slots = next;
    this.#mask = n * 2 - 1;
    this.#head = 0;
    this.#tail = j;
  }
}
