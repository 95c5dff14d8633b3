// Barrier: a reusable process-shared barrier of N parties (threads). A party that dies or leaves
// breaks it: every waiter gets a BrokenBarrierError at once instead of waiting forever. See
// docs/design/sync.md.
import { native } from '../internal/binding';
import type { SharedMemory } from '../shm/shared-memory';
import { BARRIER_HEADER_BYTES, BARRIER_MAX_PARTIES, BARRIER_PARTY_BYTES } from '../internal/contract';
import {
  ALIGNMENT,
  attachAt,
  createNamed,
  initAt,
  Kind,
  Op,
  openNamed,
  Outcome,
  type Place,
  Rel,
  timedOut,
  waitOptions,
  waitSyncOptions,
  type NamedOptions,
  type WaitOptions,
  type WaitSyncOptions,
  SyncObject,
} from './object';
import { BarrierWaitPendingError, BrokenBarrierError } from './errors';
import { AbortError } from '../internal/errors';
import { validateInteger, validateObject, validateOptionNames } from '../internal/validate';

const MAX_PARTIES = BARRIER_MAX_PARTIES;

export interface BarrierOptions {
  /** Number of parties (threads, usually one per process) that must arrive; 1 to 100. */
  parties: number;
}

function partiesOf(options: unknown): number {
  validateObject(options, 'options');
  validateInteger(options.parties, 'options.parties', 1, MAX_PARTIES);
  return options.parties;
}

export class Barrier extends SyncObject {
  /** Bytes a Barrier of `parties` takes: 64 + 64 per party. */
  static byteLength(parties: number): number {
    validateInteger(parties, 'parties', 1, MAX_PARTIES);
    return BARRIER_HEADER_BYTES + BARRIER_PARTY_BYTES * parties;
  }
  static readonly alignment = ALIGNMENT;
  static readonly maxParties = MAX_PARTIES;
  #parties: number;
  #pending = false;

  private constructor([place, parties]: [Place, number]) {
    super(place, Kind.Barrier, 'Barrier');
    this.#parties = parties;
  }

  static initAt(shm: SharedMemory, byteOffset: number, options: BarrierOptions): Barrier {
    validateOptionNames(options, 'options', ['parties']);
    const parties = partiesOf(options);
    return new Barrier([initAt(Kind.Barrier, shm, byteOffset, Barrier.byteLength(parties), parties), parties]);
  }

  static openAt(shm: SharedMemory, byteOffset: number): Barrier {
    // The header is checked first; the native side then checks that all its parties' slots fit.
    return new Barrier(attachAt(Kind.Barrier, shm, byteOffset, BARRIER_HEADER_BYTES));
  }

  static create(name: string, options: BarrierOptions & NamedOptions): Barrier {
    validateOptionNames(options, 'options', ['parties', 'mode']);
    const parties = partiesOf(options);
    return new Barrier([createNamed(Kind.Barrier, name, options, Barrier.byteLength(parties), parties), parties]);
  }

  static open(name: string): Barrier {
    return new Barrier(openNamed(Kind.Barrier, name));
  }

  get parties(): number {
    return this.#parties;
  }
  /** How many times the barrier has tripped (wraps at 2^32). */
  get generation(): number {
    return this.info().generation;
  }
  get broken(): boolean {
    return this.info().broken;
  }

  #arrive(what: string): [number, number] {
    if (this.#pending) throw new BarrierWaitPendingError(what);
    const [code, generation] = native.syncArrive(this.handle(), this.place.offset, this.place.shape);
    if (code === Outcome.Broken) throw new BrokenBarrierError();
    return [code, generation];
  }

  #settle(code: number, what: string, timeout: number | undefined): boolean {
    if (code === Outcome.Broken) throw new BrokenBarrierError();
    timedOut(code, what, timeout);
    return false;
  }

  /**
   * Arrives and waits, without blocking the event loop, until all parties have arrived. Resolves
   * true for exactly one party of each generation (the one whose arrival tripped it), false for the
   * others. A timeout or an abort breaks the barrier for everyone (an arrival cannot be taken back).
   */
  async wait(options?: WaitOptions): Promise<boolean> {
    const { timeout, signal } = waitOptions(options);
    // Already aborted: fail before arriving, or the arrival would count with no one waiting.
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const [code, generation] = this.#arrive('Barrier.wait');
    if (code === Outcome.Acquired) return true;
    this.#pending = true;
    try {
      return this.#settle(await this.waitOp(Op.BarrierPass, timeout, generation, signal), 'Barrier.wait', timeout);
    } finally {
      this.#pending = false;
    }
  }

  /** Like wait(), blocking this thread. */
  waitSync(options?: WaitSyncOptions): boolean {
    const timeout = waitSyncOptions(options);
    const [code, generation] = this.#arrive('Barrier.waitSync');
    if (code === Outcome.Acquired) return true;
    return this.#settle(this.waitOpSync(Op.BarrierPass, timeout, generation), 'Barrier.waitSync', timeout);
  }

  /** Breaks the barrier on purpose: every waiter gets a BrokenBarrierError. */
  abort(): void {
    this.releaseOp(Rel.BarrierBreak);
  }

  /** Makes a broken barrier usable again (frees the slots of dead or departed parties). Call it when no party waits. */
  reset(): void {
    this.releaseOp(Rel.BarrierReset);
  }

  /**
   * Leaves the party set (this thread's slot is marked gone, which breaks the barrier for anyone
   * still waiting for it; see docs/api/sync.md) and stops using the object: its own pending wait()
   * rejects with ERR_INVALID_STATE. A named Barrier closes its segment.
   */
  override close(): void {
    if (this.place.closed) return;
    this.endWaits(); // its own wait gives up (breaking the barrier) while the memory is still there
    this.releaseOp(Rel.BarrierLeave);
    super.close();
  }
}
