// A held lock's robust-list links live in its shared memory (the kernel's layout), where any process
// that maps the segment may overwrite them. The library never follows them: overwriting a held lock
// costs that lock, never a crash of its holder, and the holder's other locks keep their owner-death
// notice.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Mutex, OwnerDeadError } from '../../lib';
import { syncScope, within } from '../helpers/sync';
import { nextMessage } from '../helpers/util';

const { segment } = syncScope('links');
const child = path.join(__dirname, 'fixtures', 'scribble-links-child.cjs');

function run(task: Record<string, unknown>) {
  const proc = spawn(process.execPath, [child, JSON.stringify(task)], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.on('exit', (code, signal) => r({ code, signal })),
  );
  return { proc, exit, stderr: () => stderr };
}

function threeLocks() {
  const segs = [segment(4096), segment(4096), segment(4096)];
  for (const s of segs) Mutex.initAt(s.shm, 0);
  return segs;
}

describe("a held lock's list links overwritten in shared memory", () => {
  for (const fill of ['zero', 'wild', 'self'] as const) {
    it(`filled with ${fill}: the holder's later lock operations and closes do not crash`, async () => {
      const segs = threeLocks();
      const c = run({ names: segs.map((s) => s.name), fill, after: 'close' });
      const done = nextMessage(c.proc, (m) => m?.done);
      const exit = await within(c.exit, 30_000, 'child exit');
      expect({ ...exit, stderr: c.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
      const report = (await done) as { errors: string[] };
      // Only the overwritten lock may fail (its word is gone); b and c work as before.
      for (const e of report.errors) expect(e).toMatch(/^unlock a: /);
      // b and c were released: free for anyone.
      for (const s of segs.slice(1)) {
        const m = Mutex.openAt(s.shm, 0);
        expect(m.tryLock()).toBe(true);
        m.unlock();
      }
      for (const s of segs) s.shm.close();
    }, 40_000);
  }

  it('after the overwrite, a holder SIGKILLed still hands its other lock over as owner-dead', async () => {
    const segs = threeLocks();
    const c = run({ names: segs.map((s) => s.name), fill: 'wild', after: 'die' });
    await within(
      nextMessage(c.proc, (m) => m?.holding),
      30_000,
      'child holding',
    );
    c.proc.kill('SIGKILL');
    expect((await c.exit).signal).toBe('SIGKILL');
    const mb = Mutex.openAt(segs[1].shm, 0);
    const err = await mb.lock({ timeout: 10_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(OwnerDeadError);
    err.guard.unlock();
    for (const s of segs) s.shm.close();
  }, 40_000);
});
