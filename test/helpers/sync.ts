// Helpers for the synchronisation tests: a child running one task of test/fixtures/sync-child.cjs.
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, expect } from 'vitest';
import { SharedMemory } from '../../lib';
import { forkFixture, leftoverShm, nextMessage, uniqueName } from './util';

export interface TaskChild {
  proc: ChildProcess;
  /** Resolves with the task's value; rejects with its error or if the child dies first. */
  done: Promise<any>;
}

export function runTask(task: Record<string, unknown>): TaskChild {
  const proc = forkFixture('sync/sync-child.cjs', [JSON.stringify(task)]);
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  const done = nextMessage<{ value?: unknown; error?: { message: string; code?: string; stack?: string } }>(proc, (m) => m?.done)
    .then((m) => {
      if (m.error) throw Object.assign(new Error(`child task failed: ${m.error.stack ?? m.error.message}`), { code: m.error.code });
      return m.value;
    }, (err) => {
      throw new Error(`${err.message}\n${stderr}`);
    });
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

/**
 * The set-up every synchronisation test file shares: segments made with segment() and children pushed
 * on `children` are cleaned up after each test, and the file must leave nothing in /dev/shm.
 */
export function syncScope(tag: string): {
  made: string[];
  children: TaskChild[];
  segment(): { name: string; shm: SharedMemory; i32: Int32Array };
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
  function segment() {
    const name = uniqueName(tag);
    made.push(name);
    const shm = SharedMemory.create(name, { size: 8192 });
    return { name, shm, i32: new Int32Array(shm.buffer) };
  }
  return { made, children, segment };
}
