// The collectives of a group on one host, through one shared segment: per member a lane (one cache
// line: its barrier count, its number and its reduction's description), a small slot (two sets, used
// in turn) and a large region. Numbers move by plain stores and Atomics over the mapping; a member
// entering a barrier bumps its own count and waits until every count has caught up, polling, then
// sleeping (futex) on the count of a member still missing. A small reduction is one barrier: each
// member writes its input into its lane or slot and reduces all of them.
// A large one is reduce-scatter then all-gather over slices of the regions, so each member reduces
// 1/size of the array and copies the rest: memory moves, not messages. Layout and proof of the
// slot reuse: docs/design/group.md#the-shared-segment.
import { native } from '../internal/binding';
import { GROUP_AREA_MAGIC, GROUP_AREA_VERSION } from '../internal/contract';
import { closedError, InterprocError } from '../internal/errors';
import * as futex from '../shm/futex';
import { SharedMemory } from '../shm/shared-memory';
import { TYPED_ARRAYS, type NumericArray } from './data';
import { type Kernel, reduceInto } from './ops';

// native/contract/contract.json: also what `interproc ls` recognises the segment by.
const MAGIC = GROUP_AREA_MAGIC; // the word 'IPGR'
const VERSION = GROUP_AREA_VERSION;
const MAX_MEMBERS = 64;
/** Int32 index of the sleepers word (byte 192, a cache line of its own): members asleep on a count. */
const SLEEPERS = 48;
/**
 * Member k's lane: the cache line at byte LANES_AT + 64 k. Int32 0: the barriers it has entered (the
 * futex word its waiters sleep on); Float64 1 + p: its number in a reduction of parity p; Int32
 * 6 + 4 p: the description [n low, n high, type, op] of that reduction. One line, so the count that
 * says "arrived" brings the number and the description with it.
 */
const LANES_AT = 1024;
const LANE_INTS = 16;
const ARRIVALS = LANES_AT / 4; // Int32 index of lane 0's count
const LANE_NUMBER = LANES_AT / 8 + 1; // Float64 index of lane 0's number (parity 0)
const LANE_DESC = ARRIVALS + 6; // Int32 index of lane 0's description (parity 0)
const SMALL_AT = 8192; // after the 64 lanes
/** The type code of Float64Array: a number is reduced as one. */
const FLOAT64 = TYPED_ARRAYS.indexOf(Float64Array);
/** Microseconds a polling waiter spins before it lets the event loop run once (to see deaths and timers). */
const POLL_SLICE_US = 1000;
/**
 * Microseconds a polling waiter spins before it starts to give its CPU away between polls
 * (sched_yield): past this, the member it waits for is most likely not running (another process
 * has its CPU), and spinning on would only keep it off longer. With more members than CPUs it
 * yields from the start, as Open MPI does when oversubscribed.
 */
const POLL_YIELD_AFTER_US = 50;

