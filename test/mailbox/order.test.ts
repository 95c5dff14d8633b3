// Order: messages of one sender arrive in the order its calls were made, whatever waits for room,
// and receives take messages in the order they were called, whatever was already waiting.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MailboxGroup } from '../../lib';
import { fixture, nextMessage, sleep } from '../helpers/util';
import { mailboxTestbed } from './setup';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkMessage } = require('./fixtures/mailbox-messages.cjs');

const { name, child, keep } = mailboxTestbed();

/** The sequence numbers of messages made by makeMessage (tag 0), checked whole. */
function seqOf(data: Buffer): number {
  const seq = data.length >= 16 ? data.readUInt32LE(4) : -1;
  const why = checkMessage(data, 0, seq, data.length);
  if (why) throw new Error(why);
  return seq;
}

/** Runs mailbox-child.cjs role `sizes` to completion while this process's event loop is blocked. */
function sendBlocking(n: string, id: number, to: number, list: number[]): void {
  execFileSync(process.execPath, [
    fixture('mailbox', 'mailbox-child.cjs'),
    JSON.stringify({ role: 'sizes', name: n, id, to, list }),
  ]);
}

describe('Mailbox: per-sender order', () => {
  for (const sync of [false, true]) {
    it(`send() calls issued without awaiting arrive in call order when one waits for room and a later one fits${sync ? ' (then a sendSync)' : ''}`, async () => {
      const n = name();
      const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
      // A and B fill most of the ring; C (2000 B) waits for room; D (20 B) would fit at once.
      const c = child({ role: 'burst', name: n, id: 1, to: 0, list: [2000, 1000, 2000, 20], sync });
      const sent = nextMessage(c, (m) => m.sent !== undefined); // listening before it can come
      const issued = await nextMessage<{ tried: boolean }>(c, (m) => m.issued !== undefined);
      expect(issued.tried).toBe(false); // a trySend behind waiting sends says no
      await sleep(50); // let anything that would overtake do so
      const seqs: number[] = [];
      const want = sync ? 5 : 4;
      while (seqs.length < want) seqs.push(seqOf((await g.receive(1, { timeout: 20000 })).data));
      expect(seqs).toEqual([...Array(want).keys()]);
      expect(await sent).toEqual({ sent: want });
    });
  }

  it('a send that times out at the head of the queue lets the next ones go, in order', async () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const b = keep(MailboxGroup.join(n));
    const msg = (seq: number, size: number) => Buffer.concat([Buffer.from([seq]), Buffer.alloc(size - 1)]);
    expect(a.trySend(1, msg(0, 2000))).toBe(true);
    expect(a.trySend(1, msg(0, 1500))).toBe(true);
    const late = a.send(1, msg(1, 2000), { timeout: 30 }); // no room: waits, then gives up
    const next = a.send(1, msg(2, 16)); // fits, but queues behind it
    await expect(late).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await next;
    expect([b.tryReceive(0), b.tryReceive(0), b.tryReceive(0), b.tryReceive(0)].map((m) => m?.data[0])).toEqual([
      0,
      0,
      2,
      undefined,
    ]);
  });
});

describe('Mailbox: receive order', () => {
  it('a receive() called while another is pending does not take the message ahead of it', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const first = g.receive(1, { timeout: 20000 });
    await sleep(10); // asleep on its doorbell
    sendBlocking(n, 1, 0, [32, 32]); // both arrive while this event loop cannot run
    const second = g.receive(1, { timeout: 20000 });
    expect([seqOf((await first).data), seqOf((await second).data)]).toEqual([0, 1]);
  });

  it('tryReceive() and receiveSync() called while a receive is pending let it take the first message', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const first = g.receive(undefined, { timeout: 20000 });
    const firstMany = g.receiveMany(1, { timeout: 20000, max: 1 });
    await sleep(10);
    sendBlocking(n, 1, 0, [32, 32, 32, 32]);
    const tried = g.tryReceive(1);
    const synced = g.receiveSync(1, { timeout: 20000 });
    expect(seqOf((await first).data)).toBe(0);
    expect((await firstMany).map((m) => seqOf(m.data))).toEqual([1]);
    expect([tried, synced].map((m) => seqOf(m!.data))).toEqual([2, 3]);
  });
});
