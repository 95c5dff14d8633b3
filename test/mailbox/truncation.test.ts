// A mailbox group's segment truncated by a process of the same user while a producer and a consumer
// run (issue 16 item 4): every member lives, the honest producer included; sends and receives
// reject with ERR_SHM_TRUNCATED, and no message read from the lost pages is delivered.
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MailboxGroup } from '../../lib';
import { settle, truncateShm, truncationSuite } from '../helpers/truncate';

const { kids, name } = truncationSuite();

describe('a mailbox group whose segment is truncated', () => {
  for (const [doorbell, half] of [
    ['eventfd', false],
    ['eventfd', true],
    ['futex', false],
    ['futex', true],
  ] as const) {
    it(`producer and consumer (${doorbell} doorbell) live and get ERR_SHM_TRUNCATED (truncated to ${half ? 'half' : '0'})`, async () => {
      const n = name('trunc-mb');
      using g = MailboxGroup.create(n, { members: 3, id: 2, ringSize: 4096, doorbell });
      const consumer = await kids.start({ role: 'mailbox', name: n, id: 1, peer: 0, send: false, doorbell });
      const producer = await kids.start({ role: 'mailbox', name: n, id: 0, peer: 1, send: true, doorbell });
      await settle(200); // let messages flow, and the rings fill up and drain
      truncateShm(n, half ? Math.floor(statSync(`/dev/shm${n}`).size / 2) : 0);
      const [p, c] = await Promise.all([kids.report(producer), kids.report(consumer)]);
      expect(p).toMatchObject({ code: 'ERR_SHM_TRUNCATED', again: 'ERR_SHM_TRUNCATED' });
      expect(c).toMatchObject({ code: 'ERR_SHM_TRUNCATED', again: 'ERR_SHM_TRUNCATED' });
      expect(p.rounds as number).toBeGreaterThan(0);
      // This member, which did nothing meanwhile, finds out at its next operation.
      expect(() => g.trySend(0, 'x')).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
      expect(() => g.tryReceive()).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
      await expect(g.receive(0)).rejects.toMatchObject({ code: 'ERR_SHM_TRUNCATED' });
    });
  }

  it('a receiveSync blocking its thread ends with ERR_SHM_TRUNCATED', async () => {
    const n = name('trunc-mbsync');
    using g = MailboxGroup.create(n, { members: 2, id: 0, ringSize: 4096 });
    const child = await kids.start({ role: 'mailboxSync', name: n, id: 1, peer: 0 });
    await settle();
    truncateShm(n, 0);
    const r = await kids.report(child);
    expect(r.code).toBe('ERR_SHM_TRUNCATED');
    expect(() => g.trySend(1, 'x')).toThrow(expect.objectContaining({ code: 'ERR_SHM_TRUNCATED' }));
  });

  it('a pending receive in this process rejects with ERR_SHM_TRUNCATED', async () => {
    const n = name('trunc-mbwait');
    using g = MailboxGroup.create(n, { members: 2, id: 0, ringSize: 4096 });
    const pending = g.receive(1);
    truncateShm(n, 0);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_SHM_TRUNCATED' });
  });
});
