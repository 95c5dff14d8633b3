// Every collective against a plain computation of the same result, with 2, 3 and 4 separate
// processes and arrays of 1 to 1 M elements: through the shared segment (sleeping and polling) and
// over messages only (as across hosts).
import { describe, expect, it } from 'vitest';
import { spawnGroup } from '../../dist';
import { fixture, leftoverShm } from '../helpers/util';

interface Report {
  rank: number;
  size: number;
  checks: number;
  failures: string[];
  fatal?: string;
}

async function run(size: number, sizes: number[], mode: string): Promise<Report[]> {
  const group = await spawnGroup(fixture('group', 'collectives.cjs'), {
    size,
    args: [sizes.join(','), mode],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reports: Report[] = [];
  for (const p of group.processes) p.on('message', (m) => reports.push(m as Report));
  const exits = await group.exited;
  for (const r of reports) if (r.fatal) throw new Error(r.fatal);
  expect(exits.map((e) => e.code)).toEqual(Array(size).fill(0));
  return reports.sort((a, b) => a.rank - b.rank);
}

describe('collectives match a plain computation', () => {
  for (const size of [2, 3, 4]) {
    it(`${size} processes, shared segment, n = 1, 1023, 65537, 1 M`, async () => {
      const reports = await run(size, [1, 1023, 65537, 1 << 20], 'shared');
      expect(reports.map((r) => r.rank)).toEqual([...Array(size).keys()]);
      for (const r of reports) {
        expect(r.failures).toEqual([]);
        expect(r.checks).toBeGreaterThan(40);
      }
    });
  }
  it('3 processes, polling mode', async () => {
    for (const r of await run(3, [1, 1023, 1 << 20], 'poll')) expect(r.failures).toEqual([]);
  });
  for (const size of [2, 3]) {
    it(`${size} processes over messages only (the path across hosts), n = 1, 1023, 65537`, async () => {
      for (const r of await run(size, [1, 1023, 65537], 'messages')) expect(r.failures).toEqual([]);
    });
  }
  it('leaves nothing in /dev/shm', () => {
    expect(leftoverShm()).toEqual([]);
    // spawnGroup's names carry the parent's pid
    const { readdirSync } = require('node:fs') as typeof import('node:fs');
    expect(readdirSync('/dev/shm').filter((f) => f.includes(`group-${process.pid}-`))).toEqual([]);
  });
});
