// The read cache (options.cache): members in separate processes cache the blocks they read; the
// owner invalidates every copy before a change to the block completes. Checked: a read after a
// write's reply never sees the old value (a writer and three readers; and random histories through
// the linearizability checker), a cached read sends no request, a dead or stopped holder, hostile
// invalidation traffic, the cap, and unknown option names.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist';
import { fixture, leftoverShm, nextMessage, uniqueName } from '../helpers/util';
import { cluster, command, LAYOUT, stopCluster } from './helpers';
import { linearizable, type Operation } from './linearizability';

interface Stats {
  served: number;
  invalidationsSent: number;
  cache: { blocks: number; hits: number; misses: number; evictions: number; invalidated: number } | undefined;
}

const children: ChildProcess[] = [];
let store: Store | undefined;
let name: string | undefined;
afterEach(async () => {
  await stopCluster(store, name, children);
  store = undefined;
  name = undefined;
});

const statsOf = async (child: ChildProcess) => (await command<{ stats: Stats }>(child, 'stats')).stats;
const exitOf = (child: ChildProcess) => new Promise((r) => child.once('exit', r));

describe.each(['mailbox', 'tcp'] as const)('the read cache over %s', (kind) => {
  it('one writer and three caching readers: after each write has its reply, every reader loads the new value', async () => {
    name = kind === 'mailbox' ? uniqueName('store-cache') : undefined;
    const c = await cluster(kind, 4, name ?? '', children, {}, { cache: true });
    store = c.store;
    const v = store.int32();
    const cells = [0, 1024, 2048, 3072]; // blocks 0..3: owners 0 (the writer, here), 1, 2, 3 (the readers)
    const watching = c.kids.map((k) =>
      command<{ loads: number; stale: number; max: number; stats: Stats }>(k.child, 'watch', { cells }),
    );
    const ROUNDS = 60;
    for (let seq = 1; seq <= ROUNDS; seq++) {
      await Promise.all(cells.map((cell) => v.store(cell, seq)));
      // Only now (every store has its reply) do the readers learn seq, through another channel (IPC).
      await Promise.all(
        c.kids.map((k) => {
          const saw = nextMessage(k.child, (m) => m.saw === seq);
          k.child.send({ seq });
          return saw;
        }),
      );
    }
    for (const k of c.kids) k.child.send({ stop: true });
    const results = await Promise.all(watching);
    for (const r of results) {
      expect(r.stale).toBe(0); // no load started after learning seq returned less
      expect(r.max).toBe(ROUNDS);
      expect(r.stats.cache?.hits).toBeGreaterThan(0); // the loads were answered from copies...
      expect(r.stats.cache?.invalidated).toBeGreaterThan(0); // ...which the writes invalidated
    }
    expect(store.stats().invalidationsSent).toBeGreaterThan(0); // the writer's own block was cached too
  });

  it('3 caching processes x 400 random load/store/compareExchange on 3 cells of 3 owners: linearizable', async () => {
    name = kind === 'mailbox' ? uniqueName('store-cache-lin') : undefined;
    const c = await cluster(kind, 4, name ?? '', children, { cache: true }, { cache: true });
    store = c.store;
    const cells = [0, 1024, 2048]; // blocks 0, 1, 2: owners 0, 1, 2
    const results = await Promise.all(
      c.kids.map((k, i) => command<{ history: Operation[] }>(k.child, 'history', { n: 400, cells, seed: 2000 + i })),
    );
    const history = results.flatMap((r) => r.history);
    expect(history).toHaveLength(1200);
    expect(linearizable(history)).toEqual({ ok: true });
    const stats = await Promise.all(c.kids.map((k) => statsOf(k.child)));
    expect(stats.reduce((n, s) => n + (s.cache?.hits ?? 0), 0)).toBeGreaterThan(0);
    // Tampered (a load's result replaced by a value nobody wrote) it is rejected: the check can fail.
    const i = history.findIndex((h) => h.op === 'load');
    expect(linearizable(history.map((h, k) => (k === i ? { ...h, result: 99 } : h))).ok).toBe(false);
  });

  it('a cached read sends no request: the owner serves the FETCH once, then nothing until a write', async () => {
    name = kind === 'mailbox' ? uniqueName('store-cache-count') : undefined;
    const c = await cluster(kind, 2, name ?? '', children, { cache: true }, {});
    store = c.store;
    const owner = (c.kids[0] as { child: ChildProcess }).child;
    const v = store.int32();
    const cell = 1024; // block 1: member 1's
    const before = (await statsOf(owner)).served;
    await v.store(cell, 5);
    expect(await v.load(cell)).toBe(5); // a miss: one FETCH
    const fetched = (await statsOf(owner)).served;
    expect(fetched - before).toBe(2);
    for (let i = 0; i < 1000; i++) expect(await v.load(cell)).toBe(5);
    expect((await store.read(4096 + 8, 8)).length).toBe(8);
    expect((await statsOf(owner)).served).toBe(fetched); // 1001 reads, no request
    expect(store.stats().cache).toMatchObject({ hits: 1001, misses: 1, blocks: 1 });
    await v.store(cell, 6); // invalidates this member's copy before its reply
    expect(await v.load(cell)).toBe(6);
    expect((await statsOf(owner)).served).toBe(fetched + 2);
    expect((await statsOf(owner)).invalidationsSent).toBe(1);
    expect(store.stats().cache).toMatchObject({ misses: 2, invalidated: 1 });
  });

  it('a holder stopped holds a write to its blocks back; SIGKILLed, the write completes', async () => {
    name = kind === 'mailbox' ? uniqueName('store-cache-kill') : undefined;
    const c = await cluster(kind, 2, name ?? '', children, {}, { cache: true });
    store = c.store;
    const holder = (c.kids[0] as { child: ChildProcess }).child;
    const v = store.int32();
    await v.store(1, 3); // block 0: this member's
    expect((await command<{ hex: string }>(holder, 'read', { address: 4, length: 4 })).hex).toBe('03000000'); // now cached there
    holder.kill('SIGSTOP');
    let done = false;
    const write = v.store(1, 4).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false); // it waits for the holder's acknowledgement
    const gone = exitOf(holder);
    holder.kill('SIGKILL');
    await gone;
    await write; // bounded: the death releases it (the test's timeout is the bound)
    expect(await v.load(1)).toBe(4);
    expect(store.stats().invalidationsSent).toBe(1);
  });
});

