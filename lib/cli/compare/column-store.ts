// Column: shared memory over message passing (the Store, lib/store): an address space whose blocks
// each live in one owner process; every load, store, add or write of another process's block is a
// request message to its owner and a reply (a mailbox group on one host, TCP across hosts). It has no
// send/receive, so its rows measure its operations between a user process and the owner process
// (column.ts, OperationSides): an add for the round trip, writes each read back for the streams, a
// lock over the store for the synchronisation, and an owner SIGKILLed in the fault run.
import fs from 'node:fs';
import { Store } from '../../store/store';
import type { Column, OperationUser, PairOptions } from './column';
import { check, cpuMicros, fill, retry, sleep } from './wire';

// The pairs' layout: member 0 (the owner) owns the first half ('range'), blocks of 64 KiB so that a
// 64 KiB write is one request. Block 0: control cells, then the 64 B slots; blocks 1-4: 64 KiB slots.
const BLOCK = 1 << 16;
const LAYOUT = { size: 16 * BLOCK, blockSize: BLOCK, ownership: 'range' as const };
const COUNT = 0; // Int32 cells of block 0
const START = 1;
const STOP = 2;
const LOCK = 3;
const SMALL_AT = 4096;
/** In flight at once: 64 small writes (then their reads), or 4 blocks. */
const windowOf = (size: number) => (size <= 512 ? 64 : 4);
const slotOf = (size: number, i: number) => (size <= 512 ? SMALL_AT + i * size : (1 + i) * BLOCK);
const overTcp = (name: string) => name.startsWith('tcp://');

const ownerDead = (err: unknown) => {
  if ((err as { code?: string }).code !== 'ERR_STORE_OWNER_DEAD') throw err;
};

async function until(v: ReturnType<Store['int32']>, cell: number): Promise<void> {
  while ((await v.load(cell)) === 0) await v.waitAsync(cell, 0, 1000);
}

async function serve({ name }: PairOptions): Promise<number> {
  const store = overTcp(name)
    ? await Store.open({ ...LAYOUT, members: 1, id: 0, listen: name })
    : Store.create(name, { ...LAYOUT, members: 2, ringSize: 1 << 20 });
  try {
    const v = store.int32(0, 16);
    await until(v, START); // its own block: no message, a waiter the user's notify wakes
    const c0 = cpuMicros();
    await until(v, STOP);
    const cpu = cpuMicros() - c0;
    await sleep(20); // the reply to the user's last notify leaves at the end of the turn
    return cpu;
  } finally {
    await store.close();
    if (!overTcp(name)) Store.unlink(name);
  }
}

async function use({ name, size }: PairOptions): Promise<OperationUser> {
  const store = overTcp(name)
    ? await Store.open({ ...LAYOUT, members: 1, id: -1, peers: [name] })
    : await retry(() => Store.join(name, { id: 1 }));
  await store.ready({ timeout: 10_000 });
  const v = store.int32(0, 16);
  const k = windowOf(size);
  const bufs = Array.from({ length: k }, () => Buffer.alloc(size, 0x5a));
  let seq = 0;
  return {
    roundTrip: () => v.add(COUNT, 1),
    async batch() {
      const base = seq;
      seq += k;
      await Promise.all(bufs.map((b, i) => store.write(slotOf(size, i), fill(b, base + i))));
      const back = await Promise.all(bufs.map((_, i) => store.read(slotOf(size, i), size)));
      for (let i = 0; i < k; i++)
        if (check(back[i], size) !== base + i)
          throw new Error(`data check failed: write ${base + i} read back as ${check(back[i], size)}`);
      return 2 * k;
    },
    // The lock of docs/api/store.md, uncontended: compareExchange, then store + notify to release.
    async syncOnce() {
      if ((await v.compareExchange(LOCK, 0, 1)) !== 0) throw new Error('data check failed: the free lock was held');
      await v.store(LOCK, 0);
      await v.notify(LOCK, 1);
    },
    async start() {
      await v.store(START, 1);
      await v.notify(START);
    },
    async close() {
      await v.store(STOP, 1);
      await v.notify(STOP).catch(ownerDead); // the owner may be gone before its answer comes
      await store.close();
    },
  };
}

// The fault run's store: three members (the hub 0, peers 1 and 2), one 64-byte block each (cyclic:
// block p is member p's), in which each peer keeps its own record; the hub reads both records.
const FAULT = { members: 3, size: 3 * 64, blockSize: 64 };

export const storeColumn: Column = {
  id: 'store',
  title: 'shared memory over message passing (Store)',
  model: 'shared memory',
  reference: 'channel',
  mechanism: {
    communication:
      "load/store/add/read/write on a shared address space; each is a request to the block's owner process and its reply",
    dataAccess: "copied: into the request, at the owner, into the reply; no process maps another's blocks",
    synchronisation:
      'explicit: one-block operations are atomic at the owner; a multi-cell update needs a lock (compareExchange + waitAsync/notify)',
  },
  traits: { communication: 'implicit', dataAccess: 'copied', synchronisation: 'explicit' },
  example: 'store.cjs',
  names: 'shm',
  crossesHosts: true,
  operations: {
    what: {
      roundTrip: 'an add on a cell the other process owns: one request and its reply',
      stream: (size) =>
        `writes of ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}, ${windowOf(size)} in flight, each read back and checked`,
      sync: 'a lock over the store, uncontended, median cycle: compareExchange, then store + notify (3 requests to the owner); one-block operations need none',
    },
    serve,
    use,
  },
  fault: {
    kind: 'owned',
    async hub(name, hub, stopped) {
      const store = Store.create(name, FAULT);
      store.on('owner-down', (member) => {
        if (member === 1) hub.onDeath(1, "the store's 'owner-down' event (its blocks reject with ERR_STORE_OWNER_DEAD)");
      });
      let done = false;
      stopped.then(() => (done = true));
      // One sampling loop per record, so a read waiting for a dead owner holds up nothing else.
      const sample = async (peer: number) => {
        while (!done) {
          try {
            hub.onMessage(peer, await store.read(peer * 64, 64));
          } catch (err) {
            if (done) return; // closing: what is pending rejects
            ownerDead(err);
            if (peer === 1) {
              hub.onDeath(1, 'a read of its block rejected with ERR_STORE_OWNER_DEAD');
              hub.onLost(1);
            }
            return; // its blocks are gone (peer 2 leaves only at the end)
          }
          await sleep(1);
        }
      };
      await Promise.race([Promise.all([sample(1), sample(2)]), stopped]);
      await store.close();
      Store.unlink(name);
    },
    async peer(name, id, produce, stopped) {
      const store = await retry(() => Store.join(name, { id }));
      let seq = 0;
      while (!stopped()) {
        for (let i = 0; i < 64; i++) await store.write(id * 64, produce(++seq)); // its own block: no message
        await new Promise((r) => setImmediate(r));
      }
      await store.close();
      return seq;
    },
  },
  async securityObject() {
    const name = `/interproc-compare-sec-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const store = Store.create(name, { members: 2, size: 4096 });
    return {
      path: `/dev/shm${name}`,
      kind: 'file' as const,
      async close() {
        await store.close();
        Store.unlink(name);
        fs.rmSync(`/dev/shm${name}`, { force: true });
        fs.rmSync(`/dev/shm${name}-store`, { force: true });
      },
    };
  },
};
