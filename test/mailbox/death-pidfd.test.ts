// Death detection by pidfd (lib/mailbox/peer-watch.ts): a receive or a send waiting on a member
// that is SIGKILLed rejects with ERR_MAILBOX_PEER_DEAD, and a MailboxTransport reports the peer
// down; the same with pidfds forced off (INTERPROC_PIDFD=0: the liveness checks on an interval).
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { MailboxGroup, MailboxTransport } from '../../dist';
import { exited, forkFixture, killAll, leftoverShm, nextMessage, uniqueName } from '../helpers/util';

const children: ChildProcess[] = [];
afterEach(() => killAll(children));

async function member(name: string): Promise<{ child: ChildProcess; pid: number; member: number }> {
  const child = forkFixture('monitor/ender.cjs', ['member', name]);
  children.push(child);
  return { child, ...(await nextMessage<{ pid: number; member: number }>(child, (m) => m.ready)) };
}

describe.each([
  ['pidfd', undefined],
  ['liveness fallback', '0'],
])('a SIGKILLed member, %s', (_label, env) => {
  it('ends a pending receive, a pending send, and is reported by a MailboxTransport', async () => {
    const saved = process.env.INTERPROC_PIDFD;
    if (env === undefined) delete process.env.INTERPROC_PIDFD;
    else process.env.INTERPROC_PIDFD = env;
    const name = uniqueName('death-pidfd');
    const g = MailboxGroup.create(name, { members: 3, ringSize: 4096 });
    try {
      const a = await member(name);
      const b = await member(name);
      const receive = g.receive(a.member).catch((e) => e);
      while (g.trySend(b.member, 'fill'));
      const send = g.send(b.member, 'one more').catch((e) => e);
      const t = new MailboxTransport(g);
      const downs: [number, string][] = [];
      t.on('peer-down', (p, e) => downs.push([p, (e as Error & { code: string }).code]));
      a.child.kill('SIGKILL');
      b.child.kill('SIGKILL');
      expect(await receive).toMatchObject({ code: 'ERR_MAILBOX_PEER_DEAD', member: a.member, pid: a.pid });
      expect(await send).toMatchObject({ code: 'ERR_MAILBOX_PEER_DEAD', member: b.member, pid: b.pid });
      await Promise.all([exited(a.child), exited(b.child)]);
      while (downs.length < 2) await new Promise((r) => setTimeout(r, 5));
      expect(downs.sort()).toEqual(
        [
          [a.member, 'ERR_MAILBOX_PEER_DEAD'],
          [b.member, 'ERR_MAILBOX_PEER_DEAD'],
        ].sort(),
      );
      t.close();
    } finally {
      g.close();
      MailboxGroup.unlink(name);
      if (saved === undefined) delete process.env.INTERPROC_PIDFD;
      else process.env.INTERPROC_PIDFD = saved;
    }
    expect(leftoverShm()).toEqual([]);
  });
});
