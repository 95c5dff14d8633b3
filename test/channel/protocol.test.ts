// docs/protocol/channel-frames.md from another language: a python3 client exchanges frames and fds with a server.
import { closeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/util';
import { channelTestKit } from './helpers';

const { sock, cleanup, server } = channelTestKit();

describe('a python3 client speaking docs/protocol/channel-frames.md', () => {
  it('exchanges frames (split and joined) and fds with the server', async () => {
    const s = await server(sock('py'));
    s.on('connection', (ch) =>
      ch.on('message', (m) => {
        ch.send(Buffer.concat([Buffer.from('echo:'), m.data]), { fds: m.fds });
        for (const fd of m.fds) closeSync(fd);
      }),
    );
    const py = spawn('python3', [fixture('channel', 'protocol-client.py'), (s.address as { path: string }).path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => {
      if (py.exitCode === null) py.kill('SIGKILL');
    });
    let out = '';
    py.stdout.on('data', (d) => (out += d));
    py.stderr.on('data', (d) => (out += d));
    const [code] = await once(py, 'exit');
    expect(out).toContain('python client ok');
    expect(code).toBe(0);
  });
});
