// A segment truncated under its mappings by another process (issue 16 item 4): the processes that
// map it live, reads past the new end give zeros, futex calls fail with ERR_SHM_TRUNCATED; a SIGBUS
// that is not about a mapping of the library still does what it did before.
import { describe, expect, it } from 'vitest';
import { futex, SharedMemory } from '../../lib';
import { settle, truncateShm, truncationSuite } from '../helpers/truncate';
import { exited, forkFixture } from '../helpers/util';

const { kids, name } = truncationSuite();

function segment(tag: string, size: number): [string, SharedMemory] {
  const n = name(tag);
  const shm = SharedMemory.create(n, { size });
  new Uint8Array(shm.buffer).fill(7);
  return [n, shm];
}

describe('SharedMemory truncated by another process', () => {
  for (const to of [0, 8192]) {
    it(`a JS reader of every page lives, sees truncated, and reads zeros past the end (truncated to ${to})`, async () => {
      const [n, shm] = segment('trunc-js', 64 * 1024);
      using _ = shm;
      const child = await kids.start({ role: 'jsRead', name: n });
      await settle(50);
      truncateShm(n, to);
      const r = await kids.report(child);
      expect(r.truncated).toBe(true);
      expect(r.lastBefore).toBe(0); // the last page was lost: zeros
      expect(r.lastAfterWrite).toBe(9); // private zero page: writable, the write stays here
      expect(r.wakeCode).toBe('ERR_SHM_TRUNCATED');
    });
  }

  for (const form of ['sync', 'async'] as const) {
    it(`a pending futex.wait${form === 'async' ? 'Async' : ''} ends with ERR_SHM_TRUNCATED`, async () => {
      const [n, shm] = segment('trunc-futex', 16 * 1024);
      using _ = shm;
      new Int32Array(shm.buffer).fill(0);
      // A word in the lost half, and one in the half that stays: both waits end.
      for (const index of [3 * 1024, 0]) {
        truncateShm(n, 16 * 1024);
        const child = await kids.start({ role: 'futexWait', name: n, form, index });
        await settle();
        truncateShm(n, 8 * 1024);
        const r = await kids.report(child);
        expect(r.code).toBe('ERR_SHM_TRUNCATED');
        expect(r.truncated).toBe(true);
      }
    });
  }

  it('this process: reads past the end give zeros, shm.truncated, futex calls reject or throw ERR_SHM_TRUNCATED', async () => {
    const [n, shm] = segment('trunc-self', 32 * 1024);
    using _ = shm;
    const u8 = new Uint8Array(shm.buffer);
    const i32 = new Int32Array(shm.buffer);
    expect(shm.truncated).toBe(false);
    expect(shm.checkTruncated()).toBe(false);
    truncateShm(n, 4096);
    // Before the watcher thread saw it, a check sees it (fstat); a read past the end faults and is repaired.
    expect(shm.checkTruncated()).toBe(true);
    expect(shm.truncated).toBe(true);
    expect(u8[100]).toBe(7); // the page that stays still shows the object
    expect(u8[32 * 1024 - 1]).toBe(0);
    expect(() => futex.wait(i32, 0, 123)).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
    expect(() => futex.wake(i32, 0)).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
    await expect(futex.waitAsync(i32, 0, 7)).rejects.toMatchObject({ code: 'ERR_SHM_TRUNCATED' });
    shm.close();
    expect(shm.truncated).toBe(true);
  });

  it('a fault of JS code in this process completes on zeros (no fstat check first)', async () => {
    const [n, shm] = segment('trunc-fault', 8 * 4096);
    using _ = shm;
    const u8 = new Uint8Array(shm.buffer);
    truncateShm(n, 0);
    expect(u8[5 * 4096]).toBe(0); // faults (or the watcher was first): the process lives
    expect(shm.truncated).toBe(true);
  });

  it('a segment opened after the truncate maps the new size and is intact', () => {
    const [n, shm] = segment('trunc-reopen', 8 * 4096);
    using _ = shm;
    truncateShm(n, 4096);
    using again = SharedMemory.open(n);
    expect(again.size).toBe(4096);
    expect(again.truncated).toBe(false);
    expect(shm.checkTruncated()).toBe(true);
  });

  it('an anonymous (sealed) segment cannot be truncated and is never marked', () => {
    using shm = SharedMemory.anonymous({ size: 4096 });
    expect(shm.truncated).toBe(false);
    expect(shm.checkTruncated()).toBe(false);
  });
});

describe('SIGBUS that is not about a mapping of the library', () => {
  it('kill(SIGBUS) still kills the process (the default action, chained)', async () => {
    const [n, shm] = segment('trunc-kill', 4096);
    using _ = shm;
    const child = forkFixture('shm/truncate-child.cjs', [JSON.stringify({ role: 'killSelf', name: n })]);
    const { signal, code } = await exited(child);
    expect({ signal, code }).toEqual({ signal: 'SIGBUS', code: null });
  });

  it('a SIGBUS listener installed before the library still gets kill(SIGBUS)', async () => {
    const [n, shm] = segment('trunc-listen', 4096);
    using _ = shm;
    const child = await kids.start({ role: 'killSelf', name: n, listen: true });
    const r = await kids.report(child);
    expect(r.listener).toBe(true);
  });
});
