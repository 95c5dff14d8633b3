// The shared ring vectors (test/mailbox/vectors/ring.txt, format described there) run by the JS
// consumer of lib/mailbox/ring.ts over a real mailbox segment: RingConsumer's peek/release and its
// takeMany must each give every image's messages, then empty or ERR_MAILBOX_CORRUPT. The same file
// runs through the C++ consumer in native/test/mailbox/ring_vectors_test.cpp; here the addon's
// ringReadBatch (that C++ consumer again, through the binding) must give the same messages too.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SharedMemory } from '../../lib';
import { native } from '../../lib/internal/binding';
import { layout, RingConsumer } from '../../lib/mailbox/ring';

interface Vector {
  name: string;
  capacity: number;
  head: number;
  tail: number;
  writes: ((data: DataView) => void)[];
  messages: { length: number; seed: number }[];
  /** `publish N` steps: after the first `after` messages, the producer's index becomes `tail`. */
  publishes: { after: number; tail: number }[];
  outcome: 'empty' | 'corrupt';
}

/** Parses the file; a malformed line throws with its line number (nothing is skipped). */
function parse(text: string): Vector[] {
  const out: Vector[] = [];
  let v: Vector | undefined;
  text.split('\n').forEach((raw, i) => {
    const bad = (why: string) => new Error(`ring.txt:${i + 1}: ${why}`);
    const [op, ...rest] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!op) return;
    if (op === 'vector') {
      if (rest.length !== 1) throw bad('a vector needs a name');
      v = { name: rest[0], capacity: 0, head: 0, tail: 0, writes: [], messages: [], publishes: [], outcome: 'empty' };
      out.push(v);
      return;
    }
    if (!v) throw bad(`${op} before any vector`);
    const args = rest.map((w) => {
      const n = Number(w);
      if (!/^(0x[0-9a-f]+|\d+)$/i.test(w) || n > 0xffffffff) throw bad(`not a 32-bit number: ${w}`);
      return n;
    });
    const want = (n: number) => {
      if (args.length !== n) throw bad(`${op} takes ${n} numbers`);
    };
    const cur = v;
    switch (op) {
      case 'capacity':
        want(1);
        cur.capacity = args[0];
        break;
      case 'head':
        want(1);
        cur.head = args[0];
        break;
      case 'tail':
        want(1);
        cur.tail = args[0];
        break;
      case 'word': {
        want(2);
        const [at, value] = args;
        cur.writes.push((d) => d.setUint32(at, value, true));
        break;
      }
      case 'record': {
        want(3);
        const [at, length, seed] = args;
        cur.writes.push((d) => {
          d.setUint32(at, length, true);
          d.setUint32(at + 4, 0, true);
          for (let k = 0; k < length; k++) d.setUint8(at + layout.recordHeader + k, (seed + k) & 0xff);
        });
        break;
      }
      case 'publish':
        want(1);
        cur.publishes.push({ after: cur.messages.length, tail: args[0] });
        break;
      case 'message':
        want(2);
        cur.messages.push({ length: args[0], seed: args[1] });
        break;
      case 'empty':
      case 'corrupt':
        want(0);
        cur.outcome = op;
        break;
      case 'end':
        want(0);
        v = undefined;
        break;
      default:
        throw bad(`unknown directive ${op}`);
    }
  });
  if (v) throw new Error(`ring.txt: vector ${v.name} has no end`);
  return out;
}

const vectors = parse(readFileSync(path.join(__dirname, 'vectors', 'ring.txt'), 'utf8'));
const pattern = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, k) => (seed + k) & 0xff));

// One anonymous segment per capacity, laid out as a two-member group; the vectors use the ring
// from member 0 to member 1 (nothing in /dev/shm).
const segments = new Map<number, SharedMemory>();
afterAll(() => {
  for (const s of segments.values()) s.close();
});
const RING = layout.groupHeaderSize + 2 * layout.memberSlotSize; // ring 0 -> 1 (docs/protocol/mailbox-segment.md)

/** Writes the vector's image into a fresh ring: zeroed data area, its words and records, its indices. */
function ringOf(v: Vector): { shm: SharedMemory; u32: Uint32Array; segment: Buffer } {
  let shm = segments.get(v.capacity);
  if (!shm) {
    shm = SharedMemory.anonymous({ size: native.mailboxSize(2, v.capacity) });
    native.mailboxInit(SharedMemory.handleOf(shm), 2, v.capacity);
    segments.set(v.capacity, shm);
  }
  const u32 = new Uint32Array(shm.buffer);
  const data = RING + layout.ringHeaderSize;
  expect(u32[(RING + layout.ringCapacity) >> 2]).toBe(v.capacity);
  new Uint8Array(shm.buffer, data, v.capacity).fill(0);
  const view = new DataView(shm.buffer, data, v.capacity);
  for (const w of v.writes) w(view);
  u32[(RING + layout.ringHead) >> 2] = v.head;
  u32[(RING + layout.ringTail) >> 2] = v.tail;
  return { shm, u32, segment: Buffer.from(shm.buffer) };
}

