import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

it('examples/bank: transfers between bank processes keep the total exact across random SIGKILLs of banks', () => {
  const r = spawnSync(
    process.execPath,
    [path.join(__dirname, '..', '..', 'examples', 'bank', 'clearing-house.js'), '4', '300', '6'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  const out = r.stdout;
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const s = lines.find((l) => l.event === 'summary');
  const downs = lines.filter((l) => l.event === 'bank down');
  expect(s.kills).toBe(6);
  expect(s.restarts).toBe(6);
  expect(downs).toHaveLength(6);
  expect(downs.every((d) => d.how.endsWith('was killed by SIGKILL'))).toBe(true);
  expect(s.done + s.refused).toBe(300);
  expect(s.done).toBeGreaterThan(0);
  expect(s.inFlight).toBe(0);
  expect(s.total).toBe(s.expected);
  // At each kill too: every applied entry a planned leg, no credit before its debit, and balances
  // plus money in flight made the opening total, to the unit.
  expect(s.checks.length).toBe(7);
  for (const c of s.checks) expect(c).toMatchObject({ total: s.expected, bad: 0 });
  expect(s.balances.every((b: number) => b >= 0)).toBe(true);
  // Its names carry its pid (other runs of the example may be going on beside this one).
  expect(readdirSync('/dev/shm').filter((f) => f.startsWith(`interproc-example-bank-${r.pid}`))).toEqual([]);
}, 150_000);
