// The two-party Mailbox between two processes: echo round trips (async, sync, both doorbells),
// and the creation race of a side that opens the instant the name appears.
import { describe, expect, it } from 'vitest';
import { Mailbox } from '../../lib';
import { nextMessage, sleep } from '../helpers/util';
import { mailboxTestbed } from './setup';

const { name, child, keep } = mailboxTestbed();

describe('Mailbox: two processes', () => {
  it('round-trips messages with an async echo child, without blocking either event loop', async () => {
    const n = name();
    const mb = keep(Mailbox.create(n, { ringSize: 4096 }));
    const c = child({ role: 'echo', name: n });
    await nextMessage(c, (m) => m.joined !== undefined);
    expect(mb.peer.state).toBe('alive');
    expect(mb.peer.pid).toBe(c.pid);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    for (let i = 0; i < 200; i++) {
      await mb.send(`message ${i}`);
      expect((await mb.receive({ timeout: 10000 })).toString()).toBe(`message ${i}`);
      if (i % 50 === 0) await sleep(10); // let the echo side fall asleep: exercises the doorbell
    }
    clearInterval(timer);
    const done = nextMessage<{ ticks: number }>(c, (m) => m.done);
    await mb.send(new Uint8Array(0));
    expect((await done).ticks).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(0);
  });

  it('works with sync blocking calls on the other side and the futex doorbell', async () => {
    for (const [sync, doorbell] of [
      [true, 'eventfd'],
      [false, 'futex'],
      [true, 'futex'],
    ] as const) {
      const n = name();
      const mb = keep(Mailbox.create(n, { ringSize: 8192, doorbell }));
      const c = child({ role: 'echo', name: n, sync, doorbell });
      await nextMessage(c, (m) => m.joined !== undefined);
      for (let i = 0; i < 100; i++) {
        const data = Buffer.alloc(i * 7 + 1, i); // never empty: that is the echo's stop signal
        await mb.send(data);
        const back = i % 2 ? mb.receiveSync({ timeout: 10000 }) : await mb.receive({ timeout: 10000 });
        expect(back.equals(data)).toBe(true);
        if (i % 25 === 0) await sleep(5);
      }
      mb.sendSync(Buffer.alloc(0));
      await nextMessage(c, (m) => m.done);
    }
  });
});

describe('Mailbox: creation races', () => {
  it("a process opening the instant the name appears never takes the creator's side (20 rounds)", async () => {
    for (let round = 0; round < 20; round++) {
      const n = name('eager');
      const c = child({ role: 'eagerOpen', name: n });
      await nextMessage(c, (m) => m.looping);
      const mb = keep(Mailbox.create(n, { ringSize: 4096 }));
      expect(mb.id).toBe(0);
      const r = await nextMessage<{ side: number; code?: string }>(c, (m) => m.side !== undefined);
      expect(r).toEqual({ side: 1 });
    }
  });
});
