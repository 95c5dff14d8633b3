// Corruption: a member that writes garbage into its own ring costs only its own messages, in
// single and batched receives, and no receive ever reads outside that ring's data area.
import { describe, expect, it } from 'vitest';
import { MailboxGroup, SharedMemory } from '../../lib';
import { native } from '../../lib/internal/binding';
import { layout } from '../../lib/mailbox/ring';
import { exited, forkFixture, nextMessage } from '../helpers/util';
import { mailboxTestbed, ringAt } from './setup';

const { name, keep } = mailboxTestbed();

describe('Mailbox: corrupt rings', () => {
  it('a sender that corrupts its ring costs only its own messages', () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096 }));
    const bad = keep(MailboxGroup.join(n, { id: 1 }));
    const good = keep(MailboxGroup.join(n, { id: 2 }));
    bad.trySend(0, 'fine');
    good.trySend(0, 'one');
    good.trySend(0, 'two');
    expect(a.tryReceive(1)?.data.toString()).toBe('fine');
    // member 1 "publishes" far more than it wrote, with a garbage length where a record should be
    const raw = keep(SharedMemory.open(n));
    const words = new Uint32Array(raw.buffer);
    const ring10 = ringAt(3, 4096, 1, 0);
    const tail = words[ring10 / 4];
    words[(ring10 + layout.ringHeaderSize + (tail % 4096)) / 4] = 4000;
    Atomics.store(words, ring10 / 4, tail + 4096);
    expect(() => a.tryReceive(1)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 }));
    expect(() => a.tryReceive(1)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT' }));
    const got = [a.tryReceive(), a.tryReceive()].map((m) => m?.data.toString());
    expect(got).toEqual(['one', 'two']); // receive-from-any skips the broken sender
    expect(a.tryReceive()).toBeUndefined();
  });

  it("random garbage in a sender's ring (lengths, padding, indices) only ever yields messages from its data area, or ERR_MAILBOX_CORRUPT", () => {
    // Seeded, so a failure is reproducible: 300 rounds, each a fresh group whose ring from member 0
    // to member 1 gets valid messages and then random words over its data area and its published
    // tail. Right after that ring's data lies the other ring's header, so a check that let a record
    // reach past the end would show up as bytes that are not in the data area.
    let seed = 12345;
    const rand = (n: number) => {
      // mulberry32: every bit usable (an LCG's low bits just alternate)
      seed = (seed + 0x6d2b79f5) >>> 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const cap = 4096;
    const outcomes = { messages: 0, corrupt: 0 };
    for (let round = 0; round < 300; round++) {
      const n = name();
      const a = MailboxGroup.create(n, { members: 2, ringSize: cap });
      const b = MailboxGroup.join(n);
      const raw = SharedMemory.open(n);
      try {
        for (let k = rand(20); k > 0; k--) a.trySend(1, Buffer.alloc(rand(300), k));
        const words = new Uint32Array(raw.buffer);
        const ring01 = ringAt(2, cap, 0, 1);
        const data = ring01 + layout.ringHeaderSize;
        for (let k = 1 + rand(6); k > 0; k--) {
          const kind = rand(4);
          // mostly on 8-byte boundaries, where record headers sit (beyond the tail every one does)
          const at = data / 4 + (rand(4) === 0 ? rand(cap / 4) : 2 * rand(cap / 8));
          words[at] = kind === 0 ? 0xffffffff : kind === 1 ? rand(cap) : kind === 2 ? rand(64) : rand(2 ** 32);
        }
        if (rand(2) === 0) Atomics.store(words, ring01 / 4, (words[ring01 / 4] + rand(2 * cap)) >>> 0);
        // Mark the unused bytes of the next ring's header, so that bytes from past the end of this
        // data area cannot pass for bytes of it.
        const next = new Uint8Array(raw.buffer, data + cap, layout.ringHeaderSize);
        const used = [layout.ringTail, layout.ringHead, layout.ringConsumerSleep, layout.ringProducerSleep, layout.ringCapacity];
        for (let i = 0; i < next.length; i++) if (!used.some((u) => i >= u && i < u + 4)) next[i] = 0xee;
        const area = Buffer.from(Buffer.from(raw.buffer, data, cap)); // what a message may consist of
        for (let step = 0; step < 1000; step++) {
          // until the ring is empty or found corrupt
          let batch: Buffer[];
          try {
            batch =
              rand(2) === 0
                ? [b.tryReceive(0)?.data].filter((d) => d !== undefined)
                : b.tryReceiveMany(0, 1 + rand(64)).map((m) => m.data);
          } catch (err) {
            expect(err).toMatchObject({ code: 'ERR_MAILBOX_CORRUPT', member: 0 });
            outcomes.corrupt++;
            break;
          }
          for (const d of batch) {
            expect(d.length).toBeLessThanOrEqual(cap / 2 - 8);
            expect(d.buffer).not.toBe(raw.buffer); // an owned copy, never the ring
            expect(area.indexOf(d)).toBeGreaterThanOrEqual(0); // bytes of the data area only
            outcomes.messages++;
          }
          if (batch.length === 0) break;
        }
      } finally {
        raw.close();
        b.close();
        a.close();
        MailboxGroup.unlink(n);
      }
    }
    // both outcomes happened, so the rounds really exercised the checks
    expect(outcomes.messages).toBeGreaterThan(100);
    expect(outcomes.corrupt).toBeGreaterThan(20);
  });

  it('a corrupt sender costs only its own messages in batches too, and none taken is lost', () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096 }));
    const bad = keep(MailboxGroup.join(n, { id: 1 }));
    const good = keep(MailboxGroup.join(n, { id: 2 }));
    bad.trySend(0, 'fine');
    bad.trySend(0, 'also fine');
    // member 1 publishes a garbage record after its two good ones
    const raw = keep(SharedMemory.open(n));
    const words = new Uint32Array(raw.buffer);
    const ring10 = ringAt(3, 4096, 1, 0);
    const tail = words[ring10 / 4];
    words[(ring10 + layout.ringHeaderSize + (tail % 4096)) / 4] = 4000;
    Atomics.store(words, ring10 / 4, tail + 64);
    good.trySend(0, 'one');
    good.trySend(0, 'two');
    // The batch from any member takes member 1's good messages and member 2's, and reports the
    // bad ring on the next call instead of dropping what it already took.
    const first = a.tryReceiveMany();
    expect(first.map((m) => `${m.from}:${m.data}`).sort()).toEqual(['1:also fine', '1:fine', '2:one', '2:two']);
    expect(() => a.tryReceive()).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 })); // any receive reports it
    expect(() => a.tryReceiveMany(1)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT' }));
    good.trySend(0, 'three');
    expect(a.tryReceiveMany().map((m) => m.data.toString())).toEqual(['three']); // the bad sender is skipped
  });

  it('reports impossible framing as ERR_MAILBOX_CORRUPT in batches and single receives alike', () => {
    const PAD = layout.padMarker;
    const cases: [string, (w: Uint32Array, data: number) => number][] = [
      // a record that would run past the end of the data area
      [
        'past the end',
        (w, data) => {
          w[(data + 4032) / 4] = 1000;
          return 4032 + 1008;
        },
      ],
      // a padding record followed by another one at offset 0
      [
        'padding after padding',
        (w, data) => {
          w[(data + 4032) / 4] = PAD;
          w[data / 4] = PAD;
          return 4032 + 64 + 8;
        },
      ],
    ];
    for (const [what, corrupt] of cases) {
      for (const batch of [true, false]) {
        const n = name();
        const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
        const bad = keep(MailboxGroup.join(n, { id: 1 }));
        for (let i = 0; i < 56; i++) {
          // 56 records of 72 bytes: both indexes at 4032
          bad.trySend(0, Buffer.alloc(64, i));
          expect(a.tryReceive(1)?.data[0]).toBe(i);
        }
        const raw = keep(SharedMemory.open(n));
        const w = new Uint32Array(raw.buffer);
        const ring10 = ringAt(2, 4096, 1, 0);
        Atomics.store(w, ring10 / 4, corrupt(w, ring10 + layout.ringHeaderSize));
        const receive = () => (batch ? a.tryReceiveMany(1) : a.tryReceive(1));
        expect(receive, `${what}, ${batch ? 'batch' : 'single'}`).toThrow(
          expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 }),
        );
      }
    }
  });
});

