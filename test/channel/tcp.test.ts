// TCP channels: the same API as Unix ones, without peer credentials or fds.
import { describe, expect, it } from 'vitest';
import { connect, listen } from '../../lib';
import { channelTestKit, nextChannel } from './helpers';

const { child, server } = channelTestKit();

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
    await expect(connect('tcp://127.0.0.1:1')).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    await expect(listen('tcp://127.0.0.1:0', { kind: 'seqpacket' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});
