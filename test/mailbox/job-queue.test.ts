// The job-queue example (examples/mailbox-job-queue) run end to end.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mailboxTestbed } from './setup';

mailboxTestbed(); // the clean-up hooks of every mailbox test file

describe('Mailbox: the job-queue example', () => {
  it('dispatches jobs to separate worker programs and collects every result', async () => {
    const script = path.join(__dirname, '..', '..', 'examples', 'mailbox-job-queue', 'dispatcher.cjs');
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, [script, '2', '6'], { timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr }),
      );
    });
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(new Set(lines.map((l) => Number(/^job (\d+)/.exec(l)?.[1])))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(lines.some((l) => l.includes('worker 1')) && lines.some((l) => l.includes('worker 2'))).toBe(true);
    expect(lines[0]).toMatch(/fib\(\d+\) = \d+/);
  });
});
