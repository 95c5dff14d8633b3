// Truncation tests (issue 16 item 4): children map a segment and hold or wait on it; this process, a
// third one, truncates the object under them with ftruncate; each child must live and report.
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, ftruncateSync } from 'node:fs';
import { afterAll, afterEach, expect } from 'vitest';
import { SharedMemory } from '../../lib';
import { exited, forkFixture, killAll, leftoverShm, nextMessage, uniqueName } from './util';

export interface Report {
  done: true;
  code?: string;
  crashed?: string;
  [key: string]: unknown;
}

export class TruncateChildren {
  readonly #children: ChildProcess[] = [];

  /** Forks a role of test/shm/fixtures/truncate-child.cjs and waits until it is ready (mapped, holding, waiting). */
  async start(task: Record<string, unknown>): Promise<ChildProcess> {
    const child = forkFixture('shm/truncate-child.cjs', [JSON.stringify(task)]);
    this.#children.push(child);
    await nextMessage(child, (m) => m.ready === true);
    return child;
  }

  /** The child's report, and that it then exited 0 (not killed by SIGBUS). */
  async report(child: ChildProcess): Promise<Report> {
    const exit = exited(child);
    const r = await nextMessage<Report>(child, (m) => m.done === true);
    const { code, signal, stderr } = await exit;
    if (r.crashed !== undefined) throw new Error(`child failed: ${r.crashed}`);
    if (signal !== null || code !== 0) throw new Error(`child exited with code ${code}, signal ${signal}: ${stderr}`);
    return r;
  }

  async cleanup(): Promise<void> {
    await killAll(this.#children);
  }
}

/** ftruncate of /dev/shm/NAME, as any process of the same user can do it. */
export function truncateShm(name: string, size: number): void {
  const fd = openSync(`/dev/shm${name}`, 'r+');
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** Gives a waiting child time to be asleep in its wait (not a correctness condition: a child still on its way to sleep sees the mark at once). */
export function settle(ms = 150): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The set-up every truncation test file shares: its children (killed after each test), unique segment
 * names (unlinked after each test), and a final check that nothing is left in /dev/shm. Call once at
 * the top of a test file.
 */
export function truncationSuite(): { kids: TruncateChildren; name: (tag: string) => string } {
  const made: string[] = [];
  const kids = new TruncateChildren();
  afterEach(async () => {
    await kids.cleanup();
    for (const n of made.splice(0)) SharedMemory.unlink(n);
  });
  afterAll(() => {
    expect(leftoverShm()).toEqual([]);
  });
  return {
    kids,
    name(tag: string): string {
      const n = uniqueName(tag);
      made.push(n);
      return n;
    },
  };
}
