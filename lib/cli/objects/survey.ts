// Every file in /dev/shm (and the socket files of the folders given), each identified and matched
// with its users by both measures: what its own layout records (member slots with pid + start
// time, lock holders' thread ids, a creator's pid) and which processes map it or hold it open
// (/proc, scanned once before anything is opened). A user is alive when either measure finds a
// live one; whatever could not be read leaves the answer 'unknown', never 'dead'.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { identify } from './identify';
import type { ObjectInfo, Reading, Users } from './model';
import { boundSockets, type ProcessScan, scanProcesses, unseenFor } from './processes';

export const SHM_DIR = '/dev/shm';

export interface Survey {
  objects: ObjectInfo[];
  /** Processes looked at, and how many of them could not be (their maps and descriptors). */
  processes: number;
  unseenProcesses: number;
}

export interface SurveyOptions {
  /** Folders whose Unix socket files are listed too. */
  socketDirs?: readonly string[];
  /** Only the segments whose name ('/x') this accepts (their related objects are still read). */
  match?: (name: string) => boolean;
  /** Only these names ('/x'): `inspect` and `rm` read one object, not every one. */
  names?: readonly string[];
}

function createdOf(st: Stats): number {
  return st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs;
}

function usersOf(live: Set<number>, unseen: number, unreadable: boolean, recordedDead: boolean): Users {
  if (live.size > 0) return 'alive';
  if (unseen > 0 || unreadable) return 'unknown';
  return recordedDead ? 'dead' : 'none';
}

interface Entry {
  name: string;
  path: string;
  st: Stats;
  reading: Reading;
  unreadable: boolean;
}

function readEntry(name: string, file: string, st: Stats): Entry {
  try {
    return { name, path: file, st, reading: identify(name, file, st.size), unreadable: false };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return {
      name,
      path: file,
      st,
      reading: { kind: 'unknown', recorded: [], summary: `unreadable (${code})` },
      unreadable: true,
    };
  }
}

function segmentEntries(names: readonly string[] | undefined, match: ((name: string) => boolean) | undefined): Entry[] {
  let files = names?.map((n) => n.slice(1)) ?? readdirSync(SHM_DIR);
  if (match) files = files.filter((f) => match(`/${f}`));
  const out: Entry[] = [];
  for (const f of files) {
    const file = path.join(SHM_DIR, f);
    let st: Stats;
    try {
      st = lstatSync(file);
    } catch {
      continue; // removed meanwhile (or, for a name asked for, not there)
    }
    if (!st.isFile()) continue; // shm_open makes regular files only
    out.push(readEntry(`/${f}`, file, st));
  }
  return out;
}

function objectOf(e: Entry, scan: ProcessScan, byName: Map<string, Entry>): ObjectInfo {
  const r = e.reading;
  const recorded = [...r.recorded];
  const mappedBy = new Set(scan.users.get(e.st.ino) ?? []);
  let unreadable = e.unreadable;
  // A store's record and a group's area are used by whoever uses their mailbox group.
  for (const rel of r.related ?? []) {
    let other = byName.get(rel);
    if (other === undefined) {
      try {
        const st = lstatSync(path.join(SHM_DIR, rel.slice(1)));
        if (st.isFile()) other = readEntry(rel, path.join(SHM_DIR, rel.slice(1)), st);
      } catch {
        continue; // gone: then only this object's own users count
      }
      if (other) byName.set(rel, other);
    }
    if (other === undefined) continue;
    if (other.unreadable || other.reading.damaged !== undefined) unreadable = true;
    for (const u of other.reading.recorded) recorded.push({ ...u, role: `${u.role} of ${rel}` });
    for (const pid of scan.users.get(other.st.ino) ?? []) mappedBy.add(pid);
  }
  const live = new Set(mappedBy);
  for (const u of recorded) if (u.alive && u.pid !== null) live.add(u.pid);
  const unseen = unseenFor(scan, e.st.uid, e.st.mode);
  const kind = r.kind;
  const ours = kind !== 'unknown' && kind !== 'socket';
  const now = Date.now();
  return {
    name: e.name,
    path: e.path,
    inode: e.st.ino,
    kind,
    ours,
    damaged: r.damaged ?? null,
    size: e.st.size,
    mode: e.st.mode & 0o7777,
    uid: e.st.uid,
    gid: e.st.gid,
    created: createdOf(e.st),
    ageMs: now - createdOf(e.st),
    users: usersOf(
      live,
      unseen,
      unreadable || (ours && r.damaged !== undefined),
      recorded.some((u) => !u.alive),
    ),
    pids: [...live].sort((a, b) => a - b),
    mappedBy: [...mappedBy].sort((a, b) => a - b),
    recorded,
    unseen,
    summary: r.damaged ?? r.summary ?? '',
    related: r.related ?? [],
    detail: r.detail ?? {},
  };
}

function socketObjects(dirs: readonly string[], scan: ProcessScan): ObjectInfo[] {
  const bound = boundSockets();
  const out: ObjectInfo[] = [];
  for (const dir of dirs) {
    const abs = path.resolve(dir);
    for (const f of readdirSync(abs)) {
      const file = path.join(abs, f);
      let st: Stats;
      try {
        st = lstatSync(file);
      } catch {
        continue;
      }
      if (!st.isSocket()) continue;
      const inodes = bound.get(file);
      const pids = new Set<number>();
      for (const ino of inodes ?? []) for (const pid of scan.sockets.get(ino) ?? []) pids.add(pid);
      // A socket bound by a relative path is listed without its folder: it may be this one.
      const maybe = inodes === undefined && [...bound.keys()].some((p) => !p.startsWith('/') && path.basename(p) === f);
      const users: Users = inodes !== undefined ? 'alive' : maybe ? 'unknown' : 'none';
      out.push({
        name: file,
        path: file,
        inode: st.ino,
        kind: 'socket',
        ours: false,
        damaged: null,
        size: 0,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        created: createdOf(st),
        ageMs: Date.now() - createdOf(st),
        users,
        pids: [...pids].sort((a, b) => a - b),
        mappedBy: [...pids].sort((a, b) => a - b),
        recorded: [],
        unseen: 0,
        summary: inodes !== undefined ? 'a socket is bound to it' : maybe ? '' : 'nothing listens on it',
        related: [],
        detail: { socketInodes: inodes ?? [] },
      });
    }
  }
  return out;
}

/** Surveys /dev/shm (and socket folders): every object, its kind and its users. */
export function survey(options: SurveyOptions = {}): Survey {
  const dev = lstatSync(SHM_DIR).dev;
  const scan = scanProcesses(dev, SHM_DIR); // first: this process maps nothing yet
  const entries = segmentEntries(options.names, options.match);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const objects = entries.map((e) => objectOf(e, scan, byName));
  objects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Say what a mailbox group is part of, when its store record or group area is listed beside it.
  const listed = new Map(objects.map((o) => [o.name, o]));
  for (const o of objects) {
    if (o.kind !== 'store' && o.kind !== 'group-area') continue;
    for (const rel of o.related) {
      const g = listed.get(rel);
      if (g?.kind === 'mailbox-group')
        g.summary += `${g.summary ? ', ' : ''}${o.kind === 'store' ? 'of a store' : 'of a process group'}`;
    }
  }
  if (options.socketDirs?.length) objects.push(...socketObjects(options.socketDirs, scan));
  return { objects, processes: scan.processes, unseenProcesses: scan.unseen.size };
}
