// close() ends the object's own pending operations at once, whatever the peer (another process) does:
// a receive() and a for-await of a Channel, a drained() waiting for a peer that does not read, a
// for-await of a Server, and a connection still waiting in the server to be taken. Each waits at most
// for its own close(), never for the peer.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connect, type Channel } from '../../lib';
import { sleep } from '../helpers/util';
import { channelTestKit, KINDS } from './helpers';

const { sock, child, server } = channelTestKit();

// Settles within the test's time, or says which promise was left pending.
function settled<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending 5 s after close()`)), 5000);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

describe('Channel.close() rejects its own pending operations with ERR_INVALID_STATE', () => {
  for (const kind of KINDS) {
    it(`${kind}: receive() and for-await pending on a channel whose peer (another process) is silent`, async () => {
      const peer = await child();
      const address = await peer.call<{ abstract: string }>('serveEcho', {
        address: { abstract: `interproc-pending-${process.pid}-${kind}-${Date.now()}` },
        options: { kind },
      });
      const ch = await connect(address, { kind });
      const a = ch.receive();
      const b = ch.receive({ timeout: 60_000 });
      let iterated = 0;
      const loop = (async () => {
        for await (const _ of ch) iterated++;
        return 'ended';
      })();
      await sleep(20);
      const closing = ch.close();
      await expect(settled(a, 'receive()')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      await expect(settled(b, 'receive({ timeout })')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      await expect(settled(loop, 'for-await')).resolves.toBe('ended'); // ends, does not throw
      expect(iterated).toBe(0);
      await settled(closing, 'close()');
    });
  }

  it('drained() waiting for room while the peer (another process) does not read', async () => {
    const s = await server(sock('stuck'));
    const accepted = once(s, 'connection');
    const peer = await child();
    await peer.call('connect', { address: s.address, options: { maxBufferedMessages: 1 } }); // reads one, then stops
    const [ch] = (await accepted) as [Channel];
    const chunk = Buffer.alloc(64 * 1024);
    while (ch.send(chunk));
    await sleep(50);
    expect(ch.queuedBytes).toBeGreaterThan(0); // the kernel's buffers are full: this waits for the peer
    const waiting = ch.drained();
    const waitingWithTimeout = ch.drained({ timeout: 60_000 });
    const closing = ch.close({ timeout: 200 });
    await expect(settled(waiting, 'drained()')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(settled(waitingWithTimeout, 'drained({ timeout })')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(ch.closed).toBe(false); // close() itself still tries to send the queue, for its own timeout
    await settled(closing, 'close({ timeout })');
    expect(ch.errored).toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
  });
});

describe('Server.close() ends what waits on it', () => {
  for (const kind of KINDS) {
    it(`${kind}: a pending for-await of the server ends, and channels it holds end their waits`, async () => {
      const s = await server(sock(`server-pending-${kind}`), { kind });
      const it = s[Symbol.asyncIterator]();
      const first = it.next(); // nothing has connected yet: pending
      const peer = await child();
      const { id } = await peer.call<{ id: number }>('connect', { address: s.address, options: { kind } });
      if (kind === 'datagram') await peer.call('send', { chan: id, text: 'hello' }); // a datagram peer exists once it sends
      const got = await settled(first, 'for-await of the server');
      expect(got.done).toBe(false);
      const ch = got.value as Channel;
      if (kind === 'datagram') expect((await ch.receive()).data.toString()).toBe('hello');
      const receiving = ch.receive();
      const next = it.next();
      await sleep(20);
      const closing = s.close();
      await expect(settled(next, 'for-await of the server')).resolves.toMatchObject({ done: true });
      await expect(settled(receiving, 'receive() of an accepted channel')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      await settled(closing, 'Server.close()');
      expect(ch.closed).toBe(true);
    });
  }

  it('a connection still waiting to be taken (no listener, no for-await) is closed: the peer (another process) sees the end', async () => {
    const s = await server(sock('server-backlog'));
    const peer = await child();
    const { id } = await peer.call<{ id: number }>('connect', { address: s.address });
    await sleep(50);
    const receiving = peer.call('receive', { chan: id, timeout: 30_000 });
    await settled(s.close(), 'Server.close()');
    await expect(settled(receiving, "the peer's receive()")).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
  });
});
