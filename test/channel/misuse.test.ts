// Misuse and bad input: Node-style errors, and nothing changes (no fd, no queued byte); methods
// that return a Promise reject with them, never throw.
import { once } from 'node:events';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, listen, type Channel } from '../../lib';
import { openFds, sleep } from '../helpers/util';
import { channelTestKit } from './helpers';

const { dir, sock, server } = channelTestKit();

describe('misuse and bad input', () => {
  it('throws Node-style errors and changes nothing', async () => {
    await expect(listen({ path: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(listen({ path: 'x'.repeat(200) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(listen(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(listen(sock('bad'), { kind: 'pipe' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(listen(sock('bad'), { maxFds: 300 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(listen(path.join(dir, 'no-such-dir', 'x.sock'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'bind' });
    await expect(connect(sock('nobody'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
    const s = await server(sock('misuse'));
    const ch = await connect(s.address);
    const fds = openFds();
    expect(() => ch.send(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => ch.send('x', { fds: [123456] })).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => ch.send('x', { fds: [-1] })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => ch.send(Buffer.alloc(17 * 1024 * 1024))).toThrow(expect.objectContaining({ code: 'ERR_MESSAGE_TOO_LARGE' }));
    expect(ch.queuedBytes).toBe(0);
    expect(openFds()).toBe(fds);
    await expect(ch.receive({ timeout: 20 })).rejects.toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
    const ac = new AbortController();
    const p = ch.receive({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await ch.close();
    expect(() => ch.send('late')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    await expect(ch.receive()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });
});

// Calls `fn`, which must not throw, and expects its promise to reject with `code`.
async function rejects(fn: () => Promise<unknown>, code: string): Promise<void> {
  let p: Promise<unknown> | undefined;
  expect(() => {
    p = fn();
  }).not.toThrow();
  expect(p).toBeInstanceOf(Promise);
  await expect(p).rejects.toMatchObject({ code });
}

describe('methods that return a Promise reject, never throw, on bad arguments or options', () => {
  it('listen() and connect()', async () => {
    await rejects(() => listen(42 as never), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => listen(sock('opts'), null as never), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => listen(sock('opts'), { mode: -1 }), 'ERR_OUT_OF_RANGE');
    await rejects(() => listen(sock('opts'), { backlog: 1.5 }), 'ERR_OUT_OF_RANGE');
    await rejects(() => listen(sock('opts'), { replaceStale: 'yes' as never }), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => listen(sock('opts'), { allowUids: 'me' as never }), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => listen(sock('opts'), { allowGids: [-1] }), 'ERR_OUT_OF_RANGE');
    await rejects(() => listen('tcp://127.0.0.1:0', { allowUids: [0] }), 'ERR_INVALID_ARG_VALUE');
    await rejects(() => listen(sock('opts'), { codec: 'json' as never }), 'ERR_INVALID_ARG_VALUE');
    const s = await server(sock('opts-server'));
    await rejects(() => connect(42 as never), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => connect(s.address, null as never), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => connect(s.address, { timeout: -1 }), 'ERR_OUT_OF_RANGE');
    await rejects(() => connect(s.address, { timeout: 'soon' as never }), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => connect(s.address, { signal: {} as never }), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => connect(s.address, { kind: 'pipe' as never }), 'ERR_INVALID_ARG_VALUE');
    await rejects(() => connect(s.address, { maxBufferedMessages: 0 }), 'ERR_OUT_OF_RANGE');
    expect(s.connections).toBe(0); // nothing connected
  });

  it('receive(), drained() and close() of a channel, close() of a server', async () => {
    const s = await server(sock('opts-channel'));
    const accepted = once(s, 'connection');
    const ch = await connect(s.address);
    const [peer] = (await accepted) as [Channel];
    const before = openFds();
    for (const bad of [null, 'x', [], { timeout: -1 }, { timeout: 'x' }, { signal: 'x' }]) {
      await rejects(() => ch.receive(bad as never), codeFor(bad));
      await rejects(() => ch.drained(bad as never), codeFor(bad)); // also with nothing queued
    }
    // A message already held is not taken by a call with bad options.
    peer.send('held');
    await sleep(50);
    await rejects(() => ch.receive({ timeout: -1 }), 'ERR_OUT_OF_RANGE');
    expect((await ch.receive({ timeout: 10_000 })).data.toString()).toBe('held');
    await rejects(() => ch.close(null as never), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => ch.close({ timeout: -5 }), 'ERR_OUT_OF_RANGE');
    expect(ch.closed).toBe(false); // a bad close() changes nothing: the channel still works
    ch.send('still open');
    expect((await peer.receive({ timeout: 10_000 })).data.toString()).toBe('still open');
    await rejects(() => s.close(null as never), 'ERR_INVALID_ARG_TYPE');
    await rejects(() => s.close({ timeout: 'x' as never }), 'ERR_INVALID_ARG_TYPE');
    expect(s.closed).toBe(false);
    expect(openFds()).toBe(before);
    await ch.close();
  });
});

function codeFor(bad: unknown): string {
  return typeof bad === 'object' && bad !== null && !Array.isArray(bad) && (bad as { timeout?: unknown }).timeout === -1
    ? 'ERR_OUT_OF_RANGE'
    : 'ERR_INVALID_ARG_TYPE';
}
