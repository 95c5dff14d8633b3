// Column: message passing over Unix sockets (interproc channels, the stream kind): send() and receive(),
// the kernel copies and orders, a blocked receive() is the synchronisation.
import fs from 'node:fs';
import path from 'node:path';
import { listen, connect } from '../../channel/connect';
import type { Channel } from '../../channel/channel';
import type { Column, Transport } from './column';
import { retry } from './wire';

function transport(ch: Channel, close: () => Promise<void>): Transport {
  return {
    send(data) {
      // send() reads the bytes when the kernel takes them, and the caller reuses its buffer: copy in
      if (!ch.send(Buffer.from(data))) return ch.drained();
    },
    async receive() {
      return (await ch.receive()).data as Buffer;
    },
    close,
  };
}

export const channelColumn: Column = {
  id: 'channel',
  title: 'message passing (Unix socket Channel)',
  model: 'message passing',
  reference: 'shm',
  mechanism: {
    communication: 'send()/receive() of framed messages over a Unix stream socket',
    dataAccess: 'copied: user buffer → kernel socket buffer → new Buffer',
    synchronisation: 'implicit: receive() waits in the event loop (epoll) for the kernel',
  },
  traits: { communication: 'explicit', dataAccess: 'copied', synchronisation: 'implicit' },
  example: 'socket.cjs',
  names: 'socket',
  crossesHosts: true,
  async pair({ name, role }) {
    if (role === 'a') {
      const server = await listen(name);
      const ch = await new Promise<Channel>((resolve) => server.once('connection', resolve));
      return transport(ch, async () => {
        await ch.close({ timeout: 1000 });
        await server.close({ timeout: 1000 });
      });
    }
    const ch = await retry(() => connect(name));
    return transport(ch, () => ch.close({ timeout: 1000 }));
  },
  fault: {
    kind: 'queue',
    async hub(name, hub, stopped) {
      const server = await listen(name);
      server.on('connection', (ch) => {
        let id = 0;
        ch.on('message', ({ data }) => {
          const b = data as Buffer;
          if (id === 0) id = b[0];
          else hub.onMessage(id, b);
        });
        ch.on('close', () => {
          if (id === 1) hub.onDeath(1, "the channel's 'close' event (the kernel closed the socket)");
        });
        ch.on('error', () => {});
      });
      await stopped;
      await server.close({ timeout: 500 });
    },
    async peer(name, id, produce, stopped) {
      const ch = await retry(() => connect(name));
      ch.send(Buffer.from([id]));
      let seq = 0;
      while (!stopped()) {
        for (let i = 0; i < 16; i++) ch.send(produce(seq++));
        await ch.drained();
        await new Promise((r) => setImmediate(r));
      }
      await ch.close({ timeout: 1000 });
      return seq;
    },
  },
  syncCost() {
    return { ns: 0, what: 'none in user code: send()/receive() synchronise through the kernel' };
  },
  async securityObject(dir) {
    const sockPath = path.join(dir, 'compare.sock');
    const server = await listen(sockPath);
    return {
      path: sockPath,
      kind: 'socket' as const,
      close: async () => {
        await server.close({ timeout: 500 });
        fs.rmSync(sockPath, { force: true });
      },
    };
  },
};
