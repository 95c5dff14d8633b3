// An owner keeps at most `maxWaiters` waitAsync waits of each peer: one more is refused at once with
// ERR_STORE_TOO_MANY_WAITERS and keeps nothing; other peers are not affected; a wait that ends
// (notified) frees its place. Over the mailbox group and over TCP, with members in their own processes.
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist';
import { killAll, leftoverShm, uniqueName } from '../helpers/util';
import { cluster, command } from './helpers';

const children: ChildProcess[] = [];
let store: Store | undefined;
let name: string | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  await killAll(children);
  if (name !== undefined) Store.unlink(name);
  name = undefined;
});

const MAX = 50;

interface Waits {
  codes: Record<string, number>;
  pending: number;
}
interface Held {
  results: Record<string, number>;
}

describe('waitAsync waits kept per peer', () => {
  it.each(['mailbox', 'tcp'] as const)(
    'over %s: at most maxWaiters per peer, the rest refused; ended waits free their places',
    async (kind) => {
      name = uniqueName('store-waiters');
      const c = await cluster(kind, 3, name, children, { maxWaiters: MAX });
      store = c.store;
      const [one, two] = c.kids.map((k) => k.child) as [ChildProcess, ChildProcess];
      for (const k of [one, two]) await command(k, 'ready');
      // Cell 0 is in block 0: this process's (member 0), holding 0.
      const first = await command<Waits>(one, 'waits', { cell: 0, count: MAX + 30 });
      expect([first.codes, first.pending]).toEqual([{ ERR_STORE_TOO_MANY_WAITERS: 30 }, MAX]);
      // Another peer's waits are its own: none refused.
      const other = await command<Waits>(two, 'waits', { cell: 0, count: 10 });
      expect([other.codes, other.pending]).toEqual([{}, 10]);
      // The kept ones are real waits: a notify wakes them all, and only them.
      expect(await store.int32().notify(0)).toBe(MAX + 10);
      expect((await command<Held>(one, 'held')).results).toEqual({ ok: MAX, ERR_STORE_TOO_MANY_WAITERS: 30 });
      expect((await command<Held>(two, 'held')).results).toEqual({ ok: 10 });
      // Woken waits left their places: the same peer may keep MAX again.
      const again = await command<Waits>(one, 'waits', { cell: 0, count: MAX });
      expect([again.codes, again.pending]).toEqual([{}, MAX]);
      expect(await store.int32().notify(0)).toBe(MAX);
      expect((await command<Held>(one, 'held')).results).toEqual({ ok: MAX });
    },
  );

  it('rejects a maxWaiters that is not a positive integer', () => {
    const n = uniqueName('store-waiters-bad');
    expect(() => Store.create(n, { members: 2, size: 4096, maxWaiters: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => Store.create(n, { members: 2, size: 4096, maxWaiters: 1.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => Store.create(n, { members: 2, size: 4096, maxWaiters: '9' as unknown as number })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

it('leaves nothing in /dev/shm', () => {
  expect(leftoverShm()).toEqual([]);
});
