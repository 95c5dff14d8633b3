// Death and rejoining: a member SIGKILLed or leaving is reported to whoever waits on it, never
// delivers a torn message, and its slot can be taken again.
import { describe, expect, it } from 'vitest';
import { Mailbox, MailboxGroup, type MailboxMessage } from '../../lib';
import { exited, nextMessage, sleep } from '../helpers/util';
import { mailboxTestbed } from './setup';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkMessage, sizeFor } = require('./fixtures/mailbox-messages.cjs');

const { name, child, keep } = mailboxTestbed();

describe('Mailbox: crashes and rejoining', () => {
  it('a producer SIGKILLed mid-stream 20 times never delivers a torn message; the consumer gets the death; the slot is rejoined', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 1 << 18 }));
    let total = 0;
    for (let k = 0; k < 20; k++) {
      const c = child({ role: 'stream', name: n, id: 1, to: 0, count: 1e12, seed: k, incarnation: k });
      const { pid } = await nextMessage<{ pid: number }>(c, (m) => m.joined !== undefined);
      expect(g.memberInfo(1)).toEqual({ id: 1, pid, state: 'alive' });
      const killAfter = 200 + ((k * 137) % 800);
      let seq = 0;
      let death: { code?: string; member?: number } | undefined;
      const gone = exited(c);
      for (;;) {
        if (seq === killAfter) c.kill('SIGKILL');
        let m: MailboxMessage | undefined;
        try {
          m = g.tryReceive(1) ?? (await g.receive(1, { timeout: 20000 }));
        } catch (err) {
          death = err as typeof death;
          break;
        }
        const why = checkMessage(m.data, k, seq, sizeFor(k, seq));
        if (why) throw new Error(`incarnation ${k}: ${why}`);
        seq++;
      }
      expect(death?.code).toBe('ERR_MAILBOX_PEER_DEAD');
      expect(death?.member).toBe(1);
      expect(seq).toBeGreaterThanOrEqual(killAfter);
      expect((await gone).signal).toBe('SIGKILL');
      expect(g.memberInfo(1).state).toBe('dead');
      total += seq;
    }
    expect(total).toBeGreaterThan(20 * 200);
  }, 120_000);

  it('a member that leaves is reported as closed, and a new process can take its slot', async () => {
    const n = name();
    const mb = keep(Mailbox.create(n, { ringSize: 1 << 18 }));
    expect(mb.peer.state).toBe('free');
    const first = child({ role: 'stream', name: n, id: 1, to: 0, count: 3, seed: 1 });
    await exited(first);
    expect(mb.peer.state).toBe('left');
    // Messages completed before leaving are still delivered, then the end is reported.
    const got: Buffer[] = [];
    for await (const m of mb) got.push(m);
    expect(got.length).toBe(3);
    await expect(mb.receive()).rejects.toMatchObject({ code: 'ERR_MAILBOX_PEER_CLOSED' });
    expect(() => mb.receiveSync({ timeout: 5000 })).toThrow(
      expect.objectContaining({ code: 'ERR_MAILBOX_PEER_CLOSED', member: 1 }),
    );
    const second = child({ role: 'stream', name: n, id: 1, to: 0, count: 5, seed: 2, incarnation: 9, stay: true });
    const { pid } = await nextMessage<{ pid: number }>(second, (m) => m.joined === 1);
    expect(mb.peer).toEqual({ id: 1, pid, state: 'alive' });
    for (let seq = 0; seq < 5; seq++) {
      const m = await mb.receive({ timeout: 10000 });
      expect(checkMessage(m, 9, seq, sizeFor(2, seq))).toBeUndefined();
    }
  });

  it('a send waiting on a full ring to a member that dies rejects; a free slot just queues', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096 }));
    while (g.trySend(2, 'for whoever joins member 2')); // nobody holds member 2: messages wait for it
    const c = child({ role: 'stream', name: n, id: 1, to: 0, count: 0, seed: 0, stay: true });
    await nextMessage(c, (m) => m.joined !== undefined);
    while (g.trySend(1, 'x'));
    const pending = g.send(1, 'y');
    const settled = pending.then(
      () => 'sent',
      (e) => e,
    );
    await sleep(100);
    expect(await Promise.race([settled, sleep(10).then(() => 'waiting')])).toBe('waiting');
    const gone = exited(c);
    c.kill('SIGKILL');
    await gone;
    expect(await settled).toMatchObject({ code: 'ERR_MAILBOX_PEER_DEAD', member: 1 });
    expect(g.memberInfo(2).state).toBe('free');
    await expect(g.send(2, 'for whoever joins member 2', { timeout: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' }); // waits, does not fail
  });
});
