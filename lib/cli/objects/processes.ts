// Who maps or holds each file: one pass over /proc (every /proc/PID/maps and /proc/PID/fd), read
// before anything is opened, so this process never counts. A file is matched by its inode, not
// its path: a creator maps a segment under the temporary name it built it under (shown as
// "(deleted)" once published), and a name may have been replaced since. Processes whose maps or
// descriptors this user cannot read (another user's, non-dumpable ones) are kept aside with their
// uid, so a caller can tell "no user" from "no user that I could see".
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

export interface ProcessScan {
  /** The device the scanned folder lives on (st_dev), whose inodes `users` holds. */
  dev: number;
  /** inode -> the processes (not this one) that map it or hold a descriptor on it */
  users: Map<number, Set<number>>;
  /** Unix socket inode -> the processes holding it */
  sockets: Map<number, Set<number>>;
  /** pid -> effective uid of each process whose maps or descriptors could not be read */
  unseen: Map<number, number>;
  /** Processes looked at. */
  processes: number;
}

/** The (major, minor) of a device number as stat gives it (glibc's encoding). */
export function devParts(dev: number): [number, number] {
  const d = BigInt(dev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return [major, minor];
}

function add(map: Map<number, Set<number>>, key: number, pid: number): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(pid);
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** The effective uid of `pid` (/proc/PID/status is readable by everyone), or -1. */
export function effectiveUid(pid: number): number {
  try {
    const m = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

/**
 * Scans every process for mappings of, and descriptors on, files of the device `dev` (inodes found
 * under `folder`, whose paths start with it) and Unix sockets.
 */
export function scanProcesses(dev: number, folder = '/dev/shm'): ProcessScan {
  const [major, minor] = devParts(dev);
  const devField = `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
  const prefix = `${folder}/`;
  const scan: ProcessScan = { dev, users: new Map(), sockets: new Map(), unseen: new Map(), processes: 0 };
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return scan;
  }
  for (const pid of pids) {
    if (pid === process.pid) continue;
    let hidden = false;
    let gone = false;
    try {
      for (const line of readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n')) {
        // address perms offset dev inode path
        const at = line.indexOf(prefix);
        if (at < 0) continue;
        const f = line.split(/\s+/, 5);
        if (f[3] === devField) add(scan.users, Number(f[4]), pid);
      }
    } catch (err) {
      if (errCode(err) === 'ENOENT' || errCode(err) === 'ESRCH') gone = true;
      else hidden = true;
    }
    if (gone) continue;
    try {
      const fdDir = `/proc/${pid}/fd`;
      for (const fd of readdirSync(fdDir)) {
        let target: string;
        try {
          target = readlinkSync(`${fdDir}/${fd}`);
        } catch {
          continue; // closed meanwhile
        }
        if (target.startsWith(prefix)) {
          try {
            const st = statSync(`${fdDir}/${fd}`); // the open file itself, even when its name is gone
            if (st.dev === dev) add(scan.users, st.ino, pid);
          } catch {
            // closed meanwhile
          }
        } else if (target.startsWith('socket:[')) {
          add(scan.sockets, Number(target.slice(8, -1)), pid);
        }
      }
    } catch (err) {
      if (errCode(err) === 'ENOENT' || errCode(err) === 'ESRCH') continue;
      hidden = true;
    }
    scan.processes++;
    if (hidden) scan.unseen.set(pid, effectiveUid(pid));
  }
  return scan;
}

/**
 * How many processes whose use of a file could not be checked could have opened it: those of its
 * owner, and any (but root's) when its mode lets others in. Root's processes are not counted (root
 * can open anything, and counting them would leave nothing to an unprivileged gc): run as root to
 * see them too.
 */
export function unseenFor(scan: ProcessScan, owner: number, mode: number): number {
  let n = 0;
  for (const uid of scan.unseen.values()) {
    if (uid === 0) continue;
    if (uid === owner || uid === -1 || (mode & 0o066) !== 0) n++;
  }
  return n;
}

/** The paths of bound Unix sockets (/proc/net/unix), each with its socket inodes. */
export function boundSockets(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let text: string;
  try {
    text = readFileSync('/proc/net/unix', 'latin1');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const path = f.slice(7).join(' ');
    const list = out.get(path) ?? [];
    list.push(Number(f[6]));
    out.set(path, list);
  }
  return out;
}

/** The process (thread group) a thread belongs to, or null when no such thread runs. */
export function processOfThread(tid: number): number | null {
  try {
    const status = readFileSync(`/proc/${tid}/status`, 'latin1');
    if (/^State:\s+[ZX]/m.test(status)) return null;
    const m = /^Tgid:\s+(\d+)/m.exec(status);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
