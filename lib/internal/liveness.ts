// Who a process is, robust against pid reuse: its pid plus its start time (clock ticks since boot,
// field 22 of /proc/<pid>/stat, read natively by native/core/internal/process_identity.cpp). A
// record of both names one incarnation: it is alive while a process with that pid exists, has not
// exited, and started at that time. Used by mailbox member slots; meant for every part that
// records who holds something (monitors, the store).
import { native } from './binding';

/** One process incarnation: pid 0 means nobody. */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
}

/** The start time of `pid`, or -1 when there is no such process (or it has exited, a zombie). */
export function startTimeOf(pid: number): number {
  return native.processStartTime(pid);
}

let self: ProcessIdentity | undefined;

/** This process's identity (read once). */
export function selfIdentity(): ProcessIdentity {
  self ??= { pid: process.pid, startTime: startTimeOf(process.pid) };
  return self;
}

/** True while the incarnation (pid, startTime) runs: costs one /proc read. */
export function isAlive(pid: number, startTime: number): boolean {
  return pid > 0 && startTime >= 0 && startTimeOf(pid) === startTime;
}
