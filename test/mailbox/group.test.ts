import { execFile, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Mailbox, MailboxGroup, SharedMemory } from '../../lib';
import { layout } from '../../lib/mailbox/ring';
import { exited, forkFixture, killAll, leftoverShm, nextMessage, sleep, uniqueName } from '../helpers/util';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkMessage, sizeFor, exchange } = require('./fixtures/mailbox-messages.cjs');

const made: string[] = [];
const children: ChildProcess[] = [];
const open: { close(): void }[] = [];
function name(tag = 'mbox'): string {
  const n = uniqueName(tag);
  made.push(n);
  return n;
}
function child(args: Record<string, unknown>): ChildProcess {
  const c = forkFixture('mailbox/mailbox-child.cjs', [JSON.stringify(args)]);
  children.push(c);
  return c;
}
function keep<T extends { close(): void }>(x: T): T {
  open.push(x);
  return x;
}
/** Byte offset of the ring from member `from` to member `to` in a group's segment (docs/design.md, layout). */
function ringAt(members: number, ringSize: number, from: number, to: number): number {
  const index = from * (members - 1) + (to < from ? to : to - 1); // a member has no ring to itself
  return layout.groupHeaderSize + members * layout.memberSlotSize + index * (layout.ringHeaderSize + ringSize);
}
afterEach(async () => {
  await killAll(children);
  for (const x of open.splice(0)) x.close();
  for (const n of made.splice(0)) SharedMemory.unlink(n);
});
afterAll(() => {
  expect(leftoverShm()).toEqual([]);
});

async function receiveChecked(g: MailboxGroup, from: number, tag: number, seq: number, size: number) {
  const m = g.tryReceive(from) ?? (await g.receive(from, { timeout: 20000 }));
  const why = checkMessage(m.data, tag, seq, size);
  if (why) throw new Error(why);
}

