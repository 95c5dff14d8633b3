// The job-queue example (examples/mailbox-job-queue) run end to end as its users run it, and as it
// promises to behave when things go wrong: a worker SIGKILLed mid-run or before it joins costs no
// job and no result is printed twice; SIGINT and SIGTERM stop the workers; nothing is left in
// /dev/shm either way.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sleep } from '../helpers/util';

const script = path.join(__dirname, '..', '..', 'examples', 'mailbox-job-queue', 'dispatcher.cjs');

interface Run {
  proc: ChildProcess;
  /** Result lines so far. */
  lines: string[];
  /** Resolves with the next line (or the existing one at that index). */
  line(index: number): Promise<string>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function run(workers: number, jobs: number): Run {
  const proc = spawn(process.execPath, [script, String(workers), String(jobs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiting: (() => void)[] = [];
  let buf = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    for (const w of waiting.splice(0)) w();
  });
  proc.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => {
      for (const w of waiting.splice(0)) w();
      resolve({ code, signal, stderr });
    }),
  );
  const line = async (index: number): Promise<string> => {
    while (lines.length <= index) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the dispatcher ended after ${lines.length} lines`);
      await new Promise<void>((r) => waiting.push(r));
    }
    return lines[index];
  };
  return { proc, lines, line, done };
}

/** The dispatcher's worker processes now (from /proc: its children). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** True while `pid` is a process that has not exited (a zombie counts as exited). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function allGone(pids: number[]): Promise<boolean> {
  for (let i = 0; i < 200 && pids.some(running); i++) await sleep(50);
  return !pids.some(running);
}

const shmOf = (r: Run) => `/dev/shm/interproc-jobs-${r.proc.pid}`;

/** Every job 0..jobs-1 has exactly one result line. */
function expectEachOnce(lines: string[], jobs: number): void {
  const seen = lines.map((l) => Number(/^job (\d+) -> fib\(\d+\) = \d+ \(worker \d+, pid \d+\)$/.exec(l)?.[1]));
  expect(seen.slice().sort((a, b) => a - b)).toEqual([...Array(jobs).keys()]);
}

describe('examples/mailbox-job-queue', () => {
  it('dispatches jobs to separate worker programs and collects every result once', async () => {
    const r = run(2, 6);
    const { code, stderr } = await r.done;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expectEachOnce(r.lines, 6);
    expect(r.lines.every((l) => / \(worker [12], pid \d+\)$/.test(l))).toBe(true);
    expect(existsSync(shmOf(r))).toBe(false);
  });

  it('a worker SIGKILLed mid-run: its jobs are redone by the others, every result arrives exactly once (3 rounds)', async () => {
    const jobs = 60;
    for (let round = 0; round < 3; round++) {
      const r = run(3, jobs);
      const first = await r.line(0);
      const victim = Number(/pid (\d+)\)$/.exec(first)![1]);
      const workers = childrenOf(r.proc.pid!);
      expect(workers).toContain(victim);
      process.kill(victim, 'SIGKILL');
      const { code, stderr } = await r.done;
      expect({ round, code, stderr }).toEqual({ round, code: 0, stderr: '' });
      expectEachOnce(r.lines, jobs);
      expect(running(victim)).toBe(false);
      expect(existsSync(shmOf(r))).toBe(false);
      expect(await allGone(workers)).toBe(true);
    }
  });

  it('a worker SIGKILLed before it joins does not block the dispatcher', async () => {
    const r = run(2, 10);
    let victim: number | undefined;
    while (victim === undefined && r.proc.exitCode === null) {
      victim = childrenOf(r.proc.pid!)[0]; // a node process that has only just been spawned
      if (victim === undefined) await sleep(1);
    }
    process.kill(victim!, 'SIGKILL');
    const { code, stderr } = await r.done;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expectEachOnce(r.lines, 10);
    expect(r.lines.some((l) => l.endsWith(`pid ${victim})`))).toBe(false);
    expect(existsSync(shmOf(r))).toBe(false);
  });

  for (const [signal, when] of [
    ['SIGTERM', 'before the workers join'],
    ['SIGINT', 'mid-run'],
  ] as const) {
    it(`${signal} ${when}: the dispatcher stops its workers and leaves nothing in /dev/shm`, async () => {
      const r = run(3, 100_000);
      if (when === 'mid-run') await r.line(0);
      else while (childrenOf(r.proc.pid!).length < 3) await sleep(1);
      const workers = childrenOf(r.proc.pid!);
      // Before the workers join, the name is still there for them (once all have joined it is removed).
      if (when !== 'mid-run') expect(existsSync(shmOf(r))).toBe(true);
      r.proc.kill(signal);
      const { code, stderr } = await r.done;
      expect({ code, stderr }).toEqual({ code: signal === 'SIGINT' ? 130 : 143, stderr: '' });
      expect(existsSync(shmOf(r))).toBe(false);
      expect(await allGone(workers)).toBe(true);
    });
  }
});