describe('Mailbox: impossible ring indices (a hostile process rewrites the segment)', () => {
  /** Runs test/mailbox/fixtures/hostile.cjs on segment `n` and waits until it is done. */
  async function hostile(n: string, what: { zero?: [number, number][]; words?: [number, number][] }): Promise<void> {
    const c = forkFixture('mailbox/hostile.cjs', [JSON.stringify({ name: n, ...what })]);
    const done = exited(c);
    await nextMessage(c, (m) => m.done);
    expect((await done).code).toBe(0);
  }

  it('a zero-filled segment yields ERR_MAILBOX_CORRUPT for the rings in use, never endless empty messages', async () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096 }));
    const b = keep(MailboxGroup.join(n, { id: 1 }));
    const c = keep(MailboxGroup.join(n, { id: 2 }));
    for (let i = 0; i < 100; i++) {
      b.trySend(0, Buffer.alloc(56, i)); // both indices of ring 1 -> 0 move to 6400: position 2304
      expect(a.tryReceive(1)?.data[0]).toBe(i);
    }
    await hostile(n, { zero: [[0, -1]] }); // everything: header, slots, every ring's indices and data
    let empty = 0;
    let corrupt = 0;
    for (let i = 0; i < 1000; i++) {
      try {
        const m = a.tryReceive(1);
        if (m !== undefined) empty++;
      } catch (err) {
        expect(err).toMatchObject({ code: 'ERR_MAILBOX_CORRUPT', member: 1 });
        corrupt++;
      }
    }
    expect({ empty, corrupt }).toEqual({ empty: 0, corrupt: 1000 });
    expect(() => a.tryReceiveMany(1)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 }));
    // ring 2 -> 0 was never used: its zeroed indices are a possible (empty) state, and it still works
    expect(a.tryReceive()).toBeUndefined();
    c.trySend(0, 'after');
    expect(a.tryReceive()?.data.toString()).toBe('after');
  });

  it("a sender's ring rewound behind its consumer costs only that sender; a hostile consumer head costs only sends to it", async () => {
    const n = name();
    const cap = 4096;
    const a = keep(MailboxGroup.create(n, { members: 3, ringSize: cap }));
    const b = keep(MailboxGroup.join(n, { id: 1 }));
    const c = keep(MailboxGroup.join(n, { id: 2 }));
    for (let i = 0; i < 10; i++) {
      b.trySend(0, Buffer.alloc(100, i));
      expect(a.tryReceive(1)?.data[0]).toBe(i);
    }
    while (a.trySend(1, Buffer.alloc(100))) {}
    while (a.trySend(1, 'x')) {} // ring 0 -> 1 is full: the next send reads member 1's head
    const ring10 = ringAt(3, cap, 1, 0);
    const ring01 = ringAt(3, cap, 0, 1);
    await hostile(n, {
      words: [
        [ring10 + layout.ringTail, 0], // member 1's tail rewound to 0, behind the consumer's 1120
        [ring01 + layout.ringHead, 4], // member 1's head, as read by member 0: not a multiple of 8
      ],
    });
    expect(() => a.tryReceive(1)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 }));
    expect(() => a.trySend(1, 'x')).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 }));
    await expect(a.send(1, 'x')).rejects.toMatchObject({ code: 'ERR_MAILBOX_CORRUPT', member: 1 });
    // member 2 is untouched, both ways
    c.trySend(0, 'from 2');
    expect(a.tryReceive()?.data.toString()).toBe('from 2');
    expect(a.trySend(2, 'to 2')).toBe(true);
    expect(c.tryReceive(0)?.data.toString()).toBe('to 2');
  });

  it('a member that joins a slot whose rings hold impossible indices finds those rings corrupt (JS and C++ agree)', async () => {
    const n = name();
    const cap = 4096;
    const creator = keep(MailboxGroup.create(n, { members: 3, ringSize: cap, id: 2 }));
    const ring10 = ringAt(3, cap, 1, 0);
    const ring01 = ringAt(3, cap, 0, 1);
    await hostile(n, {
      words: [
        [ring10 + layout.ringTail, cap + 8], // more than the capacity published towards member 0
        [ring01 + layout.ringTail, 12], // member 0's own tail (its predecessor's) not a multiple of 8
      ],
    });
    const a = keep(MailboxGroup.join(n, { id: 0 }));
    expect(() => a.tryReceive(1)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 }));
    expect(() => a.trySend(1, 'x')).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 }));
    // the C++ consumer sees the same image as corrupt: it gives no message
    const raw = keep(SharedMemory.open(n));
    expect(native.ringReadBatch(SharedMemory.handleOf(raw), ring10, new Uint8Array(1024))).toBe(0);
    expect(native.ringWriteBatch(SharedMemory.handleOf(raw), ring01, [Buffer.from('x')])).toBe(0);
    // the creator's rings are fine
    creator.trySend(0, 'ok');
    expect(a.tryReceive(2)?.data.toString()).toBe('ok');
  });
});