describe('Mailbox: two processes', () => {
  it('round-trips messages with an async echo child, without blocking either event loop', async () => {
    const n = name();
    const mb = keep(Mailbox.create(n, { ringSize: 4096 }));
    const c = child({ role: 'echo', name: n });
    await nextMessage(c, (m) => m.joined !== undefined);
    expect(mb.peer.state).toBe('alive');
    expect(mb.peer.pid).toBe(c.pid);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    for (let i = 0; i < 200; i++) {
      await mb.send(`message ${i}`);
      expect((await mb.receive({ timeout: 10000 })).toString()).toBe(`message ${i}`);
      if (i % 50 === 0) await sleep(10); // let the echo side fall asleep: exercises the doorbell
    }
    clearInterval(timer);
    const done = nextMessage<{ ticks: number }>(c, (m) => m.done);
    await mb.send(new Uint8Array(0));
    expect((await done).ticks).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(0);
  });

  it('works with sync blocking calls on the other side and the futex doorbell', async () => {
    for (const [sync, doorbell] of [[true, 'eventfd'], [false, 'futex']] as const) {
      const n = name();
      const mb = keep(Mailbox.create(n, { ringSize: 8192, doorbell }));
      const c = child({ role: 'echo', name: n, sync, doorbell });
      await nextMessage(c, (m) => m.joined !== undefined);
      for (let i = 0; i < 100; i++) {
        const data = Buffer.alloc(i * 7 + 1, i); // never empty: that is the echo's stop signal
        await mb.send(data);
        const back = i % 2 ? mb.receiveSync({ timeout: 10000 }) : await mb.receive({ timeout: 10000 });
        expect(back.equals(data)).toBe(true);
        if (i % 25 === 0) await sleep(5);
      }
      mb.sendSync(Buffer.alloc(0));
      await nextMessage(c, (m) => m.done);
    }
  });

  it('delivers 1 000 000 messages of random sizes 0..64 KiB in order, none lost, duplicated or corrupt', async () => {
    const n = name();
    const count = 1_000_000;
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 1 << 18 }));
    const c = child({ role: 'stream', name: n, id: 1, to: 0, count, seed: 42 });
    let bytes = 0;
    for (let seq = 0; seq < count; seq++) {
      const size = sizeFor(42, seq);
      if (seq % 2) {
        await receiveChecked(g, 1, 0, seq, size); // an owned copy
      } else {
        const v = g.tryReceiveView(1) ?? (await g.receiveView(1, { timeout: 20000 })); // in place
        const why = checkMessage(v.data, 0, seq, size);
        v.release();
        if (why) throw new Error(why);
      }
      bytes += size;
    }
    expect(bytes).toBeGreaterThan(count * 1000);
    expect(g.tryReceive(1)).toBeUndefined();
    expect((await exited(c)).code).toBe(0);
  }, 240_000);

  it('receives in batches: receiveMany/tryReceiveMany deliver a stream in order, and the copies outlive the ring', async () => {
    const n = name();
    const count = 200_000;
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 1 << 18 })); // messages up to 64 KiB
    const c = child({ role: 'stream', name: n, id: 1, to: 0, count, seed: 7 });
    const kept: { seq: number; data: Buffer }[] = [];
    let batches = 0;
    let largest = 0;
    for (let seq = 0; seq < count;) {
      const max = [1, 7, 1024, 100_000][batches % 4];
      let batch = g.tryReceiveMany(1, max);
      if (batch.length === 0) batch = await g.receiveMany(1, { max, timeout: 20000 });
      expect(batch.length).toBeGreaterThan(0);
      expect(batch.length).toBeLessThanOrEqual(max);
      largest = Math.max(largest, batch.length);
      batches++;
      for (const m of batch) {
        expect(m.from).toBe(1);
        const why = checkMessage(m.data, 0, seq, sizeFor(7, seq));
        if (why) throw new Error(why);
        if (seq % 1000 === 0) kept.push({ seq, data: m.data });
        seq++;
      }
    }
    expect(batches).toBeLessThan(count); // batches really held several messages
    expect(largest).toBeGreaterThan(1);
    // The ring has been overwritten many times since: what we kept is ours, not a view of the ring.
    for (const { seq, data } of kept) expect(checkMessage(data, 0, seq, sizeFor(7, seq))).toBeUndefined();
    expect(g.tryReceiveMany(1)).toEqual([]);
    expect((await exited(c)).code).toBe(0);
  }, 120_000);

  it('large owned copies, single and batched, stay intact while the ring and freed memory are reused', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const n = name();
    const count = 3000;
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 1 << 18 }));
    const sizes = Array.from({ length: count }, (_, i) => (i % 3 === 0 ? 16384 : 65536 - (i % 7)));
    const c = child({ role: 'sizes', name: n, id: 1, to: 0, list: sizes });
    const kept: { seq: number; data: Buffer }[] = [];
    for (let seq = 0; seq < count;) {
      let batch = seq % 2 ? [g.tryReceive(1) ?? (await g.receive(1, { timeout: 20000 }))] : g.tryReceiveMany(1, 8);
      if (batch.length === 0) batch = await g.receiveMany(1, { max: 8, timeout: 20000 });
      for (const m of batch) {
        const why = checkMessage(m.data, 0, seq, sizes[seq]);
        if (why) throw new Error(why);
        if (seq % 97 === 0) kept.push({ seq, data: m.data });
        if (++seq % 300 === 0) {
          gc(); // the dropped copies are freed, and their memory is handed out again
          await new Promise((r) => setImmediate(r));
        }
      }
    }
    // The ring went round ~900 times and freed copies were reused; the live ones are untouched.
    for (const { seq, data } of kept) expect(checkMessage(data, 0, seq, sizes[seq])).toBeUndefined();
    expect((await exited(c)).code).toBe(0);
  }, 120_000);

  it('wraps around at every offset of the ring, with and without padding records', async () => {
    const n = name();
    const cap = 4096;
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: cap }));
    const max = g.maxMessageSize;
    expect(max).toBe(cap / 2 - 8);
    // Build a list of sizes that puts a record at every 8-byte offset, once fitting exactly up to
    // the end of the ring and once too big for the space left (so a padding record precedes it).
    const rec = (s: number) => 8 + ((s + 7) & ~7);
    const list: number[] = [];
    let tail = 0;
    const starts = new Set<number>();
    let pads = 0;
    const push = (s: number) => {
      const pos = tail % cap;
      if (rec(s) > cap - pos) {
        tail += cap - pos;
        pads++;
      }
      starts.add(tail % cap);
      tail += rec(s);
      list.push(s);
    };
    const moveTo = (o: number) => {
      for (let pos = tail % cap; pos !== o; pos = tail % cap) {
        const gap = o > pos ? o - pos : cap - pos; // to o, or first exactly to the end
        push(Math.min(gap, rec(max)) - 8); // never needs padding
      }
    };
    for (let o = 0; o < cap; o += 8) {
      moveTo(o);
      if (cap - o - 8 <= max) push(cap - o - 8); // exactly to the end
      moveTo(o);
      push(Math.min(max, cap - o)); // does not fit before the end when cap - o <= max
    }
    expect(starts.size).toBe(cap / 8);
    expect(pads).toBeGreaterThan(200);
    const c = child({ role: 'sizes', name: n, id: 1, to: 0, list });
    for (let seq = 0; seq < list.length; seq++) await receiveChecked(g, 1, 0, seq, list[seq]);
    expect((await exited(c)).code).toBe(0);
  }, 60_000);

  it('applies back-pressure on a full ring: send waits until the receiver makes room', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const c = child({ role: 'fill', name: n, id: 1, to: 0, size: 100 });
    const { full } = await nextMessage<{ full: number }>(c, (m) => m.full !== undefined);
    expect(full).toBe(Math.floor(4096 / 112)); // 112-byte records
    const after = nextMessage<{ sentAfterMs: number }>(c, (m) => m.sentAfterMs !== undefined);
    await sleep(100);
    expect(g.tryReceive(1)?.data[0]).toBe(1); // frees one record: the waiting send goes through
    expect((await after).sentAfterMs).toBeGreaterThanOrEqual(90);
    for (let i = 1; i < full; i++) expect(g.tryReceive(1)?.data[0]).toBe(1);
    expect((await g.receive(1, { timeout: 5000 })).data[0]).toBe(2);
    expect(g.tryReceive(1)).toBeUndefined();
  });
});

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
      expect((r as { perSender: number[] }).perSender.filter((x, i) => i !== id)).toEqual([count, count, count]);
    }
  }, 60_000);

  it('receiveMany() from any member takes every sender in turn, in order per sender', async () => {
    const n = name();
    const count = 20_000;
    const g = keep(MailboxGroup.create(n, { members: 4, ringSize: 1 << 18 })); // messages up to 64 KiB
    const kids = [1, 2, 3].map((id) => child({ role: 'stream', name: n, id, to: 0, count, seed: id, incarnation: id }));
    const next = [0, 0, 0, 0];
    let mixed = 0;
    for (let got = 0; got < 3 * count;) {
      let batch = g.tryReceiveMany(undefined, 512);
      if (batch.length === 0) batch = await g.receiveMany(undefined, { max: 512, timeout: 20000 });
      if (new Set(batch.map((m) => m.from)).size > 1) mixed++;
      for (const { from, data } of batch) {
        const why = checkMessage(data, from, next[from], sizeFor(from, next[from]));
        if (why) throw new Error(`from ${from}: ${why}`);
        next[from]++;
      }
      got += batch.length;
    }
    expect(next.slice(1)).toEqual([count, count, count]);
    expect(mixed).toBeGreaterThan(0); // one batch took from several senders
    for (const k of kids) expect((await exited(k)).code).toBe(0);
  }, 60_000);

  it('receive() from any member is fair: a busy sender cannot starve another', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 3, ringSize: 1 << 16 }));
    // Two members fill their rings to us completely before we read anything.
    const a = child({ role: 'fill', name: n, id: 1, to: 0, size: 8 });
    const b = child({ role: 'fill', name: n, id: 2, to: 0, size: 8 });
    await nextMessage(a, (m) => m.full !== undefined);
    await nextMessage(b, (m) => m.full !== undefined);
    const order: number[] = [];
    for (let i = 0; i < 20; i++) order.push(g.tryReceive()!.from);
    // Round robin: strictly alternating senders.
    for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);
  });
});

