// The segment of a mailbox group and who is in it: the mapping and its geometry (read from the
// header the creator published, checked natively), and the member slots. A slot records which
// process holds a member id (pid + start time, lib/internal/liveness.ts) and where its doorbells
// are; its generation word is a seqlock, odd while a joiner or a leaver rewrites the identity, so
// a reader never takes half of one incarnation and half of another. Layout: native/core/mailbox/
// ring.hpp; protocol: docs/protocol/mailbox-segment.md.
import { native, type Handle } from '../internal/binding';
import { InterprocError } from '../internal/errors';
import { isAlive, selfIdentity } from '../internal/liveness';
import { SharedMemory } from '../shm/shared-memory';
import { layout } from './ring';

export type MemberState = 'self' | 'alive' | 'dead' | 'left' | 'free';
export interface MemberInfo {
  id: number;
  pid: number | null;
  state: MemberState;
}

/** A consistent read of one member slot and what it means now. */
export interface Slot {
  /** The generation: moves on with every join and leave (odd while one is in progress). */
  gen: number;
  pid: number;
  /** The holder's start time (lib/internal/liveness.ts): with `pid`, names its incarnation. */
  start: number;
  /** The member's eventfd doorbell, as a descriptor number in its own process; -1 when none. */
  efd: number;
  state: Exclude<MemberState, 'self'>;
}

/** The slot this process took: its id and the generation that names this incarnation. */
export interface Membership {
  id: number;
  gen: number;
}

/** [members, ring capacity, offset of the first ring, bytes from one ring to the next] */
type Geometry = [number, number, number, number];

// Word indexes of a slot's fields, from the slot's first word.
const GEN = layout.slotGen >> 2;
const PID = layout.slotPid >> 2;
const START_LO = layout.slotStartLo >> 2;
const START_HI = layout.slotStartHi >> 2;
const EVENTFD = layout.slotEventfd >> 2;

/** How often, 2 ms apart, join() re-opens a segment whose header is not published yet. */
const JOIN_ATTEMPTS = 50;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function notInitialised(name: string): InterprocError {
  return new InterprocError(
    'ERR_MAILBOX_INCOMPATIBLE',
    `'${name}' holds no initialised mailbox group (its header is not published)`,
  );
}

/** ERR_MAILBOX_PEER_DEAD or ERR_MAILBOX_PEER_CLOSED for member `id`, with `member` and `pid`. */
export function peerError(code: 'ERR_MAILBOX_PEER_DEAD' | 'ERR_MAILBOX_PEER_CLOSED', id: number, pid: number): InterprocError {
  const what = code === 'ERR_MAILBOX_PEER_DEAD' ? `died (pid ${pid})` : 'left the group';
  return Object.assign(new InterprocError(code, `mailbox member ${id} ${what}`), { member: id, pid });
}

export class GroupSegment {
  readonly #shm: SharedMemory;
  readonly handle: Handle;
  readonly u32: Uint32Array;
  readonly buf: Buffer;
  /** buf's, cached: a Buffer's .buffer is a slow lookup (see ring.ts). */
  readonly arrayBuffer: ArrayBuffer;
  readonly members: number;
  /** Bytes of each ring's data area. */
  readonly capacity: number;
  readonly #ringsOffset: number;
  readonly #stride: number;

  private constructor(shm: SharedMemory, [members, capacity, ringsOffset, stride]: Geometry) {
    this.#shm = shm;
    this.handle = SharedMemory.handleOf(shm);
    this.u32 = new Uint32Array(shm.buffer);
    this.buf = Buffer.from(shm.buffer);
    this.arrayBuffer = shm.buffer;
    this.members = members;
    this.capacity = capacity;
    this.#ringsOffset = ringsOffset;
    this.#stride = stride;
  }

  /**
   * Creates the segment `name` (exclusive, normalised) for `members` members and hands it to
   * `join` before the name appears, so a process joining at once can never take the creator's slot
   * or see an uninitialised group. What `join` returns is closed again if publishing fails.
   */
  static create<T extends { close(): void }>(
    name: string,
    members: number,
    ringSize: number,
    mode: number | undefined,
    join: (segment: GroupSegment) => T,
  ): T {
    const size = native.mailboxSize(members, ringSize);
    let joined: T | undefined;
    SharedMemory.createInitialized(
      name,
      { size, mode },
      (shm) => {
        native.mailboxInit(SharedMemory.handleOf(shm), members, ringSize);
        const geometry = native.mailboxCheck(SharedMemory.handleOf(shm));
        if (geometry === null) throw notInitialised(name); // cannot happen after mailboxInit
        joined = join(new GroupSegment(shm, geometry));
      },
      () => joined?.close(),
    );
    return joined!;
  }

  /**
   * Opens the existing segment `name` (normalised) and hands it to `join`; the segment is closed
   * again if `join` throws. A creator that makes the object, sizes it and publishes the header last
   * (not this library's, which publishes the name last) may be caught half-way: the header is then
   * re-read for a while (native.mailboxCheck returns null until it is published).
   */
  static open<T>(name: string, join: (segment: GroupSegment) => T): T {
    for (let attempt = 0; ; attempt++) {
      const shm = SharedMemory.open(name);
      let geometry: Geometry | null;
      try {
        geometry = native.mailboxCheck(SharedMemory.handleOf(shm));
      } catch (err) {
        shm.close();
        throw err;
      }
      if (geometry === null) {
        shm.close();
        if (attempt >= JOIN_ATTEMPTS) throw notInitialised(name);
        sleepMs(2);
        continue;
      }
      try {
        return join(new GroupSegment(shm, geometry));
      } catch (err) {
        shm.close();
        throw err;
      }
    }
  }

