// The segment of a mailbox group and who is in it: the mapping and its geometry (read from the
// header the creator published, checked natively), and the member slots. A slot records which
// process holds a member id (pid + start time, lib/internal/liveness.ts) and where its doorbells
// are; its generation word is a seqlock, odd while a joiner or a leaver rewrites the identity, so
// a reader never takes half of one incarnation and half of another. Layout: native/core/mailbox/
// ring.hpp; protocol: docs/protocol/mailbox-segment.md.
import { native, type Handle } from '../internal/binding';
import { InterprocError } from '../internal/errors';
import { isAlive, selfIdentity, startTimeOf } from '../internal/liveness';
import { SharedMemory } from '../shm/shared-memory';
import { layout, possibleIndices } from './ring';

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

/** What one ring holds now, read for inspection (`interproc inspect`). */
export interface RingFill {
  from: number;
  to: number;
  /** Bytes published and not yet released (tail - head); 0 when the indices are impossible. */
  bytes: number;
  capacity: number;
  /** The indices are possible (docs/protocol/mailbox-segment.md): else the ring is corrupt. */
  intact: boolean;
  /** The receiver sleeps waiting for this ring (its sleep flag: MailboxSleep). */
  consumerSleep: number;
  /** The sender sleeps waiting for room in it. */
  producerSleep: number;
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
// gen and pid are the two words of one aligned 64-bit word (slots sit at 64 + 64·m): joins CAS them together.
if (layout.slotGen !== 0 || layout.slotPid !== 4 || layout.groupHeaderSize % 8 !== 0 || layout.memberSlotSize % 8 !== 0) {
  throw new Error('interproc: the member slot layout does not keep gen and pid in one 64-bit word');
}
const START_LO = layout.slotStartLo >> 2;
const START_HI = layout.slotStartHi >> 2;
const EVENTFD = layout.slotEventfd >> 2;
const DEATH = layout.slotDeath >> 2;
// The kernel's robust futex word format (linux/futex.h), as the death word holds it.
const FUTEX_OWNER_DIED = 0x40000000;
const FUTEX_TID_MASK = 0x3fffffff;

/** gen (low word) and pid (high word) of a slot, as the 64-bit word a join swaps in one CAS. */
function identityWord(gen: number, pid: number): bigint {
  return BigInt(gen) | (BigInt(pid) << 32n);
}

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
  /** The same memory as 64-bit words: a slot's (gen, pid) pair is one of them (joins CAS it). */
  readonly #u64: BigUint64Array;
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
    this.#u64 = new BigUint64Array(shm.buffer, 0, Math.floor(shm.buffer.byteLength / 8));
    this.buf = Buffer.from(shm.buffer);
    this.arrayBuffer = shm.buffer;
    this.members = members;
    this.capacity = capacity;
    this.#ringsOffset = ringsOffset;
    this.#stride = stride;
  }

  /** True once another process truncated the segment (SharedMemory#truncated). */
  get truncated(): boolean {
    return this.#shm.truncated;
  }

  /** Throws ERR_SHM_TRUNCATED when the segment was truncated: every send and receive checks. */
  assertIntact(): void {
    SharedMemory.assertIntact(this.#shm);
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

  /**
   * @internal Opens `name` (normalised) read-only, for inspection: a private mapping that nothing
   * here writes back, no member slot taken, no clean-up hook. Throws ERR_MAILBOX_INCOMPATIBLE when
   * it is not a group this build reads (also while its header is not published), or the open's error.
   */
  static inspect(name: string): GroupSegment {
    const shm = SharedMemory.open(name, { readonly: true });
    try {
      const geometry = native.mailboxCheck(SharedMemory.handleOf(shm));
      if (geometry === null) throw notInitialised(name);
      return new GroupSegment(shm, geometry);
    } catch (err) {
      shm.close();
      throw err;
    }
  }

  /** How full the ring from `from` to `to` is now (one load of each index and sleep flag). */
  ringFill(from: number, to: number): RingFill {
    const at = this.ringOffset(from, to);
    const u = this.u32;
    const tail = Atomics.load(u, (at + layout.ringTail) >> 2);
    const head = Atomics.load(u, (at + layout.ringHead) >> 2);
    const intact = possibleIndices(head, tail, this.capacity);
    return {
      from,
      to,
      bytes: intact ? (tail - head) >>> 0 : 0,
      capacity: this.capacity,
      intact,
      consumerSleep: Atomics.load(u, (at + layout.ringConsumerSleep) >> 2),
      producerSleep: Atomics.load(u, (at + layout.ringProducerSleep) >> 2),
    };
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

  /** The thread that holds member `id`'s death word now (its tid), or 0: none, or it died. */
  deathHolder(id: number): number {
    const w = Atomics.load(this.u32, this.#base(id) + DEATH);
    return w & FUTEX_OWNER_DIED ? 0 : w & FUTEX_TID_MASK;
  }

  /** Member `id`'s death word says its holder died (the kernel's owner-dead mark, no holder). */
  diedMark(id: number): boolean {
    const w = Atomics.load(this.u32, this.#base(id) + DEATH);
    return (w & FUTEX_OWNER_DIED) !== 0 && (w & FUTEX_TID_MASK) === 0;
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
      const w = Atomics.load(this.#u64, base >> 1); // gen and pid together, as a join wrote them
      const g1 = Number(w & 0xffffffffn);
      const pid = Number(w >> 32n);
      const start = Atomics.load(u, base + START_LO) + Atomics.load(u, base + START_HI) * 2 ** 32;
      const efd = Atomics.load(u, base + EVENTFD) | 0;
      const g2 = Atomics.load(u, base + GEN);
      if (g1 !== g2) continue;
      if (g1 & 1) {
        // A join (or leave) in progress by `pid`, which the joiner's CAS wrote together with the odd
        // generation; its start time may be half-written, so only its pid says whether it still
        // runs. Taken over only when no such process exists (or none is named: no honest member
        // leaves that state).
        const dead = pid === 0 || startTimeOf(pid) < 0;
        return { gen: g1, pid, start, efd: -1, state: dead ? 'dead' : 'alive' };
      }
      if (pid === 0) return { gen: g1, pid, start, efd, state: g1 === 0 ? 'free' : 'left' };
      // The death word marked owner-dead: the holder's exit has begun (its pid may still be in /proc).
      if (this.diedMark(id)) return { gen: g1, pid, start, efd, state: 'dead' };
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
      const writing = (s.gen & 1 ? s.gen + 2 : s.gen + 1) >>> 0; // odd while we write our identity
      // One CAS of gen and pid together: the slot is ours only if nobody moved either since we read
      // them, and from then on an odd generation names us, so no other joiner can take it from us
      // half-way (it would have to find this very process gone).
      const seen = identityWord(s.gen, s.pid);
      if (Atomics.compareExchange(this.#u64, base >> 1, seen, identityWord(writing, pid)) !== seen) continue; // lost a race
      Atomics.store(this.u32, base + START_LO, startTime % 2 ** 32);
      Atomics.store(this.u32, base + START_HI, Math.floor(startTime / 2 ** 32));
      Atomics.store(this.u32, base + EVENTFD, efd >>> 0);
      // The last incarnation's owner-dead mark goes before the slot is published: it would name us
      // dead. The joining thread takes the word right after (native.mailboxHold).
      Atomics.store(this.u32, base + DEATH, 0);
      Atomics.store(this.u32, base + GEN, (writing + 1) >>> 0);
      return { id, gen: (writing + 1) >>> 0 };
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

  /**
   * Leaves cleanly: odd generation (still naming this process) while the identity is cleared, then
   * "left" (pid 0 and gen + 2 in one store). Nothing is written when the slot no longer holds this
   * incarnation (a joiner found it dead and took it). native/core/mailbox/slot.cpp does the same.
   */
  leave({ id, gen }: Membership): void {
    const base = this.#base(id);
    const { pid } = selfIdentity();
    const held = identityWord(gen, pid);
    if (Atomics.compareExchange(this.#u64, base >> 1, held, identityWord((gen + 1) >>> 0, pid)) !== held) return;
    Atomics.store(this.u32, base + EVENTFD, 0xffffffff);
    Atomics.store(this.#u64, base >> 1, identityWord((gen + 2) >>> 0, 0));
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
