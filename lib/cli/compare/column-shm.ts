// Column: shared memory with futex and locks: a SharedMemory segment, a robust Mutex around every
// access, futex wait/wake to sleep and wake. For a message stream this is the ring of slots a user
// must build by hand (the mailbox column is that ring done by the library, without the lock).
import fs from 'node:fs';
import { SharedMemory } from '../../shm/shared-memory';
import * as futex from '../../shm/futex';
import { Mutex } from '../../sync/mutex';
import { TimeoutError } from '../../internal/errors';
import { OwnerDeadError } from '../../sync/errors';
import type { Column, Transport } from './column';
import { check, retry, sleep } from './wire';

const HEAD = 0; // messages published (Int32 word of the ring header)
const TAIL = 1; // messages consumed
const READY = 2; // set by the creator once both rings are initialised
const MUTEX_AT = 64;
const SLOTS_AT = 128;

function geometry(size: number) {
  const slotBytes = Math.ceil((4 + size) / 64) * 64;
  const slots = Math.max(16, Math.min(256, Math.floor((1 << 20) / slotBytes)));
  const ringBytes = SLOTS_AT + slots * slotBytes;
  return { slotBytes, slots, ringBytes };
}

class SlotRing {
  readonly #i32: Int32Array;
  readonly #u8: Uint8Array;
  readonly #dv: DataView;
  readonly #mutex: Mutex;
  readonly #base: number;
  constructor(
    shm: SharedMemory,
    base: number,
    readonly slots: number,
    readonly slotBytes: number,
    init: boolean,
  ) {
    this.#base = base;
    this.#i32 = new Int32Array(shm.buffer, base, 16);
    this.#u8 = new Uint8Array(shm.buffer);
    this.#dv = new DataView(shm.buffer);
    this.#mutex = init ? Mutex.initAt(shm, base + MUTEX_AT) : Mutex.openAt(shm, base + MUTEX_AT);
  }
  #slot(n: number): number {
    return this.#base + SLOTS_AT + (n % this.slots) * this.slotBytes;
  }
  send(data: Buffer): void {
    const i32 = this.#i32;
    let head = Atomics.load(i32, HEAD);
    for (let tail = Atomics.load(i32, TAIL); head - tail >= this.slots; tail = Atomics.load(i32, TAIL)) {
      futex.wait(i32, TAIL, tail, 1000); // full: sleep until the reader consumes one
    }
    const guard = this.#mutex.lockSync();
    const at = this.#slot(head);
    this.#dv.setUint32(at, data.length, true);
    this.#u8.set(data, at + 4);
    Atomics.store(i32, HEAD, ++head);
    guard.unlock();
    futex.wake(i32, HEAD, 1);
  }
  receive(): Buffer {
    const i32 = this.#i32;
    const tail = Atomics.load(i32, TAIL);
    while (Atomics.load(i32, HEAD) === tail) futex.wait(i32, HEAD, tail, 1000); // empty: sleep until a write
    const guard = this.#mutex.lockSync();
    const at = this.#slot(tail);
    const len = Math.min(this.#dv.getUint32(at, true), this.slotBytes - 4); // bounded: the peer is not trusted
    const out = Buffer.from(this.#u8.subarray(at + 4, at + 4 + len)); // copy out
    Atomics.store(i32, TAIL, tail + 1);
    guard.unlock();
    futex.wake(i32, TAIL, 1);
    return out;
  }
}

// The fault scenario's segment: a Mutex, a total of updates, and one 64-byte record per peer.
const F_TOTAL = 16; // Int32 index (byte 64)
const F_REC = 128;

function faultViews(shm: SharedMemory) {
  return { i32: new Int32Array(shm.buffer), u8: new Uint8Array(shm.buffer), mutex: Mutex.openAt(shm, 0) };
}

// A wait for the lock this long gives up (null), so a side whose lock never comes back ends its task
// and says "did not carry on" instead of sleeping until the run's watchdog kills it.
const LOCK_PATIENCE_MS = 10_000;

// Locks; if the previous holder died, the state may be half-updated: recompute the total from the
// records (the repair a robust lock makes possible) and say so.
function lockRepairing(v: ReturnType<typeof faultViews>, onDeath: (how: string) => void, onInconsistent: () => void) {
  try {
    return v.mutex.lockSync({ timeout: LOCK_PATIENCE_MS });
  } catch (err) {
    if (err instanceof TimeoutError) return null;
    if (!(err instanceof OwnerDeadError)) throw err;
    onDeath('EOWNERDEAD from the robust Mutex it held');
    if (!consistent(v)) onInconsistent();
    repair(v);
    const guard = err.guard as { markConsistent(): void; unlock(): void };
    guard.markConsistent();
    return guard;
  }
}
// A record holds the peer's latest update number (0: none yet); the total counts every update, so a
// consistent segment has total = record 1 + record 2.
function recordSeq(v: ReturnType<typeof faultViews>, peer: number): number {
  return check(Buffer.from(v.u8.subarray(F_REC + (peer - 1) * 64, F_REC + peer * 64)), 64);
}
function consistent(v: ReturnType<typeof faultViews>): boolean {
  const a = recordSeq(v, 1);
  const b = recordSeq(v, 2);
  return a >= 0 && b >= 0 && v.i32[F_TOTAL] === a + b;
}
// Discards a half-written record and recomputes the total.
function repair(v: ReturnType<typeof faultViews>): void {
  for (const peer of [1, 2]) if (recordSeq(v, peer) < 0) v.u8.fill(0, F_REC + (peer - 1) * 64, F_REC + peer * 64);
  v.i32[F_TOTAL] = recordSeq(v, 1) + recordSeq(v, 2);
}

export const shmColumn: Column = {
  id: 'shm',
  title: 'shared memory (SharedMemory + futex + Mutex)',
  model: 'shared memory',
  reference: 'channel',
  mechanism: {
    communication: 'stores into a mapped /dev/shm segment (a ring of slots written by hand)',
    dataAccess: 'direct loads/stores; a copy into the slot and out of it per message',
    synchronisation: 'explicit: a robust Mutex per access, futex.wait/futex.wake to sleep and wake',
  },
  traits: { communication: 'implicit', dataAccess: 'direct', synchronisation: 'explicit' },
  example: 'shm.cjs',
  names: 'shm',
  crossesHosts: false,
  async pair({ name, size, role }) {
    const { slots, slotBytes, ringBytes } = geometry(size);
    let shm: SharedMemory;
    if (role === 'a') {
      shm = SharedMemory.create(name, { size: 2 * ringBytes });
    } else {
      shm = await retry(() => SharedMemory.open(name));
      const i32 = new Int32Array(shm.buffer, 0, 16);
      while (Atomics.load(i32, READY) === 0) await sleep(2);
    }
    const rings = [0, 1].map((r) => new SlotRing(shm, r * ringBytes, slots, slotBytes, role === 'a'));
    if (role === 'a') Atomics.store(new Int32Array(shm.buffer, 0, 16), READY, 1);
    const [out, inn] = role === 'a' ? rings : [rings[1], rings[0]];
    const t: Transport = {
      send: (d) => out.send(d),
      receive: () => inn.receive(),
      close() {
        shm.close();
        if (role === 'a') SharedMemory.unlink(name);
      },
    };
    return t;
  },
  fault: {
    kind: 'state',
    async hub(name, hub, stopped) {
      const shm = SharedMemory.create(name, { size: 4096 });
      Mutex.initAt(shm, 0);
      const v = faultViews(shm);
      repair(v);
      let done = false;
      stopped.then(() => (done = true));
      while (!done) {
        const guard = lockRepairing(
          v,
          (how) => hub.onDeath(1, how),
          () => hub.onInconsistent(),
        );
        if (guard === null) {
          await sleep(1); // the lock did not come back: nothing seen this round; the stop may come
          continue;
        }
        if (!consistent(v)) {
          hub.onInconsistent();
          repair(v);
        }
        const a = Buffer.from(v.u8.subarray(F_REC, F_REC + 64));
        const b = Buffer.from(v.u8.subarray(F_REC + 64, F_REC + 128));
        guard.unlock();
        hub.onMessage(1, a);
        hub.onMessage(2, b);
        await sleep(1);
      }
      shm.close();
      SharedMemory.unlink(name);
    },
    async peer(name, id, produce, stopped, onDeath, onInconsistent) {
      const shm = await retry(() => SharedMemory.open(name));
      const v = faultViews(shm);
      let seq = 0;
      while (!stopped()) {
        for (let i = 0; i < 64; i++) {
          const guard = lockRepairing(v, onDeath, onInconsistent);
          if (guard === null) break; // the lock did not come back: look at the stop, then try again
          v.u8.set(produce(++seq), F_REC + (id - 1) * 64);
          v.i32[F_TOTAL]++;
          guard.unlock();
        }
        await new Promise((r) => setImmediate(r));
      }
      shm.close();
      return seq;
    },
  },
  syncCost() {
    const shm = SharedMemory.anonymous({ size: 4096 });
    const mutex = Mutex.initAt(shm, 0);
    const i32 = new Int32Array(shm.buffer, 64, 4);
    const n = 20_000;
    for (let i = 0; i < 1000; i++) mutex.lockSync().unlock();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      mutex.lockSync().unlock();
      futex.wake(i32, 0, 1);
    }
    const ns = ((performance.now() - t0) * 1e6) / n;
    shm.close();
    return { ns, what: 'Mutex lockSync()+unlock() and one futex.wake per message, uncontended' };
  },
  securityObject() {
    const name = `/interproc-compare-sec-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const shm = SharedMemory.create(name, { size: 4096 });
    return {
      path: `/dev/shm${name}`,
      kind: 'file',
      close() {
        shm.close();
        SharedMemory.unlink(name);
        fs.rmSync(`/dev/shm${name}`, { force: true });
      },
    };
  },
};