  get name(): string | null {
    return this.#shm.name;
  }

  /** Byte offset of the ring from member `from` to member `to` (a member has no ring to itself). */
  ringOffset(from: number, to: number): number {
    return this.#ringsOffset + (from * (this.members - 1) + (to < from ? to : to - 1)) * this.#stride;
  }

  /** Byte offset of member `id`'s futex bell (bumped by a waker before FUTEX_WAKE). */
  bellOffset(id: number): number {
    return layout.groupHeaderSize + id * layout.memberSlotSize + layout.slotBell;
  }

  #base(id: number): number {
    return (layout.groupHeaderSize + id * layout.memberSlotSize) >> 2;
  }

  /** The slot's generation now, without the rest (one load: for caches keyed by incarnation). */
  gen(id: number): number {
    return Atomics.load(this.u32, this.#base(id) + GEN);
  }

  /** A consistent read of slot `id` (seqlock) and what it means; costs a /proc read when held. */
  read(id: number): Slot {
    const base = this.#base(id);
    const u = this.u32;
    for (;;) {
      const g1 = Atomics.load(u, base + GEN);
      const pid = Atomics.load(u, base + PID);
      const start = Atomics.load(u, base + START_LO) + Atomics.load(u, base + START_HI) * 2 ** 32;
      const efd = Atomics.load(u, base + EVENTFD) | 0;
      const g2 = Atomics.load(u, base + GEN);
      if (g1 !== g2) continue;
      if (g1 & 1) {
        // A join in progress; if the joiner died half-way, the slot is as good as dead.
        const dead = pid !== 0 && !isAlive(pid, start);
        return { gen: g1, pid, start, efd: -1, state: dead ? 'dead' : 'alive' };
      }
      if (pid === 0) return { gen: g1, pid, start, efd, state: g1 === 0 ? 'free' : 'left' };
      return { gen: g1, pid, start, efd, state: isAlive(pid, start) ? 'alive' : 'dead' };
    }
  }

  /** Who holds slot `id` now (for another member's id; the caller knows its own). */
  info(id: number): MemberInfo {
    const s = this.read(id);
    return { id, pid: s.pid === 0 ? null : s.pid, state: s.state };
  }

  /**
   * Takes slot `want` (or the first takeable one: free, left, or held by a dead process) for this
   * process, recording `efd` as its doorbell. Throws ERR_MAILBOX_MEMBER_TAKEN or ERR_MAILBOX_FULL.
   */
  claim(want: number | undefined, efd: number): Membership {
    const ids = want === undefined ? [...Array(this.members).keys()] : [want];
    const { pid, startTime } = selfIdentity();
    for (const id of ids) {
      const s = this.read(id);
      if (s.state === 'alive') continue;
      const base = this.#base(id);
      const writing = s.gen & 1 ? s.gen + 2 : s.gen + 1; // odd while we write our identity
      if (Atomics.compareExchange(this.u32, base + GEN, s.gen, writing) !== s.gen) continue; // lost a race
      Atomics.store(this.u32, base + PID, pid);
      Atomics.store(this.u32, base + START_LO, startTime % 2 ** 32);
      Atomics.store(this.u32, base + START_HI, Math.floor(startTime / 2 ** 32));
      Atomics.store(this.u32, base + EVENTFD, efd >>> 0);
      Atomics.store(this.u32, base + GEN, writing + 1);
      return { id, gen: writing + 1 };
    }
    if (want !== undefined) {
      const s = this.read(want);
      throw Object.assign(
        new InterprocError('ERR_MAILBOX_MEMBER_TAKEN', `mailbox member ${want} is held by a live process (pid ${s.pid})`),
        { member: want, pid: s.pid },
      );
    }
    throw new InterprocError('ERR_MAILBOX_FULL', `all ${this.members} members of the mailbox group are held by live processes`);
  }

  /** Leaves cleanly: odd generation while the identity changes, then free (pid 0, no doorbell). */
  leave({ id, gen }: Membership): void {
    const base = this.#base(id);
    Atomics.store(this.u32, base + GEN, gen + 1);
    Atomics.store(this.u32, base + PID, 0);
    Atomics.store(this.u32, base + EVENTFD, 0xffffffff);
    Atomics.store(this.u32, base + GEN, gen + 2);
  }

  /** Why waiting on member `id` is pointless, if it is: it died, or left. */
  gone(id: number): InterprocError | undefined {
    const s = this.read(id);
    if (s.state === 'dead') return peerError('ERR_MAILBOX_PEER_DEAD', id, s.pid);
    if (s.state === 'left') return peerError('ERR_MAILBOX_PEER_CLOSED', id, s.pid);
    return undefined;
  }

  /** Unmaps the segment (does not unlink its name). */
  close(): void {
    this.#shm.close();
  }
}
