// What a member leaves behind when its environment goes away without close(): a process that ends
// by itself (process.exit, the end of its event loop, an uncaught exception) leaves its slot, so a
// peer's for-await ends; only a death (SIGKILL) is ERR_MAILBOX_PEER_DEAD. A worker thread that is
// terminated releases its slot and every doorbell fd it had.
import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Mailbox, MailboxGroup } from '../../lib';
import { exited, nextMessage } from '../helpers/util';
import { mailboxTestbed } from './setup';

const { name, child, keep } = mailboxTestbed();

/** Eventfds open in this process. */
function eventfds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]') n++;
    } catch {
      // closed meanwhile (the listing's own fd)
    }
  }
  return n;
}

/** Every message of a Mailbox's for-await loop, and how the loop ended: 'ended' or the error code. */
async function drain(mb: Mailbox): Promise<{ got: string[]; end: string }> {
  const got: string[] = [];
  try {
    for await (const m of mb) got.push(m.toString());
    return { got, end: 'ended' };
  } catch (err) {
    return { got, end: (err as { code?: string }).code ?? String(err) };
  }
}

describe('Mailbox: a peer that ends without close()', () => {
  for (const how of ['exit', 'natural', 'throw'] as const) {
    it(`ending by ${how === 'exit' ? 'process.exit()' : how === 'natural' ? 'the end of its event loop' : 'an uncaught exception'} leaves its slot: the peer's for-await ends after every message`, async () => {
      const n = name();
      const mb = keep(Mailbox.create(n, { ringSize: 4096 }));
      const c = child({ role: 'exitWithoutClose', name: n, count: 5, how });
      const done = exited(c);
      const { got, end } = await drain(mb);
      expect({ got, end }).toEqual({ got: ['m0', 'm1', 'm2', 'm3', 'm4'], end: 'ended' });
      expect((await done).code).toBe(how === 'throw' ? 1 : 0);
      expect(mb.peer.state).toBe('left');
    });
  }

  it('a peer SIGKILLed is ERR_MAILBOX_PEER_DEAD, after every message it sent', async () => {
    const n = name();
    const mb = keep(Mailbox.create(n, { ringSize: 4096 }));
    const c = child({ role: 'exitWithoutClose', name: n, count: 5, how: 'stay' });
    await nextMessage(c, (m) => m.sent !== undefined);
    const done = exited(c);
    c.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    expect(await drain(mb)).toEqual({ got: ['m0', 'm1', 'm2', 'm3', 'm4'], end: 'ERR_MAILBOX_PEER_DEAD' });
    expect(mb.peer.state).toBe('dead');
  });
});

describe('MailboxGroup: members in worker threads', () => {
  for (const doorbell of ['eventfd', 'futex'] as const) {
    it(`a terminated worker leaves its slot and closes its fds: 7 of them, then 7 joins of an 8-member group (${doorbell})`, async () => {
      const n = name();
      const g = keep(MailboxGroup.create(n, { members: 8, ringSize: 4096 }));
      const before = eventfds();
      const hello = g.receive(undefined, { timeout: 20000 }); // asleep: workers fetch member 0's eventfd to wake it
      for (let i = 0; i < 7; i++) {
        const w = new Worker(path.join(__dirname, 'fixtures', 'worker-member.cjs'), { workerData: { name: n, doorbell } });
        const { joined } = await new Promise<{ joined: number }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        expect(g.memberInfo(joined).state).toBe('alive');
        await w.terminate();
        expect(g.memberInfo(joined)).toEqual({ id: joined, pid: null, state: 'left' });
      }
      await hello;
      while (g.tryReceive() !== undefined) {}
      expect(eventfds()).toBe(before); // each worker's own eventfd and its duplicate of member 0's
      const joiners = [...Array(7)].map(() => keep(MailboxGroup.join(n)));
      expect(joiners.map((j) => j.id).sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });
  }
});
