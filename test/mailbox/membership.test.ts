// Membership: groups of several members, member slots taken and refused, and segments that are
// not mailbox groups.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Mailbox, MailboxGroup, SharedMemory } from '../../lib';
import { nextMessage } from '../helpers/util';
import { mailboxTestbed } from './setup';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { exchange } = require('./fixtures/mailbox-messages.cjs');

const { name, child, keep } = mailboxTestbed();

describe('MailboxGroup: many members', () => {
  it('a 4-member group sends all-to-all, fairly and in order per sender', async () => {
    const n = name();
    const members = 4;
    const count = 3000;
    const g = keep(MailboxGroup.create(n, { members, ringSize: 1 << 14 }));
    const kids = [1, 2, 3].map((id) => child({ role: 'allToAll', name: n, id, members, count }));
    const results = await Promise.all([
      exchange(g, members, count),
      ...kids.map((k) => nextMessage<{ result: unknown }>(k, (m) => m.result || m.error).then((m) => m.result ?? m)),
    ]);
    for (const [id, r] of results.entries()) {
      expect(r, `member ${id}`).toMatchObject({ received: count * 3, errors: [] });
      expect((r as { perSender: number[] }).perSender.filter((_x, i) => i !== id)).toEqual([count, count, count]);
    }
  }, 60_000);
});

describe('MailboxGroup: member slots and segments', () => {
  it('refuses a slot held by a live process, and a full group', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const c = child({ role: 'stream', name: n, id: 1, to: 0, count: 0, seed: 0, stay: true });
    await nextMessage(c, (m) => m.joined !== undefined);
    expect(() => MailboxGroup.join(n, { id: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_MAILBOX_MEMBER_TAKEN', member: 0 }),
    );
    expect(() => MailboxGroup.join(n)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_FULL' }));
    expect(g.memberInfo(1).state).toBe('alive');
  });

  it('refuses segments that are not mailbox groups, or of the wrong kind', () => {
    const n = name();
    const shm = keep(SharedMemory.create(n, { size: 4096 }));
    new Uint32Array(shm.buffer)[10] = 1; // "ready", but no magic
    expect(() => MailboxGroup.join(n)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_INCOMPATIBLE' }));
    const m = name();
    keep(MailboxGroup.create(m, { members: 3, ringSize: 4096 }));
    expect(() => Mailbox.open(m)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_INCOMPATIBLE' }));
    expect(() => MailboxGroup.join(name())).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('refuses a segment whose header is never published (too small, or not ready), after re-reading it for a while', () => {
    for (const size of [16, 4096]) {
      const n = name();
      keep(SharedMemory.create(n, { size })); // all zero: no header, or state 0 ("the creator is at work")
      const t0 = performance.now();
      expect(() => MailboxGroup.join(n), `${size} bytes`).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_INCOMPATIBLE' }));
      expect(performance.now() - t0, `${size} bytes`).toBeGreaterThanOrEqual(80); // 50 re-reads 2 ms apart
    }
  });

  it('joins a group whose header is published while it re-reads it', async () => {
    // A copy of a real group's segment with its state word (GroupHeader.state, word 10 of
    // native/core/mailbox/ring.hpp) back at 0, as a creator that publishes the header last leaves
    // it for a moment. A worker thread sets it to 1 shortly after this thread starts joining
    // (which blocks this thread, so the worker has to do it).
    const real = name();
    const g = MailboxGroup.create(real, { members: 2, ringSize: 4096 });
    const copy = name();
    const shm = keep(SharedMemory.create(copy, { size: 4 * 4096 }));
    const raw = keep(SharedMemory.open(real));
    expect(raw.size).toBeLessThanOrEqual(shm.size);
    new Uint8Array(shm.buffer).set(new Uint8Array(raw.buffer));
    const words = new Uint32Array(shm.buffer);
    expect(words[10]).toBe(1);
    words[10] = 0;
    g.close();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const { SharedMemory } = require(workerData.dist);
      const shm = SharedMemory.open(workerData.name);
      parentPort.postMessage('ready');
      Atomics.wait(workerData.flag, 0, 0); // until the main thread starts joining
      Atomics.wait(workerData.flag, 0, 1, 10); // 10 ms into its re-reads
      Atomics.store(new Uint32Array(shm.buffer), 10, 1);
      shm.close();
    `,
      { eval: true, workerData: { name: copy, flag, dist: path.join(__dirname, '..', '..', 'dist') } },
    );
    try {
      await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
      expect(() => MailboxGroup.join(copy, { id: 1 })).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_INCOMPATIBLE' })); // not yet
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      const b = keep(MailboxGroup.join(copy));
      expect(b.members).toBe(2);
      expect(words[10]).toBe(1);
    } finally {
      await worker.terminate();
    }
  });
});
