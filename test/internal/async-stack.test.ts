// Errors from async native work keep the caller's stack (lib/internal/errors.ts, abortableNative):
// a rejection made on the event loop after the native call returned has no JS frames of its own, so
// without the captured call site the awaiting function would be missing from err.stack.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { futex, Mutex, OwnerDeadError, SharedMemory } from '../../lib';
import { abortableNative, withCallerStack } from '../../lib/internal/errors';
import { exited, forkFixture, killAll, leftoverShm, nextMessage, uniqueName } from '../helpers/util';
import type { ChildProcess } from 'node:child_process';

const made: string[] = [];
const children: ChildProcess[] = [];
function segment(size = 8192): { name: string; shm: SharedMemory } {
  const name = uniqueName('stack');
  made.push(name);
  return { name, shm: SharedMemory.create(name, { size }) };
}
afterEach(async () => {
  await killAll(children);
  for (const n of made.splice(0)) SharedMemory.unlink(n);
});
afterAll(() => expect(leftoverShm()).toEqual([]));

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('async native errors carry the caller stack', () => {
  it('futex.waitAsync on a SharedMemory closed during the wait', async function closedDuringFutexWait() {
    const { shm } = segment();
    const i = new Int32Array(shm.buffer);
    const pending = futex.waitAsync(i, 0, 0);
    setTimeout(() => shm.close(), 20);
    const err = await rejection(pending);
    expect(err.code).toBe('ERR_INVALID_STATE');
    expect(err.message).toMatch(/closed/);
    expect(err.stack).toContain('closedDuringFutexWait');
    expect(err.stack).toContain('waitAsync');
    expect(err.stack!.split('\n')[0]).toBe(`Error: ${err.message}`);
  });

  it('futex.waitAsync aborted by its signal', async function abortedFutexWait() {
    const { shm } = segment();
    const i = new Int32Array(shm.buffer);
    const ac = new AbortController();
    const pending = futex.waitAsync(i, 0, 0, undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    const err = await rejection(pending);
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('ABORT_ERR');
    expect(err.stack).toContain('abortedFutexWait');
    shm.close();
  });

  it("Mutex.lock waiting on this thread's own lock when the SharedMemory closes", async function closedDuringLock() {
    const { shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const g = m.lockSync();
    const pending = m.lock(); // held by this thread: waits for it to let go
    setTimeout(() => shm.close(), 20);
    const err = await rejection(pending);
    expect(err.code).toBe('ERR_INVALID_STATE');
    expect(err.stack).toContain('closedDuringLock');
    expect(err.stack).toContain('lock');
    void g;
  });

  it('an OwnerDeadError from a lock whose holder was SIGKILLed while this process waited', async function ownerKilled() {
    const { name, shm } = segment();
    const m = Mutex.initAt(shm, 0);
    const holder = forkFixture('sync/sync-child.cjs', [JSON.stringify({ name, task: 'hold', form: 'sync' })]);
    children.push(holder);
    await nextMessage(holder, (msg) => msg?.holding);
    const pending = m.lock();
    const gone = exited(holder);
    setTimeout(() => holder.kill('SIGKILL'), 20);
    const err = await rejection(pending);
    await gone;
    expect(err).toBeInstanceOf(OwnerDeadError);
    expect(err.code).toBe('EOWNERDEAD');
    expect(err.stack).toContain('ownerKilled');
    (err as OwnerDeadError<{ markConsistent(): void; unlock(): void }>).guard!.markConsistent();
    (err as OwnerDeadError<{ unlock(): void }>).guard!.unlock();
    shm.close();
  });
});

describe('abortableNative', () => {
  it('rejects, never throws, when the native start throws', async () => {
    const boom = Object.assign(new TypeError('bad argument'), { code: 'ERR_INVALID_ARG_TYPE' });
    let p: Promise<unknown> | undefined;
    expect(() => {
      p = abortableNative(
        undefined,
        () => {
          throw boom;
        },
        () => {},
      );
    }).not.toThrow();
    await expect(p).rejects.toBe(boom);
  });

  it('withCallerStack keeps the class, message, code and header, and replaces the frames', function siteOwner() {
    const site: { stack?: string } = {};
    Error.captureStackTrace(site);
    const err = Object.assign(new RangeError('line one\nline two'), { code: 'ERR_OUT_OF_RANGE' });
    err.stack = 'RangeError: line one\nline two\n    at nativeFrame (native)';
    const out = withCallerStack(err, site) as RangeError & { code: string };
    expect(out).toBe(err);
    expect(out.code).toBe('ERR_OUT_OF_RANGE');
    expect(out.stack!.startsWith('RangeError: line one\nline two\n    at ')).toBe(true);
    expect(out.stack).not.toContain('nativeFrame');
    expect(out.stack).toContain('siteOwner');
  });
});
