// File descriptors passed over each kind of Unix channel (SCM_RIGHTS): an anonymous SharedMemory
// both ways, the sending duplicate closed once sent, the received one the receiver's.
import { closeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib';
import { openFds } from '../helpers/util';
import { channelTestKit, KINDS, nextChannel } from './helpers';

const { sock, child, server } = channelTestKit();

describe('channels between separate processes', () => {
  for (const kind of KINDS) {
    it(`${kind}: passes an anonymous SharedMemory whose writes the receiver then sees`, async () => {
      const s = await server(sock(`shm-${kind}`), { kind });
      const c = await child();
      const accepted = nextChannel(s);
      const { id } = await c.call<{ id: number }>('connect', { address: s.address, options: { kind } });
      await c.call('send', { chan: id, text: 'hi' });
      const ch = await accepted;
      await ch.receive({ timeout: 10_000 });
      using shm = SharedMemory.anonymous({ size: 4096 });
      Buffer.from(shm.buffer).write('parent wrote this', 0);
      const before = openFds();
      ch.send('parent wrote this', { fds: [shm.fd] });
      const r = await c.call<{ text: string }>('receiveShm', { chan: id, write: 'child wrote that' });
      expect(r.text).toBe('parent wrote this');
      expect(Buffer.from(shm.buffer, 100, 16).toString()).toBe('child wrote that');
      expect(openFds()).toBe(before); // the duplicate taken for sending is closed once sent
      // and the other way: the child's segment arrives here as a new fd
      await c.call('sendShm', { chan: id, text: 'segment of the child' });
      const m = await ch.receive({ timeout: 10_000 });
      expect(m.fds).toHaveLength(1);
      const theirs = SharedMemory.fromFd(m.fds[0]);
      closeSync(m.fds[0]);
      expect(Buffer.from(theirs.buffer, 0, 20).toString()).toBe('segment of the child');
      Buffer.from(theirs.buffer).write('seen', 100);
      expect(await c.call('readShm', { length: 4 })).toBe('seen');
      theirs.close();
    });
  }
});
