// bench/faults.cjs, the fault rounds of issue 16, run as a user runs it: every item of the issue has a
// scenario, and one round of one scenario per item (the quick one where an item has several) gives a
// complete report in which every outcome is the good one and nothing is left in /dev/shm. The figures
// themselves are the benchmark's (docs/benchmarks.md, "Fault rounds"); no time is asserted here.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const script = path.join(__dirname, '..', '..', 'bench', 'faults.cjs');
const ITEMS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', 'join race'];
// One per item; 'frame-memory' also selects 'frame-memory-limit' (--only matches name prefixes).
const QUICK = [
  'rwlock-writer-death',
  'header-semaphore-sync',
  'terminate-lockSync',
  'truncate-shm',
  'corrupt-zero',
  'send-order',
  'close-mutex',
  'worker-members-eventfd',
  'server-gc',
  'frame-memory',
  'join-race-dead',
];
// Items whose scenarios time the fault's detection or recovery.
const TIMED = ['1', '2', '3', '4', '7', '8'];

/** Runs the script; resolves with its stdout whatever its exit code (1 means some outcome was not the good one). */
function run(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, ...args], { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && code === -1) reject(Object.assign(err, { stderr }));
      else resolve({ stdout, stderr, code });
    });
  });
}

interface Summary {
  name: string;
  item: string;
  rounds: number;
  goodRounds: number;
  hung: number;
  crashed: number;
  allGood: boolean;
  outcomes: Record<string, number>;
  times: Record<string, { n: number; median: number; p90: number; max: number } | null>;
  figures: Record<string, unknown>;
  leftInShm: number;
}

it('has a scenario for every item of issue 16', async () => {
  const { stdout, code } = await run(['--list', '--json']);
  expect(code).toBe(0);
  const list = JSON.parse(stdout) as { name: string; item: string; what: string; good: string }[];
  expect([...new Set(list.map((s) => s.item))].sort()).toEqual([...ITEMS].sort());
  expect(new Set(list.map((s) => s.name)).size).toBe(list.length);
  for (const s of list) {
    expect(s.what.length, s.name).toBeGreaterThan(20);
    expect(s.good.length, s.name).toBeGreaterThan(0);
  }
});

it('one round per item: a complete JSON report, every outcome the good one, nothing left in /dev/shm', async () => {
  const { stdout, stderr, code } = await run(['--rounds', '1', '--json', '--only', QUICK.join(',')]);
  const report = JSON.parse(stdout);
  expect(report).toMatchObject({ rounds: 1, machine: { cpus: expect.any(Number), node: process.version } });
  const scenarios = report.scenarios as Summary[];
  expect(scenarios.map((s) => s.name)).toEqual([...QUICK.slice(0, -1), 'frame-memory-limit', QUICK.at(-1)]);
  expect([...new Set(scenarios.map((s) => s.item))].sort()).toEqual([...ITEMS].sort());
  for (const s of scenarios) {
    const what = `${s.name}: ${JSON.stringify(s.outcomes)}\n${stderr}`;
    expect(s, what).toMatchObject({ rounds: 1, goodRounds: 1, hung: 0, crashed: 0, allGood: true, leftInShm: 0 });
    expect(Object.values(s.outcomes), what).toEqual([1]);
    for (const [label, t] of Object.entries(s.times)) {
      expect(t, `${s.name}: ${label}`).not.toBeNull();
      expect(t!.n, `${s.name}: ${label}`).toBeGreaterThan(0);
      expect(Number.isFinite(t!.median) && t!.median >= 0 && t!.max >= t!.median, `${s.name}: ${label}`).toBe(true);
    }
    if (TIMED.includes(s.item)) expect(Object.keys(s.times).length, `${s.name} has a time`).toBeGreaterThan(0);
  }
  expect(report.allGood).toBe(true);
  expect(code).toBe(0);
  expect(readdirSync('/dev/shm').filter((f) => f.startsWith(report.shmPrefix))).toEqual([]);
}, 300_000);
