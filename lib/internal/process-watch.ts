// Word that one process ended, as soon as the kernel knows it: a pidfd watched by a libuv poll
// handle (native/binding/internal/pid_watcher_wrap.cc), no polling interval. Where pidfd_open is not
// permitted (ENOSYS: an old kernel; EPERM: a seccomp filter), the liveness check of liveness.ts (pid
// + start time) runs on an interval instead. Monitors (lib/monitor) and mailbox death detection
// (lib/mailbox, lib/rpc/mailbox-transport.ts) both stand on this.
import { constants } from 'node:os';
import { native, type PidWatcher } from './binding';
import { codeOf } from './errors';
import { isAlive, startTimeOf } from './liveness';

/** How a watched process ended, as far as this process can know. */
export interface ProcessExit {
  pid: number;
  /** The exit code when it exited and this process may read its status (its child); else null. */
  code: number | null;
  /** The signal that killed it ('SIGKILL'…) when this process may read its status; else null. */
  signal: NodeJS.Signals | null;
  /**
   * True when the kernel gave the status (a child of this process, through waitid(P_PIDFD)); false
   * for any other process (or a child already reaped): then only the end itself is known.
   */
  known: boolean;
  /**
   * 'pidfd' (told by the kernel), 'liveness' (the fallback's /proc check found it gone), or
   * 'death-word' (a mailbox member's death word, marked by the kernel as its exit began: lib/mailbox/peer-watch.ts).
   */
  via: 'pidfd' | 'liveness' | 'death-word';
}

export interface ProcessWatch {
  readonly via: 'pidfd' | 'liveness';
  /**
   * The pidfd watched, for a caller that also sleeps on it (a mailbox's sync waits): -1 for the
   * liveness fallback, and for a pidfd watch once the process is known to have ended (the callback
   * ran or is due: it had ended before the watch began) or after close().
   */
  readonly fd: number;
  /** Stops watching; the callback will not run. Idempotent. */
  close(): void;
  /** Keeps the event loop alive while watching (the default is unref'd: see watchProcess). */
  ref(): void;
  unref(): void;
}

/** Milliseconds between liveness checks when pidfds are not permitted (the fallback only). */
export const FALLBACK_INTERVAL_MS = 20;

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

let pidfdDenied = false;

/**
 * Whether pidfds are used: false after pidfd_open failed with ENOSYS or EPERM once, or when the
 * environment sets INTERPROC_PIDFD=0 (read at each call: how the tests force the fallback).
 */
export function pidfdAvailable(): boolean {
  return !pidfdDenied && process.env.INTERPROC_PIDFD !== '0';
}

/**
 * Calls `onEnd` once when process `pid` ends (on the event loop, never synchronously). `startTime`
 * (from liveness.ts) names the incarnation: a pid already reused by another process counts as
 * ended. The watch starts unref'd (it never keeps the process alive on its own); ref() changes that.
 */
export function watchProcess(pid: number, startTime: number | undefined, onEnd: (exit: ProcessExit) => void): ProcessWatch {
  if (pidfdAvailable()) {
    let watcher: PidWatcher | undefined;
    let fd = -1;
    try {
      watcher = new native.PidWatcher(pid, (code, signal, known) => {
        fd = -1; // the native watcher has closed it
        onEnd({
          pid,
          code: known && code >= 0 ? code : null,
          signal: known && signal > 0 ? (signalNames.get(signal) ?? null) : null,
          known,
          via: 'pidfd',
        });
      });
    } catch (err) {
      const code = codeOf(err);
      if (code === 'ENOSYS' || code === 'EPERM') pidfdDenied = true;
      else if (code === 'ESRCH') return endedAlready(pid, onEnd, 'pidfd');
      else throw err;
    }
    if (watcher !== undefined) {
      watcher.unref();
      // The pidfd pins whatever process has the pid now: if that is a newer one, ours ended.
      const now = startTime === undefined ? -1 : startTimeOf(pid);
      if (startTime !== undefined && now !== -1 && now !== startTime) {
        watcher.close();
        return endedAlready(pid, onEnd, 'pidfd');
      }
      const w = watcher;
      fd = w.fd(); // read once: a sync wait asks for it before every sleep
      return {
        via: 'pidfd',
        get fd() {
          return fd;
        },
        close: () => {
          fd = -1;
          w.close();
        },
        ref: () => w.ref(),
        unref: () => w.unref(),
      };
    }
  }
  return pollLiveness(pid, startTime ?? startTimeOf(pid), onEnd);
}

/** The process was gone before the watch began: report it on the next turn, as a watch would. */
function endedAlready(pid: number, onEnd: (exit: ProcessExit) => void, via: ProcessWatch['via']): ProcessWatch {
  let live = true;
  const t = setImmediate(() => {
    if (live) onEnd({ pid, code: null, signal: null, known: false, via });
  });
  t.unref();
  return {
    via,
    fd: -1,
    close: () => {
      live = false;
      clearImmediate(t);
    },
    ref: () => t.ref(),
    unref: () => t.unref(),
  };
}

/** The fallback: a /proc read every FALLBACK_INTERVAL_MS; the status is never known this way. */
function pollLiveness(pid: number, startTime: number, onEnd: (exit: ProcessExit) => void): ProcessWatch {
  const check = () => {
    if (isAlive(pid, startTime)) return;
    clearInterval(timer);
    onEnd({ pid, code: null, signal: null, known: false, via: 'liveness' });
  };
  const timer = setInterval(check, FALLBACK_INTERVAL_MS);
  timer.unref();
  const first = setImmediate(check); // a process already gone is reported on the next turn
  first.unref();
  return {
    via: 'liveness',
    fd: -1,
    close: () => {
      clearInterval(timer);
      clearImmediate(first);
    },
    ref: () => timer.ref(),
    unref: () => timer.unref(),
  };
}
