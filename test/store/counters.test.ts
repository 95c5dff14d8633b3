// Exact totals under contention: 4 processes add to the same cells, one cell per owner, over
// mailboxes and over TCP on loopback; writes by one member are read back by all.
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../dist';
import { leftoverShm, uniqueName } from '../helpers/util';
import { cluster, command, stopCluster } from './helpers';

const children: ChildProcess[] = [];
let store: Store | undefined;
let name: string | undefined;
afterEach(async () => {
  await stopCluster(store, name, children);
  store = undefined;
  name = undefined;
});

const N = 10_000;
// One cell in each of blocks 0..3 (Int32 index = byte address / 4): with the cyclic rule and 4
// members, one cell of every owner. Cell 8 shares block 0 with cell 0 (two cells of one block).
const CELLS = [0, 1024, 2048, 3072, 8];

for (const kind of ['mailbox', 'tcp'] as const) {
  describe(`Store over ${kind}`, () => {
    it(`4 processes x ${N} adds to one cell of every owner: exact totals (32- and 64-bit)`, async () => {
      name = kind === 'mailbox' ? uniqueName('store-count') : undefined;
      const c = await cluster(kind, 4, name ?? '', children);
      store = c.store;
      for (const cell of CELLS) expect([0, 1, 2, 3]).toContain(store.ownerOf(cell * 4));
      expect(new Set(CELLS.slice(0, 4).map((cell) => store?.ownerOf(cell * 4)))).toEqual(new Set([0, 1, 2, 3]));
      const v = store.int32();
      const mine = (async () => {
        for (let i = 0; i < N; i += 50)
          await Promise.all(Array.from({ length: 50 * CELLS.length }, (_, k) => v.add(CELLS[k % CELLS.length] as number, 1)));
      })();
      await Promise.all([mine, ...c.kids.map((k) => command(k.child, 'adds', { n: N, cells: CELLS }))]);
      const totals = await Promise.all(CELLS.map((cell) => v.load(cell)));
      expect(totals).toEqual(CELLS.map(() => 4 * N));
      // Everyone reads the same totals.
      for (const k of c.kids) {
        const { hex } = await command<{ hex: string }>(k.child, 'read', { address: 0, length: 4 });
        expect(Buffer.from(hex, 'hex').readInt32LE(0)).toBe(4 * N);
      }
      // 64-bit cells (a BigInt64 view), fewer rounds: the same exactness.
      const b = store.bigInt64(8192);
      const cells64 = [1025, 1537, 2049, 2561]; // BigInt64 indexes in blocks 2, 3, 4, 5: owners 2, 3, 0, 1
      await Promise.all(c.kids.map((k) => command(k.child, 'adds', { n: 1000, cells: cells64, bits: 64 })));
      const whole = store.bigInt64();
      expect(await Promise.all(cells64.map((i) => whole.load(i)))).toEqual(cells64.map(() => 3000n));
      expect(b.length).toBe((64 * 1024 - 8192) / 8);
    });

    it('writes by one member (spanning blocks of every owner) are read back by all', async () => {
      name = kind === 'mailbox' ? uniqueName('store-rw') : undefined;
      const c = await cluster(kind, 4, name ?? '', children);
      store = c.store;
      const pattern = Buffer.alloc(9000);
      for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7 + 3) & 0xff;
      await store.write(4000, pattern);
      for (const k of c.kids) {
        const { hex } = await command<{ hex: string }>(k.child, 'read', { address: 4000, length: 9000 });
        expect(Buffer.from(hex, 'hex').equals(pattern)).toBe(true);
      }
      // Each child writes its own region; everyone (this process included) reads all of them.
      await Promise.all(
        c.kids.map((k, i) =>
          command(k.child, 'write', { address: 20000 + i * 5000, hex: Buffer.alloc(5000, i + 1).toString('hex') }),
        ),
      );
      const all = await store.read(20000, 15000);
      for (let i = 0; i < 3; i++) expect(all.subarray(i * 5000, (i + 1) * 5000).equals(Buffer.alloc(5000, i + 1))).toBe(true);
      for (const k of c.kids) {
        const { hex } = await command<{ hex: string }>(k.child, 'read', { address: 20000, length: 15000 });
        expect(Buffer.from(hex, 'hex').equals(all)).toBe(true);
      }
    });
  });
}

it('leaves nothing in /dev/shm', () => {
  expect(leftoverShm()).toEqual([]);
});
