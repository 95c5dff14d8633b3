// A member SIGKILLed while the others wait in a collective or a receive: every other member's
// pending operation rejects with ERR_GROUP_MEMBER_DEAD naming the dead rank (never a hang), and the
// group stays failed (linked).
import { describe, expect, it } from 'vitest';
import { spawnGroup } from '../../dist';
import { fixture, leftoverShm, sleep } from '../helpers/util';

type Report = {
  rank: number;
  started?: boolean;
  error?: { code: string; rank: number; message: string };
  after?: string;
  fatal?: string;
};

async function killDuring(
  size: number,
  victim: number,
  op: string,
  extra: Record<string, unknown> = {},
  transport: 'mailbox' | 'tcp' = 'mailbox',
) {
  const group = await spawnGroup(fixture('group', 'scenarios.cjs'), {
    size,
    args: ['death', JSON.stringify({ victim, op, ...extra })],
    transport,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reports: Report[] = [];
  let started = 0;
  const allStarted = new Promise<void>((resolve) => {
    for (const p of group.processes)
      p.on('message', (m: Report) => {
        if (m.started) {
          if (++started === size) resolve();
        } else reports.push(m);
      });
  });
  await allStarted;
  await sleep(300); // the others are now inside the operation
  group.processes[victim]?.kill('SIGKILL');
  const exits = await group.exited;
  for (const r of reports) if (r.fatal) throw new Error(r.fatal);
  expect(exits[victim]?.signal).toBe('SIGKILL');
  const others = reports.sort((a, b) => a.rank - b.rank);
  expect(others.map((r) => r.rank)).toEqual([...Array(size).keys()].filter((k) => k !== victim));
  for (const r of others) {
    expect(r.error?.code).toBe('ERR_GROUP_MEMBER_DEAD');
    expect(r.error?.rank).toBe(victim);
    expect(r.error?.message).toContain(`rank ${victim}`);
    expect(r.after).toBe('ERR_GROUP_MEMBER_DEAD'); // linked: later operations fail too
  }
}

describe('a member SIGKILLed', () => {
  it('during a shared-memory barrier (sleeping), 3 processes', () => killDuring(3, 1, 'barrier'));
  it('during a barrier in polling mode, 3 processes', () => killDuring(3, 2, 'barrier', { wait: 'poll' }));
  it('during a large allReduce, 4 processes', () => killDuring(4, 3, 'allReduce', { n: 1 << 18 }));
  it('during a receive naming it, and one from any source', async () => {
    await killDuring(2, 1, 'receive');
    await killDuring(3, 0, 'anyReceive');
  });
  it('during an allReduce over TCP', () => killDuring(3, 1, 'allReduce', { n: 1000 }, 'tcp'));
  it('leaves nothing in /dev/shm', () => expect(leftoverShm()).toEqual([]));
});
