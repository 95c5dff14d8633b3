// Temporary names ('/.interproc-tmp-<pid>-<n>', contract SHM_TEMP_PREFIX) hold an object while it is built;
// a creator SIGKILLed in that moment leaves one behind. Each new create sweeps those of dead creators, so
// they do not pile up in /dev/shm (`interproc gc` removes them too).
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { SHM_TEMP_PREFIX } from '../internal/contract';

// A create holds its temporary name for microseconds; an older one is stale even if its pid is of another
// pid namespace that shares this /dev/shm (where our kill(pid, 0) says nothing about its creator).
const STALE_MS = 10_000;
let swept = false;

/** The creator's pid in a temporary name ('/.interproc-tmp-<pid>-<n>'), or null. */
export function creatorOf(name: string): number | null {
  if (!name.startsWith(SHM_TEMP_PREFIX)) return null;
  const m = /^(\d+)-\d+$/.exec(name.slice(SHM_TEMP_PREFIX.length));
  return m ? Number(m[1]) : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: alive, another user's
  }
}

/** Removes the temporary names of creators that no longer run; once per process, best effort. */
export function sweepStaleTemporaries(): void {
  if (swept) return;
  swept = true;
  let names: string[];
  try {
    names = readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const name of names) {
    const pid = creatorOf(`/${name}`);
    if (pid === null || pid === process.pid || alive(pid)) continue;
    try {
      if (Date.now() - statSync(`/dev/shm/${name}`).mtimeMs < STALE_MS) continue;
      unlinkSync(`/dev/shm/${name}`);
    } catch {
      // another user's, or already gone
    }
  }
}
