// The transport adapters between separate processes: ordered messages both ways, and 'peer-down'
// when the peer is SIGKILLed (mailbox) or its channel closes (socket).
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelTransport, listen, MailboxGroup, MailboxTransport } from '../../dist';
import type { Transport } from '../../dist/rpc/transport';
import { exited, forkFixture, killAll, leftoverShm, nextMessage, uniqueName } from '../helpers/util';

const children: ChildProcess[] = [];
afterEach(() => killAll(children));

/** Sends `n` numbered messages to `peer` and resolves with the echoes, in arrival order. */
function roundTrip(t: Transport, peer: number, n: number): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve) => {
    t.on('message', (from, data) => {
      expect(from).toBe(peer);
      got.push(data.toString());
      if (got.length === n) resolve(got);
    });
    for (let i = 0; i < n; i++) expect(t.send(peer, Buffer.from(`m${i}`.padEnd(i % 7 === 0 ? 1500 : 4, '.')))).toBe(true);
  });
}

function downOf(t: Transport): Promise<{ peer: number; code: string }> {
  return new Promise((resolve) =>
    t.once('peer-down', (peer, err) => resolve({ peer, code: (err as Error & { code: string }).code })),
  );
}

describe('MailboxTransport', () => {
  it('carries ordered messages both ways (through full rings) and reports a SIGKILLed peer', async () => {
    const name = uniqueName('transport');
    const group = MailboxGroup.create(name, { members: 2, ringSize: 4096 });
    const t = new MailboxTransport(group);
    try {
      const child = forkFixture('rpc/transport-echo.cjs', ['mailbox', name]);
      children.push(child);
      await nextMessage(child, (m) => m.ready);
      await new Promise<void>((r) => (t.isUp(1) ? r() : t.once('peer-up', () => r())));
      const n = 2000;
      const got = await roundTrip(t, 1, n);
      expect(got.map((s) => s.replace(/\.+$/, ''))).toEqual(Array.from({ length: n }, (_, i) => `echo:m${i}`));
      const down = downOf(t);
      child.kill('SIGKILL');
      await exited(child);
      expect(await down).toEqual({ peer: 1, code: 'ERR_MAILBOX_PEER_DEAD' });
      expect(t.isUp(1)).toBe(false);
      expect(t.send(1, Buffer.from('x'))).toBe(false);
    } finally {
      t.close();
      group.close();
      MailboxGroup.unlink(name);
    }
    expect(leftoverShm()).toEqual([]);
  });
});

describe('ChannelTransport', () => {
  it('carries ordered messages both ways over a Unix socket and reports the close', async () => {
    const where = path.join(os.tmpdir(), `interproc-transport-${process.pid}.sock`);
    const server = await listen({ path: where });
    const t = new ChannelTransport(0);
    try {
      const child = forkFixture('rpc/transport-echo.cjs', ['channel', where]);
      children.push(child);
      const accepted = new Promise((r) => server.once('connection', r));
      await nextMessage(child, (m) => m.ready);
      t.add(1, (await accepted) as Parameters<ChannelTransport['add']>[1]);
      const n = 2000;
      const got = await roundTrip(t, 1, n);
      expect(got.map((s) => s.replace(/\.+$/, ''))).toEqual(Array.from({ length: n }, (_, i) => `echo:m${i}`));
      const down = downOf(t);
      child.kill('SIGKILL');
      expect((await down).peer).toBe(1);
      expect(t.send(1, Buffer.from('x'))).toBe(false);
    } finally {
      t.close();
      await server.close();
      rmSync(where, { force: true });
    }
  });
});
