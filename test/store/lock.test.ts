// waitAsync/notify across processes: a lock built on compareExchange + waitAsync (kept at the
// owner of the lock's cell) keeps a counter updated by a plain load + store exact under 4
// contending processes.
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist';
import { uniqueName } from '../helpers/util';
import { cluster, command, stopCluster } from './helpers';

const children: ChildProcess[] = [];
let store: Store | undefined;
let name: string | undefined;
afterEach(async () => {
  await stopCluster(store, name, children);
  store = undefined;
});

describe.each(['mailbox', 'tcp'] as const)('a lock over the store (%s)', (kind) => {
  it('4 contending processes x 150 critical sections: the non-atomic counter is exact, and waiters did wait', async () => {
    name = kind === 'mailbox' ? uniqueName('store-lock') : undefined;
    const c = await cluster(kind, 5, name ?? '', children);
    store = c.store;
    // Lock in block 1 (member 1, a contender), counter in block 7 (member 2): both remote for most.
    const lockCell = 1024;
    const counterCell = 7 * 1024;
    expect(store.ownerOf(lockCell * 4)).toBe(1);
    expect(store.ownerOf(counterCell * 4)).toBe(2);
    const n = 150;
    const results = await Promise.all(
      c.kids.map((k) => command<{ waits: number }>(k.child, 'lock', { n, lockCell, counterCell })),
    );
    const v = store.int32();
    expect(await v.load(counterCell)).toBe(4 * n);
    expect(await v.load(lockCell)).toBe(0);
    // The lock was contended: some acquisitions had to wait at the owner (and were notified).
    expect(results.reduce((s, r) => s + r.waits, 0)).toBeGreaterThan(0);
  });
});

describe('waitAsync and notify (in one process, two members)', () => {
  it('not-equal at once, timed-out after the timeout, ok when notified; notify counts the woken', async () => {
    name = uniqueName('store-wait');
    const a = Store.create(name, { members: 2, size: 16384, blockSize: 4096 });
    const b = Store.join(name);
    try {
      await Promise.all([a.ready({ timeout: 5000 }), b.ready({ timeout: 5000 })]);
      const va = a.int32();
      const vb = b.int32();
      const remote = 1024; // block 1: member 1 (b) owns it; a waits remotely
      expect(await va.waitAsync(remote, 5)).toBe('not-equal');
      expect(await va.waitAsync(remote, 0, 30)).toBe('timed-out');
      // Waiters are woken oldest first: the owner's own (it runs at once) is older than a's two,
      // which travel in a's batch of this tick.
      const w1 = va.waitAsync(remote, 0);
      const w2 = va.waitAsync(remote, 0);
      const w3 = vb.waitAsync(remote, 0); // a local waiter at the owner
      await new Promise((r) => setTimeout(r, 50));
      expect(await vb.notify(remote, 2)).toBe(2);
      expect(await w3).toBe('ok');
      expect(await w1).toBe('ok');
      let w2done = false;
      void w2.then(() => (w2done = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(w2done).toBe(false);
      expect(await va.notify(remote)).toBe(1);
      expect(await w2).toBe('ok');
      expect(await va.notify(remote)).toBe(0);
      // 64-bit cells wait and wake the same way.
      const b64 = a.bigInt64();
      const w64 = b64.waitAsync(512 + 1, 0n); // block 1
      await new Promise((r) => setTimeout(r, 20));
      expect(await b.bigInt64().notify(512 + 1, 1)).toBe(1);
      expect(await w64).toBe('ok');
      // A waiter at a member that closes ends with ERR_STORE_OWNER_DEAD (the owner is leaving).
      const orphan = va.waitAsync(remote, 0);
      await new Promise((r) => setTimeout(r, 20));
      await b.close();
      await expect(orphan).rejects.toMatchObject({ code: 'ERR_STORE_OWNER_DEAD', member: 1 });
    } finally {
      await a.close();
      await b.close();
      Store.unlink(name);
    }
  });
});