describe('Mailbox: crashes and rejoining', () => {
  it('a producer SIGKILLed mid-stream 20 times never delivers a torn message; the consumer gets the death; the slot is rejoined', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 1 << 18 }));
    let total = 0;
    for (let k = 0; k < 20; k++) {
      const c = child({ role: 'stream', name: n, id: 1, to: 0, count: 1e12, seed: k, incarnation: k });
      const { pid } = await nextMessage<{ pid: number }>(c, (m) => m.joined !== undefined);
      expect(g.memberInfo(1)).toEqual({ id: 1, pid, state: 'alive' });
      const killAfter = 200 + ((k * 137) % 800);
      let seq = 0;
      let death: { code?: string; member?: number } | undefined;
      const gone = exited(c);
      for (;;) {
        if (seq === killAfter) c.kill('SIGKILL');
        let m;
        try {
          m = g.tryReceive(1) ?? (await g.receive(1, { timeout: 20000 }));
        } catch (err) {
          death = err as typeof death;
          break;
        }
        const why = checkMessage(m.data, k, seq, sizeFor(k, seq));
        if (why) throw new Error(`incarnation ${k}: ${why}`);
        seq++;
      }
      expect(death?.code).toBe('ERR_MAILBOX_PEER_DEAD');
      expect(death?.member).toBe(1);
      expect(seq).toBeGreaterThanOrEqual(killAfter);
      expect((await gone).signal).toBe('SIGKILL');
      expect(g.memberInfo(1).state).toBe('dead');
      total += seq;
    }
    expect(total).toBeGreaterThan(20 * 200);
  }, 120_000);

  it('a member that leaves is reported as closed, and a new process can take its slot', async () => {
    const n = name();
    const mb = keep(Mailbox.create(n, { ringSize: 1 << 18 }));
    expect(mb.peer.state).toBe('free');
    const first = child({ role: 'stream', name: n, id: 1, to: 0, count: 3, seed: 1 });
    await exited(first);
    expect(mb.peer.state).toBe('left');
    // Messages completed before leaving are still delivered, then the end is reported.
    const got: Buffer[] = [];
    for await (const m of mb) got.push(m);
    expect(got.length).toBe(3);
    await expect(mb.receive()).rejects.toMatchObject({ code: 'ERR_MAILBOX_PEER_CLOSED' });
    expect(() => mb.receiveSync({ timeout: 5000 })).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_PEER_CLOSED', member: 1 }));
    const second = child({ role: 'stream', name: n, id: 1, to: 0, count: 5, seed: 2, incarnation: 9, stay: true });
    const { pid } = await nextMessage<{ pid: number }>(second, (m) => m.joined === 1);
    expect(mb.peer).toEqual({ id: 1, pid, state: 'alive' });
    for (let seq = 0; seq < 5; seq++) {
      const m = await mb.receive({ timeout: 10000 });
      expect(checkMessage(m, 9, seq, sizeFor(2, seq))).toBeUndefined();
    }
  });

  it('a send waiting on a full ring to a member that dies rejects; a free slot just queues', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096 }));
    while (g.trySend(2, 'for whoever joins member 2')); // nobody holds member 2: messages wait for it
    const c = child({ role: 'stream', name: n, id: 1, to: 0, count: 0, seed: 0, stay: true });
    await nextMessage(c, (m) => m.joined !== undefined);
    while (g.trySend(1, 'x'));
    const pending = g.send(1, 'y');
    const settled = pending.then(() => 'sent', (e) => e);
    await sleep(100);
    expect(await Promise.race([settled, sleep(10).then(() => 'waiting')])).toBe('waiting');
    const gone = exited(c);
    c.kill('SIGKILL');
    await gone;
    expect(await settled).toMatchObject({ code: 'ERR_MAILBOX_PEER_DEAD', member: 1 });
    expect(g.memberInfo(2).state).toBe('free');
    await expect(g.send(2, 'for whoever joins member 2', { timeout: 100 })).rejects.toMatchObject({ code: 'ETIMEDOUT' }); // waits, does not fail
  });

  it('refuses a slot held by a live process, and a full group', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const c = child({ role: 'stream', name: n, id: 1, to: 0, count: 0, seed: 0, stay: true });
    await nextMessage(c, (m) => m.joined !== undefined);
    expect(() => MailboxGroup.join(n, { id: 0 })).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_MEMBER_TAKEN', member: 0 }));
    expect(() => MailboxGroup.join(n)).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_FULL' }));
    expect(g.memberInfo(1).state).toBe('alive');
  });
});

