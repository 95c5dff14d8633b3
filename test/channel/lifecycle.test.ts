// A channel's life: what keeps the event loop alive (ref / unref), what a worker thread that exits
// leaves behind (nothing), and close({ timeout }) against a peer that never reads.
import { spawn } from 'node:child_process';
import { closeSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, type Channel } from '../../lib';
import { openFds, sleep } from '../helpers/util';
import { channelTestKit } from './helpers';

const { sock, abstractName, server } = channelTestKit();

// A channel whose peer does not read (it holds one message), sent to until the kernel's buffers are
// full: what is sent now stays queued.
async function stuckChannel(tag: string): Promise<Channel> {
  const s = await server(sock(tag), { maxBufferedMessages: 1 });
  const ch = await connect(s.address);
  const chunk = Buffer.alloc(64 * 1024);
  while (ch.send(chunk));
  await sleep(50);
  expect(ch.queuedBytes).toBeGreaterThan(0); // the kernel buffers are full: this stays queued
  return ch;
}

describe('ref() / unref()', () => {
  const script = (unref: boolean) => `
    const { listen, connect } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist'))});
    (async () => {
      const s = await listen({ abstract: 'interproc-ref-' + process.pid });
      s.on('connection', (ch) => { if (${unref}) ch.unref(); });
      const c = await connect(s.address);
      if (${unref}) { s.unref(); c.unref(); }
      console.log('up');
    })();`;

  it("an unref'd server and channels let the process exit; ref'd ones keep it alive", async () => {
    const quiet = spawn(process.execPath, ['-e', script(true)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [code] = await once(quiet, 'exit');
    expect(code).toBe(0); // exited on its own: nothing held the loop
    const busy = spawn(process.execPath, ['-e', script(false)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(busy.stdout, 'data');
    await sleep(300);
    expect(busy.exitCode).toBeNull(); // still running: the sockets hold the loop
    busy.kill();
    await once(busy, 'exit');
  });
});

describe('worker threads', () => {
  it('a worker that exits with channels open leaves no fd and no socket behind', async () => {
    const s = await server(sock('worker'));
    const name = abstractName('worker');
    await sleep(20);
    const before = openFds();
    const w = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const { connect, listen } = require(workerData.dist);
      (async () => {
        const ch = await connect(workerData.address);
        ch.send('from a worker', { fds: [0] });
        await listen({ abstract: workerData.name });
        parentPort.postMessage('ready');
      })();`,
      { eval: true, workerData: { dist: path.join(__dirname, '..', '..', 'dist'), address: s.address, name } },
    );
    expect((await once(w, 'message'))[0]).toBe('ready');
    const ch = (await s[Symbol.asyncIterator]().next()).value as Channel;
    const m = await ch.receive({ timeout: 10_000 });
    expect(m.data.toString()).toBe('from a worker');
    expect(m.fds).toHaveLength(1);
    closeSync(m.fds[0]);
    expect(readFileSync('/proc/net/unix', 'utf8')).toContain(`@${name}`);
    const closed = once(ch, 'close');
    await w.terminate(); // no close() in the worker: the environment's cleanup closes its sockets
    await closed;
    await sleep(50);
    expect(readFileSync('/proc/net/unix', 'utf8')).not.toContain(`@${name}`);
    expect(openFds()).toBe(before);
  });
});

describe('close', () => {
  it('close({ timeout }) does not wait forever for a peer that never reads, and reports the loss', async () => {
    const ch = await stuckChannel('close-timeout');
    const started = Date.now();
    await ch.close({ timeout: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(ch.closed).toBe(true);
    expect(ch.errored).toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    expect(ch.errored?.message).toMatch(/queued messages not sent/);
  });
});

describe("the end of a channel: our close() is ERR_INVALID_STATE, the peer's ERR_CHANNEL_CLOSED", () => {
  it('after close(), every call and every pending receive fails with ERR_INVALID_STATE; for-await ends', async () => {
    const s = await server(sock('closed'));
    const ch = await connect(s.address);
    const pending = ch.receive();
    const iterated: unknown[] = [];
    const iteration = (async () => {
      for await (const m of ch) iterated.push(m);
    })();
    await sleep(20);
    await ch.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await iteration; // ends, does not throw
    expect(iterated).toEqual([]);
    expect(ch.errored).toBeNull();
    await expect(ch.receive()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(ch.receive({ timeout: 10 })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(ch.drained()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(() => ch.send('late')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    await expect(ch.close()).resolves.toBeUndefined(); // idempotent
  });

  it('while close() waits for the queue to go out, receive() and send() fail with ERR_INVALID_STATE', async () => {
    const ch = await stuckChannel('closing');
    const pending = ch.receive();
    const closing = ch.close({ timeout: 100 });
    await expect(pending).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(ch.closed).toBe(false);
    await expect(ch.receive()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(() => ch.send('late')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    await closing;
    expect(ch.errored).toMatchObject({ code: 'ERR_CHANNEL_CLOSED' }); // queued messages were lost
    await expect(ch.receive()).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
  });

  it('when the peer closes: held messages stay readable, then ERR_CHANNEL_CLOSED', async () => {
    for (const kind of ['stream', 'seqpacket'] as const) {
      const s = await server(sock(`peer-closed-${kind}`), { kind });
      const accepted = once(s, 'connection');
      const ch = await connect(s.address, { kind });
      const [theirs] = (await accepted) as [Channel];
      const theirsClosed = once(theirs, 'close');
      const pending = theirs.receive();
      ch.send('first');
      ch.send('last');
      await ch.drained({ timeout: 10_000 });
      await ch.close();
      expect((await pending).data.toString()).toBe('first');
      await theirsClosed;
      expect(theirs.errored).toBeNull();
      expect((await theirs.receive()).data.toString()).toBe('last');
      await expect(theirs.receive()).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
      await expect(theirs.drained()).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
      // a receive already waiting when the peer closes fails the same way
      const acceptedAgain = once(s, 'connection');
      const again = await connect(s.address, { kind });
      const next = (await acceptedAgain)[0] as Channel;
      const waiting = next.receive();
      await again.close();
      await expect(waiting).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    }
  });
});

describe('drained()', () => {
  it('resolves when the queue empties, also when send() never returned false', async () => {
    for (const kind of ['stream', 'seqpacket', 'datagram'] as const) {
      const s = await server(sock(`drained-${kind}`), { kind });
      const accepted = once(s, 'connection');
      const ch = await connect(s.address, { kind });
      expect(ch.send('small')).toBe(true); // far below highWaterMark: no 'drain' event will come
      const drained = ch.drained({ timeout: 10_000 });
      ch.send('another');
      await drained;
      expect(ch.queuedBytes).toBe(0);
      const [theirs] = (await accepted) as [Channel];
      expect((await theirs.receive({ timeout: 10_000 })).data.toString()).toBe('small');
      expect((await theirs.receive({ timeout: 10_000 })).data.toString()).toBe('another');
      await expect(ch.drained()).resolves.toBeUndefined(); // nothing queued: at once
      await ch.close();
    }
  });

  it('rejects with a TimeoutError, or an AbortError, while a peer does not read', async () => {
    const ch = await stuckChannel('drained-timeout');
    await expect(ch.drained({ timeout: 20 })).rejects.toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
    const ac = new AbortController();
    const aborted = ch.drained({ signal: ac.signal });
    ac.abort(new Error('enough'));
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError', cause: { message: 'enough' } });
    // one still waiting when close() is called ends at once: nobody can send any more
    const waiting = ch.drained();
    const closing = ch.close({ timeout: 20 });
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(ch.drained()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await closing;
    expect(ch.errored).toMatchObject({ code: 'ERR_CHANNEL_CLOSED' }); // the queue's loss is still reported
  });
});
