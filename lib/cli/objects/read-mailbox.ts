// A mailbox group's segment, read as its members read it (lib/mailbox/segment.ts over a read-only
// mapping): who holds each member slot and how full each ring is. Nothing is joined or written.
import { codeOf } from '../../internal/errors';
import { GroupSegment, type RingFill } from '../../mailbox/segment';
import type { Reading, RecordedUser } from './model';

export interface MemberRow {
  id: number;
  pid: number | null;
  /** alive, dead, left (closed cleanly), free (never taken) */
  state: string;
  /** The holder's start time (clock ticks since boot): with pid, its incarnation. */
  startTime: number | null;
}

export interface MailboxDetail {
  members: number;
  ringCapacity: number;
  slots: MemberRow[];
  rings: RingFill[];
}

/** Reads the group `name`; ERR_MAILBOX_INCOMPATIBLE becomes `damaged`, other errors (EACCES) are thrown. */
export function readMailbox(name: string): Reading {
  let seg: GroupSegment;
  try {
    seg = GroupSegment.inspect(name);
  } catch (err) {
    if (codeOf(err) === 'ERR_MAILBOX_INCOMPATIBLE' || codeOf(err) === 'ERR_SHM_TRUNCATED')
      return { kind: 'mailbox-group', damaged: (err as Error).message, recorded: [] };
    throw err;
  }
  try {
    const slots: MemberRow[] = [];
    const recorded: RecordedUser[] = [];
    for (let id = 0; id < seg.members; id++) {
      const s = seg.read(id);
      const held = s.pid !== 0;
      slots.push({ id, pid: held ? s.pid : null, state: s.state, startTime: held ? s.start : null });
      if (held) recorded.push({ role: `member ${id}`, pid: s.pid, alive: s.state === 'alive' });
    }
    const rings: RingFill[] = [];
    for (let from = 0; from < seg.members; from++)
      for (let to = 0; to < seg.members; to++) if (from !== to) rings.push(seg.ringFill(from, to));
    if (seg.truncated) return { kind: 'mailbox-group', damaged: 'truncated under its mapping', recorded };
    const live = recorded.filter((r) => r.alive).length;
    const detail: MailboxDetail = { members: seg.members, ringCapacity: seg.capacity, slots, rings };
    return {
      kind: 'mailbox-group',
      recorded,
      summary: `${live}/${seg.members} members alive`,
      detail: detail as unknown as Record<string, unknown>,
    };
  } finally {
    seg.close();
  }
}