describe('Mailbox: creation races', () => {
  it('a process opening the instant the name appears never takes the creator\'s side (20 rounds)', async () => {
    for (let round = 0; round < 20; round++) {
      const n = name('eager');
      const c = child({ role: 'eagerOpen', name: n });
      await nextMessage(c, (m) => m.looping);
      const mb = keep(Mailbox.create(n, { ringSize: 4096 }));
      expect(mb.id).toBe(0);
      const r = await nextMessage<{ side: number; code?: string }>(c, (m) => m.side !== undefined);
      expect(r).toEqual({ side: 1 });
    }
  });
});

describe('Mailbox: the job-queue example', () => {
  it('dispatches jobs to separate worker programs and collects every result', async () => {
    const script = path.join(__dirname, '..', '..', 'examples', 'mailbox-job-queue', 'dispatcher.cjs');
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, [script, '2', '6'], { timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve({ stdout, stderr }));
    });
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(new Set(lines.map((l) => Number(/^job (\d+)/.exec(l)?.[1])))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(lines.some((l) => l.includes('worker 1')) && lines.some((l) => l.includes('worker 2'))).toBe(true);
    expect(lines[0]).toMatch(/fib\(\d+\) = \d+/);
  });
});

describe('Mailbox: misuse and bad arguments', () => {
  it('rejects bad arguments with Node-style errors and changes nothing', () => {
    const n = name();
    expect(() => MailboxGroup.create(n, { members: 1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => MailboxGroup.create(n, { members: 65 })).toThrow(RangeError);
    expect(() => MailboxGroup.create(n, { members: 2, ringSize: 5000 })).toThrow(/power of two/);
    expect(() => MailboxGroup.create(n, { members: 2, ringSize: 1024 })).toThrow(RangeError);
    expect(() => MailboxGroup.create(n, { members: 2, doorbell: 'pipe' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => MailboxGroup.create(n, { members: 2, spin: -1 })).toThrow(RangeError);
    expect(() => MailboxGroup.create(n, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => MailboxGroup.create('a/b', { members: 2 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(leftoverShm()).toEqual([]); // nothing was created

    const g = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096 }));
    expect(() => MailboxGroup.create(n, { members: 2 })).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'shm_open' }));
    expect(() => g.trySend(3, 'x')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => g.trySend(0, 'x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => g.trySend(1.5, 'x')).toThrow(RangeError);
    expect(() => g.trySend('1' as never, 'x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => g.trySend(1, 42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => g.trySend(1, Buffer.alloc(g.maxMessageSize + 1))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => g.tryReceive(0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => g.receiveSync(1, { timeout: -1 })).toThrow(RangeError);
    expect(g.trySend(1, Buffer.alloc(g.maxMessageSize))).toBe(true); // the largest message fits
    expect(g.trySend(1, new Float64Array([1, 2]))).toBe(true); // any view of bytes
  });

  it('times out, aborts, and rejects pending operations on close', async () => {
    const n = name();
    const g = MailboxGroup.create(n, { members: 2, ringSize: 4096 });
    const t0 = performance.now();
    await expect(g.receive(1, { timeout: 60 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    expect(() => g.receiveSync(1, { timeout: 30 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    const ac = new AbortController();
    const aborted = g.receive(undefined, { signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(g.receive(1, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    while (g.trySend(1, 'fill')); // full: a send now waits
    const pendingSend = g.send(1, 'more');
    const pendingReceive = g.receive();
    g.close();
    await expect(pendingSend).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(pendingReceive).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(() => g.trySend(1, 'x')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    await expect(g.receive()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    g.close(); // idempotent
    expect(g.closed).toBe(true);
  });

  it('guards a message view until it is released', () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const b = keep(MailboxGroup.join(n)); // the same process may hold two members
    expect(b.id).toBe(1);
    a.trySend(1, 'one');
    a.trySend(1, 'two');
    const v = b.tryReceiveView(0)!;
    expect(v.data.toString()).toBe('one');
    expect(() => b.tryReceive(0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    expect(b.tryReceive()).toBeUndefined(); // receive-from-any skips a sender with a view out
    v.release();
    v.release(); // idempotent
    {
      using w = b.tryReceiveView(0)!;
      expect(w.data.toString()).toBe('two');
    }
    expect(b.tryReceive(0)).toBeUndefined();
  });

  it('owned copies of every small size (pooled) are exact and stay intact while the pool and the ring are reused', () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 8192 }));
    const b = keep(MailboxGroup.join(n));
    const pattern = (len: number, round: number) => Buffer.from(Array.from({ length: len }, (_, i) => (i * 31 + len + round * 7) & 255));
    const kept: { len: number; round: number; data: Buffer }[] = [];
    // 0..1100 bytes crosses the pooled limit (1 KiB), every word-loop tail length and many pool
    // chunk boundaries; three rounds rewrite the small ring many times over.
    for (let round = 0; round < 3; round++) {
      for (let len = 0; len <= 1100; len++) {
        expect(a.trySend(1, pattern(len, round))).toBe(true);
        const m = b.tryReceive(0)!;
        expect(m.data.length).toBe(len);
        expect(m.data.equals(pattern(len, round))).toBe(true);
        kept.push({ len, round, data: m.data });
      }
    }
    for (const { len, round, data } of kept) expect(data.equals(pattern(len, round))).toBe(true);
    // Transferring one message's buffer must not detach the pool under the others (or later receives).
    expect(a.trySend(1, 'one')).toBe(true);
    expect(a.trySend(1, 'two')).toBe(true);
    const one = b.tryReceive(0)!.data;
    try {
      structuredClone(one, { transfer: [one.buffer] });
    } catch {
      // newer Node versions refuse to transfer an untransferable buffer: equally fine
    }
    expect(one.toString()).toBe('one');
    expect(b.tryReceive(0)?.data.toString()).toBe('two');
    expect(kept[kept.length - 1].data.equals(pattern(1100, 2))).toBe(true);
  });

  it('cork() holds messages back until uncork(), except when a ring fills up', () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const b = keep(MailboxGroup.join(n));
    a.cork();
    a.cork(); // nested
    expect(a.trySend(1, 'one')).toBe(true);
    expect(b.tryReceive(0)).toBeUndefined(); // written, not published
    a.uncork();
    expect(b.tryReceive(0)).toBeUndefined(); // still one cork left
    a.uncork();
    expect(b.tryReceive(0)?.data.toString()).toBe('one');
    a.cork();
    let sent = 0;
    while (a.trySend(1, Buffer.alloc(100))) sent++;
    expect(sent).toBeGreaterThan(30);
    // the ring filled up: everything written so far was published
    let got = 0;
    while (b.tryReceive(0)) got++;
    expect(got).toBe(sent);
    expect(a.trySend(1, 'last')).toBe(true);
    a.close(); // publishes what is complete
    expect(b.tryReceive(0)?.data.toString()).toBe('last');
  });

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

  it('random garbage in a sender\'s ring (lengths, padding, indices) only ever yields messages from its data area, or ERR_MAILBOX_CORRUPT', () => {
    // Seeded, so a failure is reproducible: 300 rounds, each a fresh group whose ring from member 0
    // to member 1 gets valid messages and then random words over its data area and its published
    // tail. Right after that ring's data lies the other ring's header, so a check that let a record
    // reach past the end would show up as bytes that are not in the data area.
    let seed = 12345;
    const rand = (n: number) => { // mulberry32: every bit usable (an LCG's low bits just alternate)
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
        for (let step = 0; step < 1000; step++) { // until the ring is empty or found corrupt
          let batch: Buffer[];
          try {
            batch = rand(2) === 0 ? [b.tryReceive(0)?.data].filter((d) => d !== undefined) : b.tryReceiveMany(0, 1 + rand(64)).map((m) => m.data);
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
      ['past the end', (w, data) => ((w[(data + 4032) / 4] = 1000), 4032 + 1008)],
      // a padding record followed by another one at offset 0
      ['padding after padding', (w, data) => ((w[(data + 4032) / 4] = PAD), (w[data / 4] = PAD), 4032 + 64 + 8)],
    ];
    for (const [what, corrupt] of cases) {
      for (const batch of [true, false]) {
        const n = name();
        const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
        const bad = keep(MailboxGroup.join(n, { id: 1 }));
        for (let i = 0; i < 56; i++) { // 56 records of 72 bytes: both indexes at 4032
          bad.trySend(0, Buffer.alloc(64, i));
          expect(a.tryReceive(1)?.data[0]).toBe(i);
        }
        const raw = keep(SharedMemory.open(n));
        const w = new Uint32Array(raw.buffer);
        const ring10 = ringAt(2, 4096, 1, 0);
        Atomics.store(w, ring10 / 4, corrupt(w, ring10 + layout.ringHeaderSize));
        const receive = () => (batch ? a.tryReceiveMany(1) : a.tryReceive(1));
        expect(receive, `${what}, ${batch ? 'batch' : 'single'}`).toThrow(expect.objectContaining({ code: 'ERR_MAILBOX_CORRUPT', member: 1 }));
      }
    }
  });

  it('validates the batch arguments', async () => {
    const n = name();
    const a = keep(Mailbox.create(n, { ringSize: 4096 }));
    const b = keep(Mailbox.open(n));
    for (const max of [0, -1, 1.5, 2 ** 31]) expect(() => a.tryReceiveMany(max)).toThrow(RangeError);
    expect(() => a.tryReceiveMany('3' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    await expect(a.receiveMany({ max: 0 })).rejects.toThrow(RangeError);
    await expect(a.receiveMany(null as never)).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    await expect(a.receiveMany({ timeout: 20 })).rejects.toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
    expect(a.tryReceiveMany()).toEqual([]);
    for (let i = 0; i < 5; i++) b.trySend(`m${i}`);
    expect(a.tryReceiveMany(2).map(String)).toEqual(['m0', 'm1']);
    expect((await a.receiveMany()).map(String)).toEqual(['m2', 'm3', 'm4']);
    // a waiting receiveMany is woken by the first message and takes what is there
    const waiting = a.receiveMany({ timeout: 10000 });
    b.trySend('late');
    expect((await waiting).map(String)).toEqual(['late']);
    const v = a.tryReceiveView();
    expect(v).toBeUndefined();
    b.trySend('viewed');
    const view = a.tryReceiveView()!;
    expect(() => a.tryReceiveMany()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    view.release();
    a.close();
    expect(() => a.tryReceiveMany()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
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
});
