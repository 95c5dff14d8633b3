// What `interproc ls`, `inspect`, `gc` and `rm` say about a file: which of the library's objects
// it is (by the mark the library writes: magic and version), who uses it, and what that means.

/**
 * mailbox-group, store, group-area and the five synchronisation kinds carry the library's mark;
 * `unfinished` is a segment its creator never published (a temporary name of
 * SharedMemory.createInitialized, kept by a creator that died); `unknown` is anything else (a plain
 * SharedMemory segment carries no mark, by design, so it is `unknown` too); `socket` a Unix socket
 * file in a folder given to `ls`.
 */
export type Kind =
  | 'mailbox-group'
  | 'store'
  | 'group-area'
  | 'mutex'
  | 'semaphore'
  | 'condition'
  | 'barrier'
  | 'rwlock'
  | 'unfinished'
  | 'unknown'
  | 'socket';

/**
 * alive: a live process uses it (the layout records one, or one maps it or holds it open);
 * dead: users are recorded and every one of them is dead; none: no user recorded or seen;
 * unknown: it could not be told (the file or a process that could use it was unreadable).
 */
export type Users = 'alive' | 'dead' | 'none' | 'unknown';

/** A user the object's own layout records: a member slot, a lock holder, a party, a creator. */
export interface RecordedUser {
  /** 'member 2', 'holder', 'writer', 'reader', 'party 1', 'creator', ... */
  role: string;
  /** The process, when known (a dead lock holder is recorded only as owner-dead: null). */
  pid: number | null;
  /** The thread that holds it, for locks (the lock word records a thread id). */
  tid?: number;
  alive: boolean;
}

/** What a reader of one kind makes of a file. */
export interface Reading {
  kind: Kind;
  /** Why its layout cannot be read although it carries the library's mark (another version, corrupt, truncated). */
  damaged?: string;
  recorded: RecordedUser[];
  /** Objects whose users count as this one's (a store's layout record: its mailbox group). */
  related?: string[];
  /** One line for `ls`: '3 members', 'held by 1234', ... */
  summary?: string;
  /** Everything `inspect` shows, by kind (JSON-ready). */
  detail?: Record<string, unknown>;
}

/** One row of `ls`, one object of `ls --json`. */
export interface ObjectInfo {
  /** '/name' for a segment (as SharedMemory names it); the absolute path for a socket. */
  name: string;
  path: string;
  /** The file's inode: gc removes a name only while it still names this file. */
  inode: number;
  kind: Kind;
  /** It carries the library's mark, so gc may remove it once no live process uses it. */
  ours: boolean;
  damaged: string | null;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Creation time (birth time where the file system records it, else the last status change), ms since the epoch. */
  created: number;
  ageMs: number;
  users: Users;
  /** Live processes that use it, by either measure. */
  pids: number[];
  /** Processes mapping it or holding it open (/proc/PID/maps and /proc/PID/fd). */
  mappedBy: number[];
  recorded: RecordedUser[];
  /** Processes whose maps and descriptors could not be read but could have opened it. */
  unseen: number;
  summary: string;
  related: string[];
  detail: Record<string, unknown>;
}

/** Whether gc may remove it: one of ours, readable, and no live user by either measure. */
export function removable(o: ObjectInfo): boolean {
  return o.ours && o.damaged === null && (o.users === 'dead' || o.users === 'none');
}

/** Why gc keeps it (for `gc` output); undefined when it is removable. */
export function keepReason(o: ObjectInfo): string | undefined {
  if (!o.ours)
    return o.kind === 'socket'
      ? 'a socket file carries no mark of the library'
      : "not identified as one of the library's objects";
  if (o.damaged !== null) return `damaged: ${o.damaged}`;
  if (o.users === 'alive') return `in use by ${o.pids.length ? o.pids.join(', ') : 'a live process'}`;
  if (o.users === 'unknown') return 'its users could not be checked';
  return undefined;
}
