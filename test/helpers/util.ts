// Shared helpers for tests: unique names, child processes with a message handshake, leak checks.
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

/** A child fixture of one part: test/<part>/fixtures/<file>. */
export function fixture(part: string, file: string): string {
  return path.join(__dirname, '..', part, 'fixtures', file);
}

let counter = 0;
/** A shared-memory name unique to this process and call, prefixed so leaks are attributable. */
export function uniqueName(tag = 'test'): string {
  return `/interproc-${tag}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** Names in /dev/shm that this test process created (by the uniqueName prefix). */
export function leftoverShm(): string[] {
  return readdirSync('/dev/shm').filter(
    (f) => (f.startsWith('interproc-') && f.includes(`-${process.pid}-`)) || f.startsWith(`.interproc-tmp-${process.pid}-`),
  );
}

/** Forks a fixture ('part/file.cjs': test/<part>/fixtures/file.cjs, which requires the built package) with an IPC channel. */
export function forkFixture(name: string, args: string[] = [], options: ForkOptions = {}): ChildProcess {
  const [part, file] = name.split('/');
  return fork(fixture(part, file), args, { stdio: ['pipe', 'pipe', 'pipe', 'ipc'], ...options });
}

/** Resolves with the next IPC message from the child that satisfies `pred`. */
export function nextMessage<T = unknown>(child: ChildProcess, pred: (m: any) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: any) => {
      if (pred(m)) {
        cleanup();
        resolve(m as T);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`child exited (code ${code}, signal ${signal}) before the expected message`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Resolves with the child's exit code (or signal name) once it exits. Collects stderr for messages. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode, stderr });
      return;
    }
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Test clean-up: SIGKILLs every child of `children` still running and waits for each to exit; empties the list. */
export async function killAll(children: ChildProcess[]): Promise<void> {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const done = exited(c);
      c.kill('SIGKILL');
      await done;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Open file descriptors of this process (to compare before and after). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}
