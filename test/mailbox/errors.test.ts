// Misuse: bad arguments, timeouts, aborts and use after close, with the library's error codes;
// the methods that return a Promise reject (never throw) on every one of them.
import { describe, expect, it } from 'vitest';
import { Mailbox, MailboxGroup, TimeoutError } from '../../lib';
import { leftoverShm } from '../helpers/util';
import { mailboxTestbed } from './setup';

const { name, keep } = mailboxTestbed();

describe('Mailbox: misuse and bad arguments', () => {
  it('rejects bad arguments with Node-style errors and changes nothing', () => {
    const n = name();
    expect(() => MailboxGroup.create(n, { members: 1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => MailboxGroup.create(n, { members: 65 })).toThrow(RangeError);
    expect(() => MailboxGroup.create(n, { members: 2, ringSize: 5000 })).toThrow(/power of two/);
    expect(() => MailboxGroup.create(n, { members: 2, ringSize: 1024 })).toThrow(RangeError);
    expect(() => MailboxGroup.create(n, { members: 2, doorbell: 'pipe' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => MailboxGroup.create(n, { members: 2, spin: -1 })).toThrow(RangeError);
    expect(() => MailboxGroup.create(n, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => MailboxGroup.create('a/b', { members: 2 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(leftoverShm()).toEqual([]); // nothing was created

    const g = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096 }));
    expect(() => MailboxGroup.create(n, { members: 2 })).toThrow(
      expect.objectContaining({ code: 'EEXIST', syscall: 'shm_open' }),
    );
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

  it('every timeout is a TimeoutError with code ETIMEDOUT, async and sync, sending and receiving', async () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const b = keep(Mailbox.open(n));
    const timeouts: unknown[] = [];
    const caught = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (err) => err,
      );
    timeouts.push(await caught(a.receive(1, { timeout: 10 })));
    timeouts.push(await caught(a.receiveView(undefined, { timeout: 10 })));
    timeouts.push(await caught(a.receiveMany(1, { timeout: 10 })));
    timeouts.push(await caught(b.receive({ timeout: 10 })));
    timeouts.push(await caught(b.receiveMany({ timeout: 10 })));
    try {
      a.receiveSync(1, { timeout: 10 });
    } catch (err) {
      timeouts.push(err);
    }
    while (a.trySend(1, 'fill')); // full: sends now wait
    timeouts.push(await caught(a.send(1, 'more', { timeout: 10 })));
    try {
      a.sendSync(1, 'more', { timeout: 10 });
    } catch (err) {
      timeouts.push(err);
    }
    expect(timeouts).toHaveLength(8);
    for (const err of timeouts) {
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err).toMatchObject({ code: 'ETIMEDOUT', name: 'TimeoutError' });
    }
  });

  it('a receive that timed out or was aborted is gone: the next message goes to the next receive', async () => {
    const n = name();
    const a = keep(MailboxGroup.create(n, { members: 2, ringSize: 4096 }));
    const b = keep(MailboxGroup.join(n));
    await expect(a.receive(1, { timeout: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const ac = new AbortController();
    const aborted = a.receive(undefined, { signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    const next = a.receive(1, { timeout: 10000 });
    b.trySend(0, 'for the live receive');
    expect((await next).data.toString()).toBe('for the live receive');
    expect(a.tryReceive(1)).toBeUndefined();
  });

  it('methods that return a Promise reject, and never throw, on bad arguments and options and after close', async () => {
    const n = name();
    const g = keep(MailboxGroup.create(n, { members: 3, ringSize: 4096 }));
    const mb = keep(Mailbox.create(name(), { ringSize: 4096 }));
    /** Calls `call`, which must not throw, and returns the code it rejected with ('resolved' if it did not). */
    const rejection = async (what: string, call: () => Promise<unknown>): Promise<string | undefined> => {
      let p: Promise<unknown> | undefined;
      expect(() => (p = call()), what).not.toThrow();
      expect(p, what).toBeInstanceOf(Promise);
      return p!.then(
        () => 'resolved',
        (err) => (err as { code?: string }).code,
      );
    };
    const bad: [string, () => Promise<unknown>, string][] = [
      ['send to a member out of range', () => g.send(3, 'x'), 'ERR_OUT_OF_RANGE'],
      ['send to itself', () => g.send(0, 'x'), 'ERR_INVALID_ARG_VALUE'],
      ['send to a string', () => g.send('1' as never, 'x'), 'ERR_INVALID_ARG_TYPE'],
      ['send of a number', () => g.send(1, 42 as never), 'ERR_INVALID_ARG_TYPE'],
      ['send of a message too large', () => g.send(1, Buffer.alloc(g.maxMessageSize + 1)), 'ERR_OUT_OF_RANGE'],
      ['send with null options', () => g.send(1, 'x', null as never), 'ERR_INVALID_ARG_TYPE'],
      ['send with a negative timeout', () => g.send(1, 'x', { timeout: -1 }), 'ERR_OUT_OF_RANGE'],
      ['send with a bad signal', () => g.send(1, 'x', { signal: {} as never }), 'ERR_INVALID_ARG_TYPE'],
      ['send with a bad spin', () => g.send(1, 'x', { spin: -1 }), 'ERR_OUT_OF_RANGE'],
      ['receive from a member out of range', () => g.receive(7), 'ERR_OUT_OF_RANGE'],
      ['receive from itself', () => g.receive(0), 'ERR_INVALID_ARG_VALUE'],
      ['receive with options that are not an object', () => g.receive(1, 5 as never), 'ERR_INVALID_ARG_TYPE'],
      ['receive with a timeout that is not a number', () => g.receive(1, { timeout: '5' as never }), 'ERR_INVALID_ARG_TYPE'],
      ['receive with a bad signal', () => g.receive(undefined, { signal: 'stop' as never }), 'ERR_INVALID_ARG_TYPE'],
      ['receive with a spin that is not a number', () => g.receive(1, { spin: NaN }), 'ERR_INVALID_ARG_TYPE'],
      ['receiveView from a member out of range', () => g.receiveView(-1), 'ERR_OUT_OF_RANGE'],
      ['receiveView with null options', () => g.receiveView(1, null as never), 'ERR_INVALID_ARG_TYPE'],
      ['receiveMany with max 0', () => g.receiveMany(1, { max: 0 }), 'ERR_OUT_OF_RANGE'],
      ['receiveMany with null options', () => g.receiveMany(1, null as never), 'ERR_INVALID_ARG_TYPE'],
      ['receiveMany from a string', () => g.receiveMany('2' as never), 'ERR_INVALID_ARG_TYPE'],
      ['receiveMany with a negative timeout', () => g.receiveMany(undefined, { timeout: -5 }), 'ERR_OUT_OF_RANGE'],
      ['Mailbox send of a number', () => mb.send(42 as never), 'ERR_INVALID_ARG_TYPE'],
      ['Mailbox send with null options', () => mb.send('x', null as never), 'ERR_INVALID_ARG_TYPE'],
      ['Mailbox receive with null options', () => mb.receive(null as never), 'ERR_INVALID_ARG_TYPE'],
      ['Mailbox receive with a negative timeout', () => mb.receive({ timeout: -1 }), 'ERR_OUT_OF_RANGE'],
      ['Mailbox receiveView with a bad signal', () => mb.receiveView({ signal: 1 as never }), 'ERR_INVALID_ARG_TYPE'],
      ['Mailbox receiveMany with max 1.5', () => mb.receiveMany({ max: 1.5 }), 'ERR_OUT_OF_RANGE'],
      ['Mailbox receiveMany with null options', () => mb.receiveMany(null as never), 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [what, call, code] of bad) expect(await rejection(what, call), what).toBe(code);
    // Nothing was sent by any of them.
    expect(g.tryReceive()).toBeUndefined();
    g.close();
    mb.close();
    const closed: [string, () => Promise<unknown>][] = [
      ['send', () => g.send(1, 'x')],
      ['receive', () => g.receive()],
      ['receiveView', () => g.receiveView(1)],
      ['receiveMany', () => g.receiveMany()],
      ['send with bad arguments', () => g.send(9, 42 as never)],
      ['Mailbox send', () => mb.send('x')],
      ['Mailbox receive', () => mb.receive()],
      ['Mailbox receiveView', () => mb.receiveView()],
      ['Mailbox receiveMany', () => mb.receiveMany()],
    ];
    for (const [what, call] of closed) expect(await rejection(`${what} after close`, call), what).toBe('ERR_INVALID_STATE');
  });
});
