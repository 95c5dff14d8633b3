// Point to point between separate processes: tag and source matching with out-of-order arrival,
// posted receives, sends to self, and MPI's non-overtaking rule (also over TCP).
import { describe, expect, it } from 'vitest';
import { runScenario } from './scenario';

describe('ProcessGroup point to point', () => {
  for (const transport of ['mailbox', 'tcp'] as const) {
    it(`matches by tag and source whatever the arrival order (${transport})`, async () => {
      const [zero] = await runScenario('matching', 3, transport);
      expect(zero?.got).toEqual(['t1', 't2', 't3']);
      expect(zero?.anyTag).toEqual([40, 'any-tag']);
      expect(zero?.posted).toEqual([2, 9, 'posted-first']);
      expect(zero?.self).toEqual([0, [1.5]]);
    });
    it(`keeps one sender's messages of one tag in order (non-overtaking, ${transport})`, async () => {
      const [zero] = await runScenario('order', 3, transport);
      expect(zero?.inOrder).toBe(true);
      expect(zero?.counts).toEqual([
        [1, 1999],
        [2, 1999],
      ]);
    });
  }
  it('a TCP group on loopback runs the collectives too', async () => {
    const reports = await runScenario('whoami', 3, 'tcp');
    expect(reports.map((r) => [r.rank, r.size, r.sum, r.transport])).toEqual([
      [0, 3, 3, 'tcp'],
      [1, 3, 3, 'tcp'],
      [2, 3, 3, 'tcp'],
    ]);
  });
});