type Outcome = { messages: Buffer[]; end: 'empty' | 'corrupt'; head: number };

/** The producer's index the vector ends with (its last `publish`, or its `tail`). */
const finalTail = (v: Vector) => (v.publishes.length > 0 ? v.publishes[v.publishes.length - 1].tail : v.tail);

/** Applies the vector's `publish` steps that are due once `taken` messages were consumed. */
function publisher(v: Vector, u32: Uint32Array): (taken: number) => void {
  let next = 0;
  return (taken) => {
    while (next < v.publishes.length && v.publishes[next].after === taken) {
      Atomics.store(u32, (RING + layout.ringTail) >> 2, v.publishes[next++].tail);
    }
  };
}

function byPeek(v: Vector): Outcome {
  const { shm, u32 } = ringOf(v);
  const c = new RingConsumer(u32, RING, v.capacity);
  const publish = publisher(v, u32);
  const bytes = new Uint8Array(shm.buffer);
  const messages: Buffer[] = [];
  for (let i = 0; i <= v.messages.length; i++) {
    publish(messages.length);
    try {
      if (!c.peek()) return { messages, end: 'empty', head: u32[(RING + layout.ringHead) >> 2] };
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_MAILBOX_CORRUPT' });
      return { messages, end: 'corrupt', head: u32[(RING + layout.ringHead) >> 2] };
    }
    messages.push(Buffer.from(bytes.subarray(c.at, c.at + c.length)));
    c.release();
  }
  throw new Error(`${v.name}: more messages than the vector lists`);
}

function byTakeMany(v: Vector, max: number): Outcome {
  const { u32, segment } = ringOf(v);
  const c = new RingConsumer(u32, RING, v.capacity);
  const publish = publisher(v, u32);
  const messages: Buffer[] = [];
  for (let round = 0; round <= v.messages.length; round++) {
    publish(messages.length);
    // a batch never runs past the next publish step (the image changes there)
    const due = v.publishes.find((p) => p.after > messages.length);
    let got: Buffer[];
    try {
      got = c.takeMany(segment, due === undefined ? max : Math.min(max, due.after - messages.length));
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_MAILBOX_CORRUPT' });
      return { messages, end: 'corrupt', head: u32[(RING + layout.ringHead) >> 2] };
    }
    if (got.length === 0) return { messages, end: 'empty', head: u32[(RING + layout.ringHead) >> 2] };
    expect(got.length).toBeLessThanOrEqual(max);
    messages.push(...got);
  }
  throw new Error(`${v.name}: more messages than the vector lists`);
}

/** The C++ consumer through the addon: the messages up to the end (it stops at corrupt framing without saying so). */
function byNative(v: Vector): Buffer[] {
  const { shm } = ringOf(v);
  const out = new Uint8Array(64 * 1024);
  const n = native.ringReadBatch(SharedMemory.handleOf(shm), RING, out);
  const messages: Buffer[] = [];
  const dv = new DataView(out.buffer);
  for (let i = 0, at = 0; i < n; i++) {
    const length = dv.getUint32(at, true);
    messages.push(Buffer.from(out.subarray(at + 4, at + 4 + length)));
    at += (4 + length + 3) & ~3;
  }
  return messages;
}

describe('shared ring vectors (test/mailbox/vectors/ring.txt)', () => {
  it('the file holds the vectors both consumers run', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(20);
    expect(new Set(vectors.map((v) => v.name)).size).toBe(vectors.length);
    expect(vectors.some((v) => v.outcome === 'corrupt') && vectors.some((v) => v.outcome === 'empty')).toBe(true);
  });

  describe.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const want = v.messages.map((m) => pattern(m.length, m.seed));

    it('peek/release', () => {
      const got = byPeek(v);
      expect(got.messages).toEqual(want);
      expect(got.end).toBe(v.outcome);
      if (got.end === 'empty') expect(got.head).toBe(finalTail(v));
    });

    it('takeMany, in one batch and one message at a time', () => {
      for (const max of [1024, 1]) {
        const got = byTakeMany(v, max);
        expect(got.messages).toEqual(want);
        expect(got.end).toBe(v.outcome);
        if (got.end === 'empty') expect(got.head).toBe(finalTail(v));
      }
    });

    it('the C++ consumer through the addon (ringReadBatch) gives the same messages', () => {
      // ringReadBatch reads the image as it starts: the messages before the first `publish` step
      expect(byNative(v)).toEqual(want.slice(0, v.publishes[0]?.after ?? want.length));
    });
  });
});
