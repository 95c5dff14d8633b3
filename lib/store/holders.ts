// The owner's side of the read cache: which peers hold a copy of each of its blocks, and the
// invalidations of a block under way. An operation that changes a block held by peers does not run
// until every holder has acknowledged the invalidation of its copy (or gone away); meanwhile the
// block is gated: every later operation on it (reads included, from anyone, this member's own calls
// too) waits behind it in arrival order. So the new value is seen by nobody before no copy of the old
// one is left, which keeps every location linearizable with copies in several members.
import type { Sink } from './owner';
import { encodeInvalidations } from './protocol';

interface Gate {
  readonly block: number;
  /** The holders whose acknowledgement is awaited, with the token sent to each. */
  readonly waiting: Map<Sink, number>;
  /** The operations waiting for the block, oldest first; each goes through the owner's checks again. */
  readonly jobs: (() => void)[];
}

export class Holders {
  /** block -> the peers that fetched it since its last invalidation (an entry may be stale: see cache.ts). */
  readonly #copies = new Map<number, Set<Sink>>();
  readonly #gates = new Map<number, Gate>();
  readonly #tokens = new Map<number, Gate>();
  #nextToken = 0;
  /** Sends a message to a holder; false when it cannot (its transport closed): nothing to wait for. */
  readonly #send: (sink: Sink, message: Buffer) => boolean;
  /** Invalidations sent (one per holder and gate). */
  sent = 0;

  constructor(send: (sink: Sink, message: Buffer) => boolean) {
    this.#send = send;
  }

  /** Nobody holds a copy and nothing waits: the owner's fast path, with no lookup per operation. */
  get idle(): boolean {
    return this.#copies.size === 0 && this.#gates.size === 0;
  }

  gated(block: number): boolean {
    return this.#gates.has(block);
  }

  held(block: number): boolean {
    return this.#copies.has(block);
  }

  /** `sink` fetched `block`: it holds a copy until it acknowledges an invalidation of it. */
  add(block: number, sink: Sink): void {
    let set = this.#copies.get(block);
    if (set === undefined) {
      set = new Set();
      this.#copies.set(block, set);
    }
    set.add(sink);
  }

  /** Queues `job` behind the invalidation under way on `block`. */
  defer(block: number, job: () => void): void {
    this.#gates.get(block)?.jobs.push(job);
  }

  /** Sends an invalidation of `block` to each of its holders; `job` runs once all of them are done. */
  invalidate(block: number, job: () => void): void {
    const holders = this.#copies.get(block);
    this.#copies.delete(block);
    const gate: Gate = { block, waiting: new Map(), jobs: [job] };
    this.#gates.set(block, gate);
    for (const sink of holders ?? []) {
      const token = (this.#nextToken = (this.#nextToken + 1) >>> 0);
      if (!this.#send(sink, encodeInvalidations([token], [block]))) continue;
      this.sent++;
      gate.waiting.set(sink, token);
      this.#tokens.set(token, gate);
    }
    if (gate.waiting.size === 0) this.#release(gate);
  }

  /** `sink` acknowledged `token`. Anything else (unknown token, another peer's) is ignored. */
  ack(sink: Sink, token: number): void {
    const gate = this.#tokens.get(token);
    if (gate === undefined || gate.waiting.get(sink) !== token) return;
    this.#tokens.delete(token);
    gate.waiting.delete(sink);
    if (gate.waiting.size === 0) this.#release(gate);
  }

  /** `sink` went away (died, left, closed its connection): it holds nothing and is not waited for. */
  dropSink(sink: Sink): void {
    for (const [block, set] of this.#copies) if (set.delete(sink) && set.size === 0) this.#copies.delete(block);
    for (const gate of [...this.#gates.values()]) {
      const token = gate.waiting.get(sink);
      if (token === undefined) continue;
      gate.waiting.delete(sink);
      this.#tokens.delete(token);
      if (gate.waiting.size === 0) this.#release(gate);
    }
  }

  /** The owner closes: every waiting job runs now (each sees the owner closed and ends). */
  close(): void {
    const gates = [...this.#gates.values()];
    this.#gates.clear();
    this.#tokens.clear();
    this.#copies.clear();
    for (const g of gates) for (const job of g.jobs) job();
  }

  /** Runs the block's jobs in order; one that gates the block again takes the rest with it. */
  #release(gate: Gate): void {
    this.#gates.delete(gate.block);
    const jobs = gate.jobs;
    for (let i = 0; i < jobs.length; i++) {
      const again = this.#gates.get(gate.block);
      if (again !== undefined) {
        for (let k = i; k < jobs.length; k++) again.jobs.push(jobs[k] as () => void);
        return;
      }
      (jobs[i] as () => void)();
    }
  }
}
