// Batches: receiveMany/tryReceiveMany (from one member and from any) and cork()/uncork().
import { describe, expect, it } from 'vitest';
import { Mailbox, MailboxGroup } from '../../lib';
import { exited } from '../helpers/util';
import { mailboxTestbed } from './setup';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkMessage, sizeFor } = require('./fixtures/mailbox-messages.cjs');

const { name, child, keep } = mailboxTestbed();

describe('MailboxGroup: batches', () => {
  it('receives in batches: receiveMany/tryReceiveMany deliver a stream in order, and the copies outlive the ring', async () => {
    const n = name();
    const count = 200_000;
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 1 << 18 })); // messages up to 64 KiB
    const c = child({ role: 'stream', name: n, id: 1, to: 0, count, seed: 7 });
    const kept: { seq: number; data: Buffer }[] = [];
    let batches = 0;
    let largest = 0;
    for (let seq = 0; seq < count; ) {
      const max = [1, 7, 1024, 100_000][batches % 4];
      let batch = g.tryReceiveMany(1, max);
      if (batch.length === 0) batch = await g.receiveMany(1, { max, timeout: 20000 });
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(max);
      largest = Math.max(largest, batch.length);
      batches++;
      for (const m of batch) {
        expect(m.from).toBe(1);
        const why = checkMessage(m.data, 0, seq, sizeFor(7, seq));
        if (why) throw new Error(why);
        if (seq % 1000 === 0) kept.push({ seq, data: m.data });
        seq++;
      }
    }
    expect(batches).toBeLessThan(count); // batches really held several messages
    expect(largest).toBeGreaterThan(1);
    // The ring has been overwritten many times since: what we kept is ours, not a view of the ring.
    for (const { seq, data } of kept) expect(checkMessage(data, 0, seq, sizeFor(7, seq))).toBeUndefined();
    expect(g.tryReceiveMany(1)).toEqual([]);
    expect((await exited(c)).code).toBe(0);
  }, 120_000);

  it('receiveMany() from any member takes every sender in turn, in order per sender', async () => {
    const n = name();
    const count = 20_000;
    const g = keep(MailboxGroup.create(n, { members: 4, ringSize: 1 << 18 })); // messages up to 64 KiB
    const kids = [1, 2, 3].map((id) => child({ role: 'stream', name: n, id, to: 0, count, seed: id, incarnation: id }));
    const next = [0, 0, 0, 0];
    let mixed = 0;
    for (let got = 0; got < 3 * count; ) {
      let batch = g.tryReceiveMany(undefined, 512);
      if (batch.length === 0) batch = await g.receiveMany(undefined, { max: 512, timeout: 20000 });
      if (new Set(batch.map((m) => m.from)).size > 1) mixed++;
      for (const { from, data } of batch) {
        const why = checkMessage(data, from, next[from], sizeFor(from, next[from]));
        if (why) throw new Error(`from ${from}: ${why}`);
        next[from]++;
      }
      got += batch.length;
    }
    expect(next.slice(1)).toEqual([count, count, count]);
    expect(mixed).toBeGreaterThan(0); // one batch took from several senders
    for (const k of kids) expect((await exited(k)).code).toBe(0);
  }, 60_000);

  it('cork() holds messages back until uncork(), except when a ring fills up', () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const b = keep(MailboxGroup.join(n));
    a.cork();
    a.cork(); // nested
    expect(a.trySend(1, 'one')).toBe(true);
    expect(b.tryReceive(0)).toBeUndefined(); // written, not published
    a.uncork();
    expect(b.tryReceive(0)).toBeUndefined(); // still one cork left
    a.uncork();
    expect(b.tryReceive(0)?.data.toString()).toBe('one');
    a.cork();
    let sent = 0;
    while (a.trySend(1, Buffer.alloc(100))) sent++;
    expect(sent).toBeGreaterThan(30);
    // the ring filled up: everything written so far was published
    let got = 0;
    while (b.tryReceive(0)) got++;
    expect(got).toBe(sent);
    expect(a.trySend(1, 'last')).toBe(true);
    a.close(); // publishes what is complete
    expect(b.tryReceive(0)?.data.toString()).toBe('last');
  });

  it('validates the batch arguments', async () => {
    const n = name();
    const a = keep(Mailbox.create(n, { ringSize: 4096 }));
    const b = keep(Mailbox.open(n));
    for (const max of [0, -1, 1.5, 2 ** 31]) expect(() => a.tryReceiveMany(max)).toThrow(RangeError);
    expect(() => a.tryReceiveMany('3' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    await expect(a.receiveMany({ max: 0 })).rejects.toThrow(RangeError);
    await expect(a.receiveMany(null as never)).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    await expect(a.receiveMany({ timeout: 20 })).rejects.toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    expect(a.tryReceiveMany()).toEqual([]);
    for (let i = 0; i < 5; i++) b.trySend(`m${i}`);
    expect(a.tryReceiveMany(2).map(String)).toEqual(['m0', 'm1']);
    expect((await a.receiveMany()).map(String)).toEqual(['m2', 'm3', 'm4']);
    // a waiting receiveMany is woken by the first message and takes what is there
    const waiting = a.receiveMany({ timeout: 10000 });
    b.trySend('late');
    expect((await waiting).map(String)).toEqual(['late']);
    const v = a.tryReceiveView();
    expect(v).toBeUndefined();
    b.trySend('viewed');
    const view = a.tryReceiveView()!;
    expect(() => a.tryReceiveMany()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    view.release();
    a.close();
    expect(() => a.tryReceiveMany()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
  });
});
