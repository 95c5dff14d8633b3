// Misuse and bad input: Node-style errors, and nothing changes (no fd, no queued byte).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, listen } from '../../lib';
import { openFds } from '../helpers/util';
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
    await expect(ch.receive()).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
  });
});
