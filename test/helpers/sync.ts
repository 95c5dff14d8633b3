// Helpers for the synchronisation tests: a child running one task of test/sync/fixtures/sync-child.cjs.
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, expect } from 'vitest';
import { type Mutex, type MutexGuard, SharedMemory } from '../../lib';
import { exited, forkFixture, leftoverShm, nextMessage, uniqueName } from './util';

export interface TaskChild {
  proc: ChildProcess;
  /** Resolves with the task's value; rejects with its error or if the child dies first. */
  done: Promise<any>;
}

export function runTask(task: Record<string, unknown>): TaskChild {
  const proc = forkFixture('sync/sync-child.cjs', [JSON.stringify(task)]);
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  const done = nextMessage<{ value?: unknown; error?: { message: string; code?: string; stack?: string } }>(
    proc,
    (m) => m?.done,
  ).then(
    (m) => {
      if (m.error)
        throw Object.assign(new Error(`child task failed: ${m.error.stack ?? m.error.message}`), { code: m.error.code });
      return m.value;
    },
    (err) => {
      throw new Error(`${err.message}\n${stderr}`);
    },
  );
  done.catch(() => {}); // observed by the test when it awaits
  return { proc, done };
}

/** Rejects after ms (a watchdog for a promise that could hang). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const dog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watchdog: ${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, dog]).finally(() => clearTimeout(timer));
}

export function killAll(children: TaskChild[]): void {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
}

/** SIGKILLs a child and waits until it is gone (so the kernel has released what it held). */
export async function killNow(child: TaskChild): Promise<void> {
  const gone = exited(child.proc);
  child.proc.kill('SIGKILL');
  await gone;
}

/** After an OwnerDeadError: repairs through the guard, unlocks, and checks that the mutex is free again. */
export function expectRepaired(guard: MutexGuard, m: Mutex): void {
  guard.markConsistent();
  expect(guard.ownerDied).toBe(false);
  guard.unlock();
  expect(m.tryLock()).toBe(true);
  m.unlock();
}

/**
 * Calls a method that returns a Promise: it must return one, not throw, and the promise must reject
 * with `code`. Returns the error.
 */
export async function expectRejects(call: () => Promise<unknown>, code: string, what = String(call)): Promise<any> {
  let p: Promise<unknown> | undefined;
  expect(() => {
    p = call();
  }, what).not.toThrow();
  expect(p, what).toBeInstanceOf(Promise);
  const err = await p!.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, what).toMatchObject({ code });
  return err;
}

/**
 * The set-up every synchronisation test file shares: segments made with segment() and children pushed
 * on `children` (or started by holder()) are cleaned up after each test, and the file must leave
 * nothing in /dev/shm.
 */
export function syncScope(tag: string): {
  made: string[];
  children: TaskChild[];
  segment(size?: number): { name: string; shm: SharedMemory; i32: Int32Array };
  holder(task: Record<string, unknown>): Promise<TaskChild & { message: any }>;
} {
  const made: string[] = [];
  const children: TaskChild[] = [];
  afterEach(() => {
    killAll(children.splice(0));
    for (const n of made.splice(0)) SharedMemory.unlink(n);
  });
  afterAll(() => {
    expect(leftoverShm()).toEqual([]);
  });
  function segment(size = 8192) {
    const name = uniqueName(tag);
    made.push(name);
    const shm = SharedMemory.create(name, { size });
    return { name, shm, i32: new Int32Array(shm.buffer) };
  }
  /** Starts a child task that takes something and reports { holding: true }; resolves once it holds. */
  async function holder(task: Record<string, unknown>) {
    const child = runTask(task);
    children.push(child);
    const message = await within(
      nextMessage(child.proc, (m) => m?.holding),
      20_000,
      `${String(task.task)} holding`,
    );
    return { ...child, message };
  }
  return { made, children, segment, holder };
}
