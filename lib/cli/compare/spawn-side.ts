// Starts one child side (side.js) on a CPU and speaks its line protocol: JSON lines out, control
// lines in. A side with one task (args) is killed if it outlives its deadline, so a stuck peer never
// hangs the run; a pooled side (args null, pool.ts) has a deadline per task instead.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { Placement } from './pin';

export interface Side {
  child: ChildProcess;
  /** The next JSON line the side prints (rejects if it exits first). */
  next(): Promise<Record<string, unknown>>;
  tell(o: Record<string, unknown>): void;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** True once the process has exited (or been killed). */
  readonly dead: boolean;
}

const SIDE = path.join(__dirname, 'side.js');

export function spawnSide(
  place: Placement,
  cpu: number,
  args: Record<string, unknown> | null,
  options: { deadlineMs?: number; wrap?: string[]; label?: string },
): Side {
  const cmd = [...(options.wrap ?? []), ...place.prefix(cpu), process.execPath, SIDE, ...(args ? [JSON.stringify(args)] : [])];
  const label = options.label ?? `${args?.column} ${args?.role}`;
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const queue: Record<string, unknown>[] = [];
  const waiting: { resolve: (o: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | null = null;
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch {
      return;
    }
    const w = waiting.shift();
    if (w) w.resolve(o);
    else queue.push(o);
  });
  const timer = options.deadlineMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.deadlineMs);
  let dead = false;
  const exited = new Promise<number | string>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      dead = true;
      // the side prints "compare side: <stack>": its first line says what failed
      const first = stderr.trim().split('\n')[0] ?? '';
      ended = new Error(`${label} exited (${signal ?? code})${first ? `: ${first.replace(/^compare side: /, '')}` : ''}`);
      (ended as Error & { stderr?: string }).stderr = stderr;
      for (const w of waiting.splice(0)) w.reject(ended);
      resolve(signal ?? code ?? 0);
    });
  });
  child.stdin!.on('error', () => {});
  child.on('exit', () => (dead = true));
  return {
    child,
    exited,
    get dead() {
      return dead || child.exitCode !== null || child.signalCode !== null;
    },
    next() {
      const o = queue.shift();
      if (o) return Promise.resolve(o);
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    tell(o) {
      child.stdin!.write(`${JSON.stringify(o)}\n`);
    },
  };
}