export interface Waiting {
  /** Poll until the barrier opens (never sleep). */
  poll: boolean;
  /** More members than CPUs: a poller yields its CPU between polls from the start. */
  oversubscribed: boolean;
  /** Microseconds to poll before sleeping, when not `poll`. */
  spin: number;
  /** The group's failure, once it has one: every wait rejects with it. */
  failure(): Error | undefined;
  /** Aborted (with the failure as reason) when the group fails. */
  signal: AbortSignal;
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function geometry(size: number, smallBytes: number, largeBytes: number) {
  const largeAt = align(SMALL_AT + 2 * size * smallBytes, 4096);
  return { largeAt, total: largeAt + size * largeBytes };
}

/** What a group's shared segment says of itself: its magic and version checked, its shape. */
export interface AreaShape {
  /** Members of the group. */
  size: number;
  /** Bytes of each member's small slot and large region. */
  smallBytes: number;
  largeBytes: number;
}

/**
 * @internal The shape recorded in the header of a group's shared segment (a read-only look, for
 * `interproc inspect`): null when `bytes` (its first 32 bytes or more) is not one this build
 * writes, or its total would not fit in `segmentSize`.
 */
export function areaShape(bytes: Uint8Array, segmentSize: number): AreaShape | null {
  if (bytes.byteLength < 32) return null;
  const h = new DataView(bytes.buffer, bytes.byteOffset, 32);
  const word = (i: number) => h.getUint32(i * 4, true);
  if (word(0) !== MAGIC || word(1) !== VERSION) return null;
  const shape = { size: word(2), smallBytes: word(3), largeBytes: word(4) };
  if (shape.size < 1 || shape.size > MAX_MEMBERS) return null;
  if (geometry(shape.size, shape.smallBytes, shape.largeBytes).total > segmentSize) return null;
  return shape;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SharedArea {
  readonly #shm: SharedMemory;
  /** Int32 words of the header and the lanes. */
  readonly #ctl: Int32Array;
  /** Float64 words of the header and the lanes (the numbers). */
  readonly #num: Float64Array;
  readonly #size: number;
  readonly #rank: number;
  readonly #smallBytes: number;
  readonly #largeBytes: number;
  readonly #largeAt: number;
  readonly #wait: Waiting;
  /** Reductions so far: its parity picks the slot set and the descriptor set. */
  #ops = 0;
  /** Barriers this member has entered (its lane's count; wraps, compared wrap-safe). */
  #entered = 0;
  /** In the current barrier, the first member not yet seen to arrive (those before it have). */
  #behind = 0;
  /** Full-length views of the small slots, per type code: [parity * size + member]. */
  readonly #slots = new Map<number, NumericArray[]>();
  /** The accumulator of reduceNumber and its other operand (so that reducing a number allocates no array). */
  readonly #acc = new Float64Array(1);
  readonly #other = new Float64Array(1);

  private constructor(shm: SharedMemory, size: number, rank: number, smallBytes: number, largeBytes: number, wait: Waiting) {
    this.#shm = shm;
    this.#ctl = new Int32Array(shm.buffer, 0, SMALL_AT / 4);
    this.#num = new Float64Array(shm.buffer, 0, SMALL_AT / 8);
    this.#size = size;
    this.#rank = rank;
    this.#smallBytes = smallBytes;
    this.#largeBytes = largeBytes;
    this.#largeAt = geometry(size, smallBytes, largeBytes).largeAt;
    this.#wait = wait;
  }

  /** Creates the segment `name`, or opens it if another member did; checks that everyone agrees on its shape. */
  static attach(name: string, size: number, rank: number, smallBytes: number, largeBytes: number, wait: Waiting): SharedArea {
    const { total } = geometry(size, smallBytes, largeBytes);
    let shm: SharedMemory;
    try {
      shm = SharedMemory.createInitialized(name, { size: total }, (s) => {
        const h = new Uint32Array(s.buffer, 0, 8);
        h[1] = VERSION;
        h[2] = size;
        h[3] = smallBytes;
        h[4] = largeBytes;
        h[0] = MAGIC;
      });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      shm = SharedMemory.open(name);
    }
    const h = new Uint32Array(shm.buffer, 0, 8);
    if (shm.size < total || h[0] !== MAGIC || h[1] !== VERSION || h[2] !== size || h[3] !== smallBytes || h[4] !== largeBytes) {
      const found = `size ${h[2]}, slots ${h[3]} B, regions ${h[4]} B, ${shm.size} B`;
      shm.close();
      throw new InterprocError(
        'ERR_GROUP_MISMATCH',
        `the group's shared segment ${name} has another shape (${found}) than this member expects (size ${size}, slots ${smallBytes} B, regions ${largeBytes} B)`,
      );
    }
    return new SharedArea(shm, size, rank, smallBytes, largeBytes, wait);
  }

  get closed(): boolean {
    return this.#shm.closed;
  }

  close(): void {
    this.#shm.close();
  }

  /** Resolves when every member has arrived; rejects with the group's failure if it fails first. */
  barrier(): Promise<void> {
    const failure = this.#wait.failure();
    if (failure !== undefined) return Promise.reject(failure);
    const b = this.#arrive();
    if (this.#allArrived(b)) return Promise.resolve();
    return this.#awaitArrivals(b);
  }

  /** Enters the next barrier: bumps this member's count (after its lane's other stores) and wakes its sleepers. */
  #arrive(): number {
    const ctl = this.#ctl;
    const b = (this.#entered + 1) | 0;
    this.#entered = b;
    this.#behind = 0;
    const at = ARRIVALS + this.#rank * LANE_INTS;
    Atomics.store(ctl, at, b);
    // Dekker with a sleeper: it counts itself, then sleeps only while the count it read is still there.
    if (Atomics.load(ctl, SLEEPERS) > 0) futex.wake(ctl, at);
    return b;
  }

  /**
   * Whether every member has entered barrier `b`. A member is never more than one barrier from
   * another (none passes b before all entered it), so a count's difference from b says it, wrapping.
   */
  #allArrived(b: number): boolean {
    const ctl = this.#ctl;
    const size = this.#size;
    for (let k = this.#behind; k < size; k++) {
      if ((((Atomics.load(ctl, ARRIVALS + k * LANE_INTS) as number) - b) | 0) < 0) {
        this.#behind = k;
        return false;
      }
    }
    this.#behind = size;
    return true;
  }

  /** Polls for up to `us` µs; true when everyone arrived at `b`. `yieldAfter`: µs before polls yield the CPU. */
  #spinUntil(b: number, us: number, yieldAfter: number): boolean {
    const start = performance.now();
    const deadline = start + us / 1000;
    const yieldFrom = start + yieldAfter / 1000;
    for (;;) {
      for (let i = 0; i < 64; i++) if (this.#allArrived(b)) return true;
      const t = performance.now();
      if (t >= deadline) return false;
      if (t >= yieldFrom) native.schedYield();
    }
  }

  async #awaitArrivals(b: number): Promise<void> {
    const ctl = this.#ctl;
    const wait = this.#wait;
    if (wait.poll) {
      const yieldAfter = wait.oversubscribed ? 0 : POLL_YIELD_AFTER_US;
      for (;;) {
        if (this.#spinUntil(b, POLL_SLICE_US, yieldAfter)) return;
        await yieldToLoop();
        if (this.#shm.closed) throw wait.failure() ?? closedError('ProcessGroup');
        if (this.#allArrived(b)) return; // it opened: a failure since then is the next call's
        const failure = wait.failure();
        if (failure !== undefined) throw failure;
      }
    }
    if (wait.spin > 0 && this.#spinUntil(b, wait.spin, Infinity)) return;
    for (;;) {
      // Arrivals first: a member that arrived and then left (BYE) or died completed this barrier.
      if (this.#allArrived(b)) return;
      const failure = wait.failure();
      if (failure !== undefined) throw failure;
      // Sleep on the count of the first member still missing, while it still reads what we saw.
      const at = ARRIVALS + this.#behind * LANE_INTS;
      const seen = Atomics.load(ctl, at);
      if (((seen - b) | 0) >= 0) continue;
      Atomics.add(ctl, SLEEPERS, 1);
      try {
        await futex.waitAsync(ctl, at, seen, undefined, { signal: wait.signal });
      } catch (err) {
        if (!this.#shm.closed && this.#allArrived(b)) return;
        throw wait.failure() ?? err;
      } finally {
        if (!this.#shm.closed) Atomics.sub(ctl, SLEEPERS, 1);
      }
    }
  }

  /** Whether a reduction of `n` elements of `bytesPer` bytes takes the one-barrier path. */
  isSmall(n: number, bytesPer: number): boolean {
    return n * bytesPer <= this.#smallBytes;
  }

  /**
   * Reduces every member's `input` (same length, type and operation everywhere) with `kernel`, in
   * rank order, into `out` on `root` (or on every member when root is -1). `out` may be `input`.
   */
  async reduce(input: NumericArray, kernel: Kernel, op: number, root: number, out: NumericArray | undefined): Promise<void> {
    const n = input.length;
    const code = TYPED_ARRAYS.indexOf(input.constructor as (typeof TYPED_ARRAYS)[number]);
    const parity = this.#ops++ & 1;
    this.#describe(parity, n, code, op);
    if (this.isSmall(n, input.BYTES_PER_ELEMENT)) await this.#reduceSmall(input, kernel, parity, code, root, out);
    else await this.#reduceLarge(input, kernel, parity, code, root, out);
  }

  /**
   * reduce() of one number (as a 1-element Float64Array, without allocating one): the result on
   * `root` (or on every member when root is -1), undefined on the others.
   */
  async reduceNumber(value: number, kernel: Kernel, op: number, root: number): Promise<number | undefined> {
    const parity = this.#ops++ & 1;
    this.#describe(parity, 1, FLOAT64, op);
    const num = this.#num;
    const size = this.#size;
    const me = this.#rank;
    const at = LANE_NUMBER + parity; // lane k's number: at + 8 k
    num[at + 8 * me] = value;
    await this.barrier();
    this.#checkDescriptions(parity);
    if (root >= 0 && root !== me) return undefined;
    // In rank order, as #reduceSmall: acc = v0 op v1, then acc op v2, ...
    const acc = this.#acc;
    const other = this.#other;
    acc[0] = num[at] as number;
    for (let k = 1; k < size; k++) {
      other[0] = num[at + 8 * k] as number;
      kernel(acc, acc, other, 1);
    }
    return acc[0];
  }

  #describe(parity: number, n: number, code: number, op: number): void {
    const d = this.#ctl;
    const at = LANE_DESC + this.#rank * LANE_INTS + 4 * parity;
    d[at] = (n % 2 ** 32) | 0;
    d[at + 1] = Math.floor(n / 2 ** 32);
    d[at + 2] = code;
    d[at + 3] = op;
  }

  /** After the first barrier of a reduction: every member passed the same length, type and operation. */
  #checkDescriptions(parity: number): void {
    const d = this.#ctl;
    const mine = LANE_DESC + this.#rank * LANE_INTS + 4 * parity;
    for (let k = 0; k < this.#size; k++) {
      const at = LANE_DESC + k * LANE_INTS + 4 * parity;
      for (let w = 0; w < 4; w++) {
        if (d[at + w] !== d[mine + w]) {
          const len = (i: number) => ((d[i] as number) >>> 0) + (d[i + 1] as number) * 2 ** 32;
          throw new InterprocError(
            'ERR_GROUP_MISMATCH',
            `reduction arguments differ: rank ${this.#rank} has ${len(mine)} elements of type ${d[mine + 2]}, op ${d[mine + 3]}; ` +
              `rank ${k} has ${len(at)} elements of type ${d[at + 2]}, op ${d[at + 3]}`,
          );
        }
      }
    }
  }

  #slotViews(code: number): NumericArray[] {
    let views = this.#slots.get(code);
    if (views === undefined) {
      const Ctor = TYPED_ARRAYS[code] as unknown as new (b: ArrayBufferLike, o: number, l: number) => NumericArray;
      const per = this.#smallBytes / (TYPED_ARRAYS[code] as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      views = [];
      for (let i = 0; i < 2 * this.#size; i++) views.push(new Ctor(this.#shm.buffer, SMALL_AT + i * this.#smallBytes, per));
      this.#slots.set(code, views);
    }
    return views;
  }

  async #reduceSmall(
    input: NumericArray,
    kernel: Kernel,
    parity: number,
    code: number,
    root: number,
    out: NumericArray | undefined,
  ): Promise<void> {
    const views = this.#slotViews(code);
    const size = this.#size;
    const me = this.#rank;
    const base = parity * size;
    (views[base + me] as Uint8Array).set(input as Uint8Array);
    await this.barrier();
    this.#checkDescriptions(parity);
    if (out === undefined || (root >= 0 && root !== me)) return;
    const n = input.length;
    if (size === 1) {
      if (out !== input) (out as Uint8Array).set(input as Uint8Array);
      return;
    }
    // In place, my input is overwritten by the first step: read my copy in the slot instead.
    const own = out === input ? (views[base + me] as NumericArray) : input;
    const first = me === 0 ? own : (views[base] as NumericArray);
    const second = me === 1 ? own : (views[base + 1] as NumericArray);
    kernel(out, first, second, n);
    for (let k = 2; k < size; k++) kernel(out, out, k === me ? own : (views[base + k] as NumericArray), n);
  }

  async #reduceLarge(
    input: NumericArray,
    kernel: Kernel,
    parity: number,
    code: number,
    root: number,
    out: NumericArray | undefined,
  ): Promise<void> {
    const Ctor = TYPED_ARRAYS[code] as unknown as new (b: ArrayBufferLike, o: number, l: number) => NumericArray;
    const bpe = input.BYTES_PER_ELEMENT;
    const size = this.#size;
    const me = this.#rank;
    const n = input.length;
    const chunk = Math.floor(this.#largeBytes / bpe);
    const wantsResult = root < 0 || root === me;
    const regions: NumericArray[] = [];
    for (let k = 0; k < size; k++) regions.push(new Ctor(this.#shm.buffer, this.#largeAt + k * this.#largeBytes, chunk));
    const mine = regions[me] as NumericArray;
    const sub = (a: NumericArray, s: number, e: number) => a.subarray(s, e) as NumericArray;
    for (let c0 = 0, first = true; c0 < n; c0 += chunk, first = false) {
      const m = Math.min(chunk, n - c0);
      const bound = (k: number) => Math.floor((k * m) / size);
      const s = bound(me);
      const e = bound(me + 1);
      // 1. Publish the slices the others reduce (my own slice I read from my input, unless the
      // result overwrites the input: then from my region too).
      const inPlace = out === input;
      if (inPlace) (mine as Uint8Array).set(sub(input, c0, c0 + m) as Uint8Array, 0);
      else {
        (mine as Uint8Array).set(sub(input, c0, c0 + s) as Uint8Array, 0);
        (mine as Uint8Array).set(sub(input, c0 + e, c0 + m) as Uint8Array, e);
      }
      await this.barrier();
      if (first) this.#checkDescriptions(parity);
      // 2. Reduce my slice over every member, in rank order; keep it in my region for the others.
      const inputs: NumericArray[] = [];
      for (let k = 0; k < size; k++)
        inputs.push(k === me && !inPlace ? sub(input, c0 + s, c0 + e) : sub(regions[k] as NumericArray, s, e));
      const othersNeedIt = root < 0 ? size > 1 : root !== me;
      if (wantsResult && out !== undefined) {
        const target = sub(out, c0 + s, c0 + e);
        reduceInto(target, inputs, kernel, e - s);
        if (othersNeedIt) (sub(mine, s, e) as Uint8Array).set(target as Uint8Array);
      } else if (othersNeedIt) {
        reduceInto(sub(mine, s, e), inputs, kernel, e - s);
      }
      await this.barrier();
      // 3. Gather the others' reduced slices.
      if (wantsResult && out !== undefined) {
        for (let k = 0; k < size; k++) {
          if (k === me) continue;
          const ks = bound(k);
          const ke = bound(k + 1);
          (sub(out, c0 + ks, c0 + ke) as Uint8Array).set(sub(regions[k] as NumericArray, ks, ke) as Uint8Array);
        }
      }
      // 4. Nobody reads the regions any more: they may be written again.
      await this.barrier();
    }
  }
}
