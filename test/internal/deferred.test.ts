import { describe, expect, it } from 'vitest';
import { AbortError, TimeoutError } from '../../lib';
import { Deferred } from '../../lib/internal/deferred';

describe('Deferred: the one promise with a timeout and an AbortSignal', () => {
  it('resolves once; later settles are ignored and no timer is left', async () => {
    const d = new Deferred<number>({ what: 'test', timeout: 10_000 });
    d.resolve(1);
    d.resolve(2);
    d.reject(new Error('late'));
    expect(d.settled).toBe(true);
    await expect(d.promise).resolves.toBe(1);
  });

  it('times out with a TimeoutError (ETIMEDOUT) and calls onCancel first', async () => {
    const order: string[] = [];
    const d = new Deferred<void>({ what: 'thing', timeout: 5, onCancel: () => order.push('cancel') });
    const err = await d.promise.catch((e: unknown) => e);
    order.push('rejected');
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', message: 'thing timed out after 5 ms' });
    expect(order).toEqual(['cancel', 'rejected']);
  });

  it('an abort rejects with an AbortError whose cause is the reason; the listener is removed when it settles', async () => {
    const ac = new AbortController();
    let cancelled = 0;
    const d = new Deferred<void>({ what: 'x', signal: ac.signal, onCancel: () => cancelled++ });
    ac.abort('why');
    const err = await d.promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ code: 'ABORT_ERR', cause: 'why' });
    expect(cancelled).toBe(1);

    const ac2 = new AbortController();
    const d2 = new Deferred<number>({ what: 'y', signal: ac2.signal, onCancel: () => cancelled++ });
    d2.resolve(7);
    ac2.abort();
    await expect(d2.promise).resolves.toBe(7);
    expect(cancelled).toBe(1);
  });

  it('an already aborted signal rejects at once without arming the timer', async () => {
    const d = new Deferred<void>({ what: 'z', signal: AbortSignal.abort(), timeout: 1 });
    await expect(d.promise).rejects.toBeInstanceOf(AbortError);
    expect(d.settled).toBe(true);
  });
});
