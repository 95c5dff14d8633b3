// TCP channels: the same API as Unix ones, without peer credentials or fds.
import { describe, expect, it } from 'vitest';
import { connect, listen, type Channel } from '../../lib';
import { native } from '../../lib/internal/binding';
import { openFds } from '../helpers/util';
import { channelTestKit, nextChannel } from './helpers';

const { cleanup, child, server } = channelTestKit();

describe('TCP: the same channel API', () => {
  it('tcp://127.0.0.1:0 carries frames, has no peer credentials and refuses fds', async () => {
    const s = await server('tcp://127.0.0.1:0');
    const addr = s.address as { host: string; port: number };
    expect(addr.host).toBe('127.0.0.1');
    expect(addr.port).toBeGreaterThan(0);
    const c = await child();
    const accepted = nextChannel(s);
    const { id } = await c.call<{ id: number }>('connect', { address: `tcp://localhost:${addr.port}` });
    const ch = await accepted;
    expect(ch.peer).toBeNull();
    await c.call('send', { chan: id, size: 100_000, fill: 7 });
    const m = await ch.receive({ timeout: 10_000 });
    expect(m.data.length).toBe(100_000);
    expect(m.data.every((b) => b === 7)).toBe(true);
    expect(() => ch.send('x', { fds: [0] })).toThrow(expect.objectContaining({ code: 'ERR_FDS_NOT_SUPPORTED' }));
    const refused = await connect('tcp://127.0.0.1:1').catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 1 });
    expect(refused).not.toHaveProperty('path');
    // a port in use: listen's error names address and port too
    const taken = await listen({ host: '127.0.0.1', port: addr.port }).catch((err: unknown) => err);
    expect(taken).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1', port: addr.port });
    expect(taken).not.toHaveProperty('path');
    await expect(listen('tcp://127.0.0.1:0', { kind: 'seqpacket' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});

describe('TCP connect that does not complete', () => {
  // A listener that never accepts, with the smallest backlog: once its accept queue is full the
  // kernel drops further SYNs, so a connect stays in progress.
  async function fullListener(): Promise<string> {
    const fd = native.sockListen(0, 2, '127.0.0.1', 0, 1, 0o600, true);
    cleanup.push(() => native.closeFd(fd));
    const [, host, port] = native.sockLocalAddress(fd);
    return `tcp://${host}:${port}`;
  }

  // Connects until one does not complete; returns its error and the channels that did connect.
  async function pendingConnect(
    address: string,
    options: { timeout?: number; signal?: AbortSignal },
  ): Promise<[unknown, Channel[]]> {
    const done: Channel[] = [];
    cleanup.push(() => {
      for (const ch of done) ch.destroy();
    });
    for (let i = 0; i < 8; i++) {
      try {
        done.push(await connect(address, options));
      } catch (err) {
        return [err, done];
      }
    }
    throw new Error('every connect completed: the accept queue never filled');
  }

  it('times out with a TimeoutError (ETIMEDOUT) that names the syscall and the address, leaving no fd', async () => {
    const address = await fullListener();
    const before = openFds();
    const [err, done] = await pendingConnect(address, { timeout: 300 });
    const [host, port] = address.slice('tcp://'.length).split(':');
    // address and port as net gives them (not a URL in path)
    expect(err).toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT', syscall: 'connect', address: host, port: Number(port) });
    expect(err).not.toHaveProperty('path');
    expect((err as Error).message).toContain(`${host}:${port}`);
    for (const ch of done) ch.destroy();
    expect(openFds()).toBe(before); // the timed-out socket was closed too
  });

  it('an abort ends it with an AbortError carrying the reason', async () => {
    const address = await fullListener();
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('gave up')), 300);
    const [err] = await pendingConnect(address, { signal: ac.signal });
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: { message: 'gave up' } });
  });
});
