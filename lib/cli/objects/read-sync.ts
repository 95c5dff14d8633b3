// A named synchronisation object (Mutex.create and the others: a segment holding one object at
// offset 0), read by native.syncInspect over a read-only mapping: its header and the words that
// record who holds it. A lock word records a thread id; the process is its thread group.
import { native, type SyncInspection, type SyncWord } from '../../internal/binding';
import { SyncKind } from '../../internal/contract';
import { SharedMemory } from '../../shm/shared-memory';
import type { Kind, Reading, RecordedUser } from './model';
import { processOfThread } from './processes';

const kinds: Record<number, Kind> = {
  [SyncKind.Mutex]: 'mutex',
  [SyncKind.Semaphore]: 'semaphore',
  [SyncKind.Condition]: 'condition',
  [SyncKind.Barrier]: 'barrier',
  [SyncKind.RwLock]: 'rwlock',
};

/** A lock word as a recorded user: its holder thread (alive while it runs), or a dead holder. */
function holder(role: string, w: SyncWord | undefined): RecordedUser | undefined {
  if (w === undefined) return undefined;
  if (w.tid !== 0) {
    const pid = processOfThread(w.tid);
    return { role, pid, tid: w.tid, alive: pid !== null };
  }
  if (w.ownerDied) return { role, pid: null, alive: false };
  return undefined;
}

function holders(role: (i: number) => string, words: SyncWord[] | undefined): RecordedUser[] {
  const out: RecordedUser[] = [];
  (words ?? []).forEach((w, i) => {
    const u = holder(role(i), w);
    if (u) out.push(u);
  });
  return out;
}

/** What the words say, per kind, and a line for ls. */
function recordedOf(kind: Kind, v: SyncInspection): { recorded: RecordedUser[]; summary: string } {
  switch (kind) {
    case 'mutex': {
      const h = holder('holder', v.lock);
      const state = v.notRecoverable
        ? 'not recoverable'
        : h === undefined
          ? 'free'
          : h.tid === undefined
            ? 'owner died'
            : `held by ${h.pid ?? `thread ${h.tid}`}`;
      return { recorded: h ? [h] : [], summary: `${state}${v.lock?.waiters ? ', waiters' : ''}` };
    }
    case 'rwlock': {
      const w = holder('writer', v.writer);
      const readers = holders(() => 'reader', v.readers);
      const state = w ? (w.tid === undefined ? 'writer died' : `written by ${w.pid ?? `thread ${w.tid}`}`) : 'no writer';
      return { recorded: w ? [w, ...readers] : readers, summary: `${state}, ${readers.filter((r) => r.alive).length} readers` };
    }
    case 'barrier': {
      const parties = holders((i) => `party ${i}`, v.slots);
      return {
        recorded: parties,
        summary: `${parties.filter((p) => p.alive).length}/${v.parties} parties${v.broken ? ', broken' : ''}`,
      };
    }
    case 'semaphore': {
      const held = holders(() => 'holder', v.holders);
      return { recorded: held, summary: `value ${v.value}${v.robust ? `, ${held.filter((h) => h.alive).length} holders` : ''}` };
    }
    default:
      return { recorded: [], summary: `${v.sleepers ?? 0} waiting` };
  }
}

/**
 * Reads the object at offset 0 of the segment `name` of `size` bytes. It is a named object of the
 * library only when the segment is exactly the object's size (what create() makes): a segment of
 * another size that starts with a lock is a user's segment (kind unknown).
 */
export function readSync(name: string, size: number): Reading {
  const shm = SharedMemory.open(name, { readonly: true });
  try {
    const v = native.syncInspect(SharedMemory.handleOf(shm), 0);
    if (v === null) return { kind: 'unknown', recorded: [], summary: 'no synchronisation header' };
    const kind = kinds[v.kind];
    if (kind === undefined)
      return { kind: 'unknown', recorded: [], summary: `a synchronisation header of unknown kind ${v.kind}` };
    if (v.damaged !== undefined) return { kind, damaged: v.damaged, recorded: [], detail: { ...v } };
    if (v.byteLength !== size) return { kind: 'unknown', recorded: [], summary: `a segment that starts with a ${kind}` };
    const { recorded, summary } = recordedOf(kind, v);
    return { kind, recorded, summary, detail: { ...v } };
  } finally {
    shm.close();
  }
}
