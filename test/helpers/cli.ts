// Helpers for the tests of the `interproc` command: run the built command, and start processes
// that hold objects of the library (test/cli/fixtures/holder.cjs).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fixture } from './util';

export const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `interproc ARGS` (dist/cli/main.js) without colour; resolves with its exit code and output. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `interproc ARGS --json` and parses what it prints; rejects on a non-zero exit. */
export async function cliJson<T = any>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  if (r.code !== 0) throw new Error(`interproc ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Starts a holder (fixtures/holder.cjs KIND NAME [ARG]); resolves once it says 'ready'. */
export function holder(kind: string, name: string, arg?: string | number): Promise<ChildProcess> {
  const args = [fixture('cli', 'holder.cjs'), kind, name, ...(arg === undefined ? [] : [String(arg)])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) resolve(child);
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => reject(new Error(`holder ${kind} ${name} exited (${code ?? signal}): ${err}`)));
  });
}

/** SIGKILLs `child` and resolves once it is gone (reaped: no zombie counts as alive). */
export function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
