import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SharedMemory } from '../lib';
import { Child } from './helpers/child';
import { leftoverShm, uniqueName } from './helpers/util';

const made: string[] = [];
function name(tag?: string): string {
  const n = uniqueName(tag);
  made.push(n);
  return n;
}
afterEach(() => {
  for (const n of made.splice(0)) SharedMemory.unlink(n);
});
afterAll(() => {
  expect(leftoverShm()).toEqual([]);
});

describe('SharedMemory', () => {
  it('creates, opens and shares bytes with a separate process both ways', async () => {
    const n = name('rw');
    using shm = SharedMemory.create(n, { size: 4096 });
    expect(shm.size).toBe(4096);
    expect(shm.buffer.byteLength).toBe(4096);
    expect(shm.name).toBe(n);
    expect(shm.created).toBe(true);
    Buffer.from(shm.buffer).write('from parent', 0);
    const child = await Child.start();
    try {
      expect(await child.call('read', { name: n, offset: 0, length: 11 })).toBe('from parent');
      await child.call('write', { name: n, offset: 100, text: 'from child' });
      expect(Buffer.from(shm.buffer, 100, 10).toString()).toBe('from child');
    } finally {
      await child.stop();
    }
  });
});
