// Barrier: a reusable process-shared barrier of N parties (threads). A party that dies or leaves
// breaks it: every waiter gets a BrokenBarrierError at once instead of waiting forever. See
// docs/design.md.
import { native } from '../internal/binding';
import { SharedMemory } from '../shm/shared-memory';
import {
  acquireAsync, ALIGNMENT, createNamed, Kind, Op, openNamed, Outcome, Place, placement, Rel, waitOptions, waitSyncOptions,
  BARRIER_HEADER_BYTES, BARRIER_MAX_PARTIES, BARRIER_PARTY_BYTES,
  type NamedOptions, type WaitOptions, type WaitSyncOptions,
  SyncObject,
} from './object';
import { BrokenBarrierError, TimeoutError } from './errors';
import { validateInteger, validateObject } from '../internal/validate';

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

  private constructor(place: Place, parties: number) {
    super(place);
    this.#parties = parties;
  }

  static initAt(shm: SharedMemory, byteOffset: number, options: BarrierOptions): Barrier {
    const parties = partiesOf(options);
    const [s, off] = placement(shm, byteOffset, Barrier.byteLength(parties));
    native.syncInit(Kind.Barrier, SharedMemory.handleOf(s), off, parties);
    return Barrier.openAt(s, off);
  }

  static openAt(shm: SharedMemory, byteOffset: number): Barrier {
    const [s, off] = placement(shm, byteOffset, BARRIER_HEADER_BYTES);
    const parties = native.syncAttach(Kind.Barrier, SharedMemory.handleOf(s), off);
    return new Barrier(new Place(s, off, false), parties);
  }

  static create(name: string, options: BarrierOptions & NamedOptions): Barrier {
    const parties = partiesOf(options);
    return new Barrier(createNamed(name, options, Barrier.byteLength(parties), (p) => {
      native.syncInit(Kind.Barrier, p.handle('Barrier'), 0, parties);
      native.syncAttach(Kind.Barrier, p.handle('Barrier'), 0);
    }), parties);
  }

  static open(name: string): Barrier {
    let parties = 0;
    const place = openNamed(name, (p) => {
      parties = native.syncAttach(Kind.Barrier, p.handle('Barrier'), 0);
    });
    return new Barrier(place, parties);
  }

  get parties(): number {
    return this.#parties;
  }
  /** How many times the barrier has tripped (wraps at 2^32). */
  get generation(): number {
    return native.syncInfo(Kind.Barrier, this.place.handle('Barrier'), this.place.offset).generation;
  }
  get broken(): boolean {
    return native.syncInfo(Kind.Barrier, this.place.handle('Barrier'), this.place.offset).broken;
  }

  #arrive(): [number, number] {
    const [code, generation] = native.syncArrive(this.place.handle('Barrier'), this.place.offset);
    if (code === Outcome.Broken) throw new BrokenBarrierError();
    return [code, generation];
  }

  #settle(code: number, what: string, timeout: number | undefined): boolean {
    if (code === Outcome.Broken) throw new BrokenBarrierError();
    if (code === Outcome.TimedOut) throw new TimeoutError(what, timeout);
    return false;
  }

  /**
   * Arrives and waits, without blocking the event loop, until all parties have arrived. Resolves
   * true for exactly one party of each generation (the one whose arrival tripped it), false for the
   * others. A timeout or an abort breaks the barrier for everyone (an arrival cannot be taken back).
   */
  async wait(options?: WaitOptions): Promise<boolean> {
    const { timeout, signal } = waitOptions(options);
    if (this.#pending) throw new RangeError('Barrier.wait: this Barrier object already has a wait pending (one party per thread)');
    const [code, generation] = this.#arrive();
    if (code === Outcome.Acquired) return true;
    this.#pending = true;
    try {
      const r = await acquireAsync(Op.BarrierPass, this.place.handle('Barrier'), this.place.offset, timeout, generation,
        signal, this);
      return this.#settle(r, 'Barrier.wait', timeout);
    } finally {
      this.#pending = false;
    }
  }

  /** Like wait(), blocking this thread. */
  waitSync(options?: WaitSyncOptions): boolean {
    const timeout = waitSyncOptions(options);
    if (this.#pending) throw new RangeError('Barrier.waitSync: this Barrier object already has a wait pending (one party per thread)');
    const [code, generation] = this.#arrive();
    if (code === Outcome.Acquired) return true;
    const r = native.syncAcquireSync(Op.BarrierPass, this.place.handle('Barrier'), this.place.offset, timeout, generation);
    return this.#settle(r, 'Barrier.waitSync', timeout);
  }

  /** Breaks the barrier on purpose: every waiter gets a BrokenBarrierError. */
  abort(): void {
    native.syncRelease(Rel.BarrierBreak, this.place.handle('Barrier'), this.place.offset);
  }

  /** Makes a broken barrier usable again (frees the slots of dead or departed parties). Call it when no party waits. */
  reset(): void {
    native.syncRelease(Rel.BarrierReset, this.place.handle('Barrier'), this.place.offset);
  }

  /**
   * Leaves the party set (this thread's slot is marked gone, which breaks the barrier for anyone
   * still waiting for it) and stops using the object. A named Barrier closes its segment.
   */
  /** Leaves the barrier (a party that leaves breaks it for the others, see docs/api.md), then closes. */
  override close(): void {
    if (this.place.closed) return;
    native.syncRelease(Rel.BarrierLeave, this.place.handle('Barrier'), this.place.offset);
    super.close();
  }

}
