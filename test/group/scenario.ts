// Runs one scenario of fixtures/scenarios.cjs in a group started by spawnGroup; the reports by rank.
import { expect } from 'vitest';
import { spawnGroup } from '../../dist';
import { fixture } from '../helpers/util';

type Report = Record<string, unknown> & { rank: number; fatal?: string };

export async function runScenario(
  scenario: string,
  size: number,
  transport: 'mailbox' | 'tcp' = 'mailbox',
  arg = '',
): Promise<Report[]> {
  const group = await spawnGroup(fixture('group', 'scenarios.cjs'), {
    size,
    args: [scenario, arg],
    transport,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reports: Report[] = [];
  for (const p of group.processes) p.on('message', (m) => reports.push(m as Report));
  const exits = await group.exited;
  for (const r of reports) if (r.fatal) throw new Error(r.fatal);
  expect(exits.map((e) => e.code)).toEqual(Array(size).fill(0));
  return reports.sort((a, b) => a.rank - b.rank);
}
