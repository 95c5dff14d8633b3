// Helpers for the synchronisation tests: a child running one task of test/fixtures/sync-child.cjs.
import type { ChildProcess } from 'node:child_process';
import { forkFixture, nextMessage } from './util';

export interface TaskChild {
  proc: ChildProcess;
  /** Resolves with the task's value; rejects with its error or if the child dies first. */
  done: Promise<any>;
}

export function runTask(task: Record<string, unknown>): TaskChild {
  const proc = forkFixture('sync-child.cjs', [JSON.stringify(task)]);
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  const done = nextMessage<{ value?: unknown; error?: { message: string; code?: string; stack?: string } }>(proc, (m) => m && m.done)
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
