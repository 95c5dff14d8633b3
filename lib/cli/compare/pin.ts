// Core placement of the two sides of a pair: taskset (util-linux) pins each child process to one CPU
// when it is there and the machine has two CPUs or more; otherwise the sides run where the scheduler
// puts them, and the output says so.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

export interface Placement {
  pinned: boolean;
  /** How, for the output. */
  how: string;
  /** The command prefix that runs a program on `cpu`. */
  prefix(cpu: number): string[];
}

export function placement(): Placement {
  const cpus = os.availableParallelism();
  const taskset = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
  if (taskset && cpus >= 2) {
    return {
      pinned: true,
      how: `sides pinned with taskset: the side that creates on CPU 0, its peer on CPU 1 (${cpus} CPUs)`,
      prefix: (cpu) => ['taskset', '-c', String(cpu % cpus)],
    };
  }
  return {
    pinned: false,
    how: taskset ? `unpinned: only ${cpus} CPU` : 'unpinned: taskset (util-linux) is not installed',
    prefix: () => [],
  };
}
