// Joining a slot whose generation is odd (a join or a leave in progress): only possible when the
// process doing it is gone. The joiner writes its pid with the same 64-bit CAS that makes the
// generation odd, so a second joiner can never decide that a first one, still mid-join, is dead
// (before: it saw the new pid beside the old holder's start time, or the old holder's pid, and took
// the slot too: two owners). The mid-join states are written here by hand, frozen, as a hostile or
// unlucky peer would leave them.
import { fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MailboxGroup, SharedMemory } from '../../lib';
import { layout } from '../../lib/mailbox/ring';
import { exited, nextMessage } from '../helpers/util';
import { mailboxTestbed } from './setup';

const { name, child, keep } = mailboxTestbed();

/** A pid that no process has now (a child that already exited). */
async function deadPid(): Promise<number> {
  const c = fork('-e', ['0'], { execArgv: [] });
  const pid = c.pid!;
  await exited(c);
  return pid;
}

/** Writes slot `id`'s words: gen, pid, start time (lo, hi). */
function writeSlot(n: string, id: number, gen: number, pid: number, start: number): void {
  const raw = SharedMemory.open(n);
  const u32 = new Uint32Array(raw.buffer);
  const base = (layout.groupHeaderSize + id * layout.memberSlotSize) / 4;
  u32[base + layout.slotStartLo / 4] = start;
  u32[base + layout.slotStartHi / 4] = 0;
  u32[base + layout.slotPid / 4] = pid;
  Atomics.store(u32, base + layout.slotGen / 4, gen);
  raw.close();
}

describe('MailboxGroup: joining a slot that is being joined', () => {
  it('a slot mid-join by a live process (odd gen, its pid, a stale start time) is not taken', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 3 }));
    const first = child({ role: 'raceJoin', name: n, id: 2 }); // stands for the first joiner, alive
    await nextMessage(first, (m) => m.ready);
    writeSlot(n, 1, 5, first.pid!, 12345); // its CAS done, its start time not written yet
    expect(g.memberInfo(1).state).toBe('alive');
    expect(() => MailboxGroup.join(n, { id: 1 })).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_MEMBER_TAKEN' }));
    const any = keep(MailboxGroup.join(n)); // the first takeable slot is 2, not 1
    expect(any.id).toBe(2);
  });

  it('a slot mid-join by a process that is gone (odd gen, dead pid or none) is taken, once', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 3 }));
    writeSlot(n, 1, 7, await deadPid(), 1);
    writeSlot(n, 2, 9, 0, 0);
    expect([g.memberInfo(1).state, g.memberInfo(2).state]).toEqual(['dead', 'dead']);
    const a = keep(MailboxGroup.join(n, { id: 1 }));
    const b = keep(MailboxGroup.join(n, { id: 2 }));
    expect([a.id, b.id]).toEqual([1, 2]);
    expect([g.memberInfo(1).state, g.memberInfo(2).state]).toEqual(['alive', 'alive']);
    a.trySend(0, 'from 1');
    expect(g.tryReceive(1)?.data.toString()).toBe('from 1');
  });

  it("processes racing to take a dead member's slot: exactly one gets it, every round", async () => {
    const rounds = 4;
    const racers = 3;
    const outcomes = { took: 0, taken: 0, rounds: 0 };
    for (let r = 0; r < rounds; r++) {
      const n = name();
      const g = MailboxGroup.create(n, { members: 2 });
      try {
        writeSlot(n, 1, 2 * r + 2, await deadPid(), 1); // held by a dead process
        const cs = [...Array(racers)].map(() => child({ role: 'raceJoin', name: n, id: 1 }));
        await Promise.all(cs.map((c) => nextMessage(c, (m) => m.ready)));
        const answers = cs.map((c) => nextMessage<{ took: boolean; code?: string }>(c, (m) => m.took !== undefined));
        for (const c of cs) c.send('go');
        const got = await Promise.all(answers);
        expect(got.filter((a) => a.took)).toHaveLength(1);
        expect(got.filter((a) => !a.took).every((a) => a.code === 'ERR_MAILBOX_MEMBER_TAKEN')).toBe(true);
        outcomes.took += got.filter((a) => a.took).length;
        outcomes.taken += got.filter((a) => !a.took).length;
        outcomes.rounds++;
        for (const c of cs) c.kill('SIGKILL');
        await Promise.all(cs.map((c) => exited(c)));
      } finally {
        g.close();
        MailboxGroup.unlink(n);
      }
    }
    expect(outcomes).toEqual({ took: rounds, taken: rounds * (racers - 1), rounds });
  });
});
