// Linearizability: several processes run random load/store/compareExchange on a few cells and
// record every operation's invocation, response and result; the checker (./linearizability.ts,
// Wing & Gong with Lowe's memoisation) accepts the history, and rejects it once it is made
// non-linearizable on purpose.
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../dist';
import { uniqueName } from '../helpers/util';
import { cluster, command, stopCluster } from './helpers';
import { linearizable, linearizableCell, type Operation } from './linearizability';

const op = (o: Partial<Operation> & Pick<Operation, 'op' | 'call' | 'ret' | 'result'>): Operation => ({
  cell: 0,
  a: 0,
  b: 0,
  ...o,
});

describe('the checker on histories written by hand', () => {
  it('accepts overlapping operations in either order, rejects a stale read and an impossible cas', () => {
    // store(1) overlaps a load that saw 0 and one that saw 1: both orders exist.
    expect(
      linearizableCell([
        op({ op: 'store', a: 1, result: 1, call: 0, ret: 10 }),
        op({ op: 'load', result: 0, call: 1, ret: 2 }),
        op({ op: 'load', result: 1, call: 3, ret: 4 }),
      ]),
    ).toBe(true);
    // A load that starts after store(1) returned cannot see 0.
    expect(
      linearizableCell([op({ op: 'store', a: 1, result: 1, call: 0, ret: 1 }), op({ op: 'load', result: 0, call: 2, ret: 3 })]),
    ).toBe(false);
    // Two cas(0 -> 1) that both saw 0: only one can have won.
    expect(
      linearizableCell([
        op({ op: 'cas', a: 0, b: 1, result: 0, call: 0, ret: 5 }),
        op({ op: 'cas', a: 0, b: 1, result: 0, call: 1, ret: 6 }),
      ]),
    ).toBe(false);
    // ... unless a store(0) overlaps them.
    expect(
      linearizableCell([
        op({ op: 'cas', a: 0, b: 1, result: 0, call: 0, ret: 5 }),
        op({ op: 'cas', a: 0, b: 1, result: 0, call: 1, ret: 6 }),
        op({ op: 'store', a: 0, result: 0, call: 2, ret: 3 }),
      ]),
    ).toBe(true);
    // Reads going back in time: 1 then 2 then 1 with only one store of each, all sequential.
    expect(
      linearizableCell([
        op({ op: 'store', a: 1, result: 1, call: 0, ret: 1 }),
        op({ op: 'store', a: 2, result: 2, call: 0, ret: 10 }),
        op({ op: 'load', result: 2, call: 2, ret: 3 }),
        op({ op: 'load', result: 1, call: 4, ret: 5 }),
      ]),
    ).toBe(false);
  });
});

const children: ChildProcess[] = [];
let store: Store | undefined;
let name: string | undefined;
afterEach(async () => {
  await stopCluster(store, name, children);
  store = undefined;
});

describe.each(['mailbox', 'tcp'] as const)('Store histories over %s', (kind) => {
  it('3 processes x 400 random load/store/compareExchange on 3 cells of 3 owners: linearizable; tampered: not', async () => {
    name = kind === 'mailbox' ? uniqueName('store-lin') : undefined;
    const c = await cluster(kind, 4, name ?? '', children);
    store = c.store;
    const cells = [0, 1024, 2048]; // blocks 0, 1, 2: owners 0, 1, 2
    const results = await Promise.all(
      c.kids.map((k, i) => command<{ history: Operation[] }>(k.child, 'history', { n: 400, cells, seed: 1000 + i })),
    );
    const history = results.flatMap((r) => r.history);
    expect(history).toHaveLength(1200);
    expect(new Set(history.map((h) => h.cell))).toEqual(new Set(cells));
    expect(linearizable(history)).toEqual({ ok: true });

    // Made non-linearizable on purpose, two ways:
    // 1. a load returns a value that no store ever wrote;
    const i = history.findIndex((h) => h.op === 'load');
    const forged = history.map((h, k) => (k === i ? { ...h, result: 99 } : h));
    expect(linearizable(forged).ok).toBe(false);
    // 2. a read after everything: this process loads each cell once all histories are complete
    //    (appended, the history stays linearizable), then the load's result is changed to another
    //    value that was written to that cell (so it is not trivially foreign), but not the last.
    const now = () => Number(process.hrtime.bigint());
    const v = store.int32();
    for (const cell of cells) {
      const call = now();
      const result = await v.load(cell);
      const final: Operation = { cell, op: 'load', a: 0, b: 0, result, call, ret: now() };
      expect(linearizable([...history, final])).toEqual({ ok: true });
      const written = new Set(history.filter((h) => h.cell === cell && h.op === 'store').map((h) => h.a));
      const other = [...written].find((x) => x !== result);
      expect(other).toBeDefined();
      expect(linearizable([...history, { ...final, result: other as number }]).ok).toBe(false);
    }
  });
});
