// The queue of a route's requests waiting for replies (lib/store/pending.ts): replies in order are
// taken at the head; out of order, late or unknown ids are found or ignored; ids wrap at 2^32;
// holes never hide an entry. Checked against a plain Map model on random histories.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type Pending, PendingQueue } from '../../dist/store/pending';

/** The store fixtures' seeded generator (mulberry32), so that a failure can be replayed. */
const { rng } = createRequire(__filename)('./fixtures/rng.cjs') as { rng: (seed: number) => () => number };

function entry(id: number): Pending {
  return { id, op: 5, width: 4, deadline: 0, resolve: () => {}, reject: () => {}, into: undefined, tag: 0 };
}

describe('PendingQueue', () => {
  it('takes replies in order at the head, and grows', () => {
    const q = new PendingQueue();
    for (let id = 1; id <= 100; id++) q.push(entry(id));
    expect(q.size).toBe(100);
    for (let id = 1; id <= 100; id++) expect(q.take(id)?.id).toBe(id);
    expect(q.size).toBe(0);
    expect(q.peek()).toBeUndefined();
  });

  it('finds an entry out of order, ignores late and unknown ids, and keeps the order of the rest', () => {
    const q = new PendingQueue();
    for (const id of [3, 5, 8, 13, 21, 34]) q.push(entry(id));
    expect(q.take(13)?.id).toBe(13); // from the middle: a hole
    expect(q.take(13)).toBeUndefined(); // twice: gone
    expect(q.take(4)).toBeUndefined(); // never queued
    expect(q.take(1)).toBeUndefined(); // older than the oldest (late, after a timeout)
    expect(q.take(99)).toBeUndefined(); // younger than the youngest
    expect(q.take(34)?.id).toBe(34); // the youngest: the tail shrinks past the hole
    expect(q.shift()?.id).toBe(3);
    expect(q.peek()?.id).toBe(5);
    expect(q.drain().map((p) => p.id)).toEqual([5, 8, 21]);
    expect(q.size).toBe(0);
  });

  it('compares ids across the 2^32 wrap by their distance from the oldest', () => {
    const q = new PendingQueue();
    const ids = [0xfffffffd, 0xfffffffe, 0xffffffff, 0, 1, 2];
    for (const id of ids) q.push(entry(id));
    expect(q.take(1)?.id).toBe(1);
    expect(q.take(0xffffffff)?.id).toBe(0xffffffff);
    expect(q.take(0xfffffffc)).toBeUndefined();
    expect(q.drain().map((p) => p.id)).toEqual([0xfffffffd, 0xfffffffe, 0, 2]);
  });

  it.each([1, 2, 3, 4, 5])('random histories (seed %d) agree with a Map', (seed) => {
    const rand = rng(seed);
    const q = new PendingQueue();
    const model = new Map<number, true>(); // insertion order = id order
    let next = (0xffffffff - 500) >>> 0; // crosses the wrap during the run
    for (let step = 0; step < 5000; step++) {
      const r = rand();
      if (r < 0.45 || model.size === 0) {
        const id = next;
        next = (next + 1 + Math.floor(rand() * 3)) >>> 0; // gaps: ids are shared by all routes
        q.push(entry(id));
        model.set(id, true);
      } else if (r < 0.75) {
        const oldest = model.keys().next().value as number;
        expect(q.take(oldest)?.id).toBe(oldest);
        model.delete(oldest);
      } else if (r < 0.95) {
        // any id: a queued one (out of order), or one that is not there
        const keys = [...model.keys()];
        const id = rand() < 0.7 ? (keys[Math.floor(rand() * keys.length)] as number) : (next - Math.floor(rand() * 1000)) >>> 0;
        const got = q.take(id);
        if (model.has(id)) {
          expect(got?.id).toBe(id);
          model.delete(id);
        } else expect(got).toBeUndefined();
      } else {
        const oldest = model.keys().next().value as number;
        expect(q.shift()?.id).toBe(oldest);
        model.delete(oldest);
      }
      expect(q.size).toBe(model.size);
      expect(q.peek()?.id).toBe(model.size === 0 ? undefined : model.keys().next().value);
    }
    expect(q.drain().map((p) => p.id)).toEqual([...model.keys()]);
  });
});