function runFuzzer(args: string[]): Promise<{ messages: number; acks: number; ackRecords: number }> {
  const child = spawn(process.execPath, [fixture('store', 'inval-fuzzer.cjs'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`fuzzer exited with ${code}`)))),
  );
}

describe('hostile invalidation traffic over a mailbox group', () => {
  it('fuzzed INVALIDATE/ACK messages crash no member, change no block, and forged acks release no write', async () => {
    name = uniqueName('store-cache-fuzz');
    const c = await cluster('mailbox', 3, name, children, { cache: true }, { cache: true });
    store = c.store;
    const kid = (c.kids[0] as { child: ChildProcess }).child; // member 1; member 2's slot is the fuzzer's
    await command(c.kids[1]?.child as ChildProcess, 'close');
    const pattern = Buffer.alloc(LAYOUT.size);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 131 + 17) & 0xff;
    const blocks = LAYOUT.size / LAYOUT.blockSize;
    const ours = (b: number) => b % 3 !== 2;
    for (let b = 0; b < blocks; b++) if (ours(b)) await store.write(b * 4096, pattern.subarray(b * 4096, (b + 1) * 4096));
    // Copies both ways: member 1 holds blocks 0 and 3 (this member's), this member holds 1 and 4.
    for (const a of [0, 3 * 4096]) await command(kid, 'read', { address: a, length: 8 });
    for (const a of [4096, 4 * 4096]) await store.read(a, 8);

    const f = await runFuzzer([name, '2', '0,1', '4000', '4242', 'inv,ack']);
    expect(f.acks).toBeGreaterThan(0); // well-framed invalidations are acknowledged (harmless when not held)
    const check = async (except?: number) => {
      for (let b = 0; b < blocks; b++) {
        if (!ours(b) || b === except) continue;
        const want = pattern.subarray(b * 4096, (b + 1) * 4096).toString('hex');
        expect((await store?.read(b * 4096, 4096))?.toString('hex'), `block ${b} here`).toBe(want);
        expect((await command<{ hex: string }>(kid, 'read', { address: b * 4096, length: 4096 })).hex, `block ${b} there`).toBe(
          want,
        );
      }
    };
    await check();

    // A write held back by a stopped holder: acks forged by another member do not release it.
    await command(kid, 'read', { address: 0, length: 8 });
    kid.kill('SIGSTOP');
    let done = false;
    const write = store.write(0, Buffer.from('ffffffff', 'hex')).then(() => (done = true));
    await runFuzzer([name, '2', '0', '2000', '99', 'ack']);
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    kid.kill('SIGCONT');
    await write;
    pattern.fill(0xff, 0, 4);
    await check();
  });
});

describe('options', () => {
  it('unknown option names throw ERR_INVALID_ARG_VALUE (create, join, open, cache, ready)', async () => {
    const code = { code: 'ERR_INVALID_ARG_VALUE' };
    const n = uniqueName('store-opts');
    expect(() => Store.create(n, { members: 2, size: 4096, cahce: true } as never)).toThrow(expect.objectContaining(code));
    expect(() => Store.create(n, { members: 2, size: 4096, cache: { maxBlock: 2 } } as never)).toThrow(
      expect.objectContaining(code),
    );
    expect(() => Store.join(n, { timeuot: 5 } as never)).toThrow(expect.objectContaining(code));
    await expect(Store.open({ members: 2, size: 4096, peer: [] } as never)).rejects.toMatchObject(code);
    store = Store.create(n, { members: 2, size: 4096, cache: false });
    name = n;
    await expect(store.ready({ timout: 5 } as never)).rejects.toMatchObject(code);
    expect(store.stats().cache).toBeUndefined();
  });

  it('the cap evicts the least recently used copy; a stale holder record costs a write nothing but a round trip', async () => {
    name = uniqueName('store-cache-cap');
    const c = await cluster('mailbox', 2, name, children, { cache: { maxBlocks: 2 } }, {});
    store = c.store;
    const owner = (c.kids[0] as { child: ChildProcess }).child; // owns the odd blocks
    const v = store.int32();
    const cellOf = (block: number) => (block * 4096) / 4;
    for (const b of [1, 3, 5]) expect(await v.load(cellOf(b))).toBe(0);
    expect(store.stats().cache).toMatchObject({ blocks: 2, misses: 3, evictions: 1 }); // block 1 went
    const served = (await statsOf(owner)).served;
    expect(await v.load(cellOf(5))).toBe(0); // held: no request
    expect((await statsOf(owner)).served).toBe(served);
    expect(await v.load(cellOf(1))).toBe(0); // evicted: fetched again (block 3 goes)
    expect((await statsOf(owner)).served).toBe(served + 1);
    // The owner writes block 3, whose copy here was evicted: it still invalidates it, and completes.
    await command(owner, 'write', { address: 3 * 4096, hex: '07000000' });
    expect((await statsOf(owner)).invalidationsSent).toBe(1);
    expect(await v.load(cellOf(3))).toBe(7);
  });
});

it('leaves nothing in /dev/shm', () => {
  expect(leftoverShm()).toEqual([]);
});
