// worker.terminate() of a worker thread blocked in a Sync form (lockSync, acquireSync, waitSync,
// lockWriteSync, lockReadSync): the wait must end when the worker's environment is torn down, not
// when the resource is freed. Run in a child process (test/sync/fixtures/terminate-child.cjs), so a
// hung worker cannot hang this one.
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib';
import { within } from '../helpers/sync';
import { exited, forkFixture, leftoverShm, nextMessage, uniqueName } from '../helpers/util';

describe('Sync waits and worker.terminate()', () => {
  it('every blocking Sync form ends when its worker is terminated; what it waited for is untouched', async () => {
    const name = uniqueName('sync-term');
    const child = forkFixture('sync/terminate-child.cjs', [name]);
    const gone = exited(child);
    try {
      const report: any = await within(
        nextMessage(child, (m) => m?.done),
        150_000,
        'terminate child',
      );
      expect(report.error).toBeUndefined();
      expect(report.results).toEqual(
        [
          'lockSync',
          'acquireSync',
          'robustAcquireSync',
          'conditionWaitSync',
          'barrierWaitSync',
          'lockWriteSync',
          'lockReadSync',
        ].map((form) => ({ form, outcome: 'terminated' })),
      );
      expect(report.after).toEqual({ mutexFree: true, rwFree: true, barrierBroken: true, semaphoreValue: 0 });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await gone;
      SharedMemory.unlink(name);
    }
    expect(leftoverShm()).toEqual([]);
  }, 160_000);
});
