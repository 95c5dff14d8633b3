// Column: message passing over shared memory (interproc Mailbox, MailboxGroup): await send() and
// await receive() on single-producer/single-consumer rings in one segment; the library does the
// synchronisation (index stores, an eventfd doorbell into the event loop).
import fs from 'node:fs';
import { Mailbox } from '../../mailbox/mailbox';
import { MailboxGroup } from '../../mailbox/group';
import type { Column } from './column';
import { retry, sleep } from './wire';

const ringFor = (size: number) => (size > 4096 ? 1 << 20 : 1 << 18);

export const mailboxColumn: Column = {
  id: 'mailbox',
  title: 'message passing over shared memory (Mailbox)',
  model: 'message passing',
  reference: 'shm',
  mechanism: {
    communication: 'send()/receive() of messages through SPSC rings in one /dev/shm segment',
    dataAccess: 'copied: user buffer → ring → new Buffer (no kernel copy)',
    synchronisation: 'implicit: ring index stores; receive() sleeps on an eventfd doorbell in the event loop',
  },
  traits: { communication: 'explicit', dataAccess: 'copied', synchronisation: 'implicit' },
  example: 'mailbox.cjs',
  names: 'shm',
  crossesHosts: false,
  async pair({ name, size, role }) {
    const mb = role === 'a' ? Mailbox.create(name, { ringSize: ringFor(size) }) : await retry(() => Mailbox.open(name), 10_000);
    while (mb.peer.state !== 'alive' && mb.peer.state !== 'left') await sleep(2);
    return {
      send: (d) => mb.send(d),
      receive: () => mb.receive(),
      close() {
        mb.close();
        if (role === 'a') Mailbox.unlink(name);
      },
    };
  },
  fault: {
    kind: 'queue',
    async hub(name, hub, stopped) {
      const group = MailboxGroup.create(name, { members: 3, ringSize: 1 << 16 });
      const serve = async (peer: number) => {
        for (;;) {
          try {
            const { data } = await group.receive(peer);
            hub.onMessage(peer, data);
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (code === 'ERR_MAILBOX_PEER_DEAD') hub.onDeath(peer, 'receive(from) rejected with ERR_MAILBOX_PEER_DEAD');
            return;
          }
        }
      };
      const loops = [serve(1), serve(2)];
      await stopped;
      group.close();
      MailboxGroup.unlink(name);
      await Promise.allSettled(loops);
    },
    async peer(name, id, produce, stopped) {
      const group = await retry(() => MailboxGroup.join(name, { id }));
      let seq = 0;
      while (!stopped()) {
        for (let i = 0; i < 16; i++) await group.send(0, produce(seq++));
        await new Promise((r) => setImmediate(r));
      }
      group.close();
      return seq;
    },
  },
  syncCost() {
    return { ns: 0, what: 'none in user code: send()/receive() publish ring indices and ring the doorbell' };
  },
  securityObject() {
    const name = `/interproc-compare-sec-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const mb = Mailbox.create(name);
    return {
      path: `/dev/shm${name}`,
      kind: 'file',
      close() {
        mb.close();
        Mailbox.unlink(name);
        fs.rmSync(`/dev/shm${name}`, { force: true });
      },
    };
  },
};
