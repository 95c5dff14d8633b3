// close() ends the object's own pending operations: each rejects with ERR_INVALID_STATE (a for-await
// loop ends), for MailboxGroup and Mailbox, with either doorbell; the peer (another process) stays
// alive throughout, so nothing else could end them.
import { describe, expect, it } from 'vitest';
import { Mailbox, MailboxGroup } from '../../lib';
import { nextMessage } from '../helpers/util';
import { mailboxTestbed } from './setup';

const { name, child, keep } = mailboxTestbed();

/** What a promise ended with: its value or the code of its rejection. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (err) => (err as { code?: string }).code ?? String(err),
  );

/** A for-await loop over `it`, counting messages; resolves 'ended' when the loop ends, or the error's code. */
async function loop(it: AsyncIterable<unknown>): Promise<string> {
  try {
    for await (const _ of it);
    return 'ended';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

for (const doorbell of ['eventfd', 'futex'] as const) {
  describe(`close() with operations pending (${doorbell} doorbell)`, () => {
    it('MailboxGroup: a send waiting for room, receive, receiveMany, receiveView and for-await', async () => {
      const n = name();
      const g = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096, doorbell }));
      const c = child({ role: 'stream', name: n, id: 1, to: 2, count: 0, stay: true }); // alive, sends nothing
      await nextMessage(c, (m) => m.joined !== undefined);
      while (g.trySend(1, Buffer.alloc(1000))) {}
      const pending = {
        send: outcome(g.send(1, Buffer.alloc(1000))),
        sendBehind: outcome(g.send(1, Buffer.alloc(10))), // queued behind it (per-sender order)
        receive: outcome(g.receive(1)),
        receiveAny: outcome(g.receive()),
        receiveMany: outcome(g.receiveMany(1)),
        receiveView: outcome(g.receiveView()),
        timed: outcome(g.receive(1, { timeout: 60_000 })),
        forAwait: loop(g),
      };
      await new Promise((r) => setTimeout(r, 60)); // asleep, past a liveness tick
      g.close();
      expect(await Promise.all(Object.values(pending))).toEqual([
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ended',
      ]);
    });

    it('Mailbox: a send waiting for room, receive, receiveMany, receiveView and for-await', async () => {
      const n = name();
      const mb = keep(Mailbox.create(n, { ringSize: 4096, doorbell }));
      const c = child({ role: 'stream', name: n, id: 1, to: 0, count: 0, stay: true });
      await nextMessage(c, (m) => m.joined !== undefined);
      while (mb.trySend(Buffer.alloc(1000))) {}
      const pending = [
        outcome(mb.send(Buffer.alloc(1000))),
        outcome(mb.receive()),
        outcome(mb.receiveMany()),
        outcome(mb.receiveView()),
        loop(mb),
      ];
      await new Promise((r) => setTimeout(r, 60));
      mb.close();
      expect(await Promise.all(pending)).toEqual([
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ERR_INVALID_STATE',
        'ended',
      ]);
    });
  });
}
