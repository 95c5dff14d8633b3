import { describe, expect, it } from 'vitest';
import { Barrier, BrokenBarrierError, TimeoutError } from '../../lib';
import { killNow, runTask, syncScope, within } from '../helpers/sync';
import { nextMessage, sleep } from '../helpers/util';

const { children, segment } = syncScope('barrier');

describe('Barrier', () => {
  it('4 processes pass 300 generations together; one serial party per generation', async () => {
    const { name, shm } = segment();
    const b = Barrier.initAt(shm, 1024, { parties: 4 });
    const generations = 300;
    const kids = [0, 1, 2, 3].map((party) =>
      runTask({ name, task: 'barrier', party, generations, form: party % 2 ? 'sync' : 'async' }),
    );
    children.push(...kids);
    const results = await within(Promise.all(kids.map((k) => k.done)), 120_000, 'barrier generations');
    expect(results.every((r: any) => r.early === 0)).toBe(true);
    expect(results.reduce((a: number, r: any) => a + r.serial, 0)).toBe(generations);
    expect(b.generation).toBe(generations);
    shm.close();
  }, 130_000);

  for (const form of ['async', 'sync'] as const) {
    it(`a party killed mid-way breaks the barrier for the ${form} waiters, promptly`, async () => {
      const { name, shm } = segment();
      const b = Barrier.initAt(shm, 1024, { parties: 3 });
      // The victim arrives (joins) and waits; then dies. The other waiter must get BrokenBarrierError.
      const victim = runTask({ name, task: 'barrierWait', form: 'sync' });
      const waiter = runTask({ name, task: 'barrierWait', form });
      children.push(victim, waiter);
      await Promise.all([victim, waiter].map((c) => nextMessage(c.proc, (m) => m?.waiting)));
      await sleep(50);
      await killNow(victim);
      const r = await within(waiter.done, 20_000, 'waiter after party death');
      expect(r.result).toBe('broken');
      expect(b.broken).toBe(true);
      await expect(b.wait()).rejects.toBeInstanceOf(BrokenBarrierError);
      expect(() => b.waitSync()).toThrow(BrokenBarrierError);
      b.reset();
      expect(b.broken).toBe(false);
      shm.close();
    }, 30_000);
  }

  it('a party that leaves (close) breaks the barrier for the one still waiting', async () => {
    const { name, shm } = segment();
    const b = Barrier.initAt(shm, 1024, { parties: 2 });
    const other = runTask({ name, task: 'barrierOnceThenLeave' });
    children.push(other);
    const first = await within(b.wait({ timeout: 20_000 }), 20_000, 'first generation');
    const r = await within(other.done, 20_000, 'other party');
    expect(first !== r.serial).toBe(true); // exactly one serial party
    await expect(within(b.wait({ timeout: 20_000 }), 20_000, 'second generation')).rejects.toBeInstanceOf(BrokenBarrierError);
    b.reset();
    expect(b.broken).toBe(false);
    shm.close();
  });

  it('a timed-out wait breaks it; reset makes it usable; misuse', async () => {
    const { shm } = segment();
    const b = Barrier.initAt(shm, 1024, { parties: 2 });
    const t0 = Date.now();
    await expect(b.wait({ timeout: 40 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(35);
    expect(b.broken).toBe(true);
    b.reset();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    await expect(b.wait({ signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(b.broken).toBe(true);
    b.reset();
    expect(Barrier.byteLength(4)).toBe(320);
    expect(() => Barrier.initAt(shm, 0, { parties: 0 })).toThrow(RangeError);
    expect(() => Barrier.initAt(shm, 0, { parties: 1000 })).toThrow(RangeError);
    expect(() => Barrier.initAt(shm, 8192 - 64, { parties: 2 })).toThrow(RangeError);
    expect(() => Barrier.initAt(shm, 0, {} as any)).toThrow(TypeError);
    const pending = b.wait({ timeout: 5000 }).catch((e) => e);
    await expect(b.wait()).rejects.toThrow(RangeError); // one wait per party at a time
    expect(() => b.waitSync()).toThrow(RangeError);
    b.abort();
    expect(await pending).toBeInstanceOf(BrokenBarrierError);
    b.reset();
    const one = Barrier.initAt(shm, 2048, { parties: 1 });
    expect(await one.wait()).toBe(true);
    expect(one.waitSync()).toBe(true);
    expect(one.generation).toBe(2);
    one.close();
    b.close();
    shm.close();
  });
});
