// Hostile and broken peers (bad headers, truncated frames, garbage, corrupt frames among many, a
// peer that never reads, one killed mid-message, fds no frame claims, too many fds): only the
// faulty connection ends, the server keeps serving, and no fd leaks.
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Channel, type Server } from '../../lib';
import { Child } from '../helpers/child';
import { fixture, openFds, sleep } from '../helpers/util';
import { channelTestKit, clientError, nextChannelOnce } from './helpers';

const { sock, cleanup, child, server } = channelTestKit();

describe('faults: only the faulty connection ends, the server keeps serving, no fd leaks', () => {
  let s: Server;
  let good: Child;
  let goodId: number;
  let address: { path: string };
  let baseline: number;
  beforeAll(async () => {
    address = { path: sock('faults') };
    s = await listen(address, { maxMessageSize: 1024 * 1024, maxFds: 8 });
    s.on('connection', (ch) =>
      ch.on('message', (m) => {
        ch.send(m.data);
        for (const fd of m.fds) closeSync(fd);
      }),
    );
    good = await Child.start('channel/socket-child.cjs');
    goodId = (await good.call<{ id: number }>('connect', { address })).id;
    await sleep(50);
    baseline = openFds();
  });
  afterAll(async () => {
    await good.stop();
    await s.close();
  });
  async function stillServing(): Promise<void> {
    await good.call('send', { chan: goodId, text: 'still there?' });
    expect((await good.call<{ text: string }>('receive', { chan: goodId })).text).toBe('still there?');
  }
  async function noLeak(): Promise<void> {
    await sleep(20);
    expect(openFds()).toBe(baseline);
  }
  const header = (len: number, fds = 0, reserved = 0) => {
    const h = Buffer.alloc(8);
    h.writeUInt32BE(len, 0);
    h.writeUInt16BE(fds, 4);
    h.writeUInt16BE(reserved, 6);
    return h;
  };

  it('a length prefix larger than the limit', async () => {
    const c = await child();
    const err = clientError(s);
    await c.call('raw', { ...address, base64: header(1024 * 1024 + 1).toString('base64') });
    expect(await err).toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' });
    await stillServing();
    await c.stop();
    await noLeak();
  });

  it('a truncated frame followed by close', async () => {
    const c = await child();
    const err = clientError(s);
    await c.call('raw', { ...address, base64: Buffer.concat([header(1000), Buffer.alloc(10)]).toString('base64'), end: true });
    expect(await err).toMatchObject({ code: 'ERR_TRUNCATED_FRAME' });
    await stillServing();
    await c.stop();
    await noLeak();
  });

  it('random bytes', async () => {
    const c = await child();
    const err = clientError(s);
    let x = 12345;
    const junk = Buffer.alloc(4096, 0).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
    await c.call('raw', { ...address, base64: Buffer.from(junk).toString('base64') });
    expect(['ERR_MESSAGE_TOO_LARGE', 'ERR_INVALID_FRAME', 'ERR_TOO_MANY_FDS']).toContain((await err).code);
    await stillServing();
    await c.stop();
    await noLeak();
  });

  it('10 000 frames split and joined at random points arrive intact', async () => {
    const c = await child();
    const accepted = nextChannelOnce(s);
    const sending = c.call<number>('rawFrames', { ...address, count: 10_000, seed: 7 });
    const ch = await accepted;
    let i = 0;
    let bad = 0;
    for await (const m of ch) {
      for (let k = 0; k < m.data.length; k++) if (m.data[k] !== ((i + k) & 0xff)) bad++;
      if (++i === 10_000) break;
    }
    await sending;
    expect(bad).toBe(0);
    expect(i).toBe(10_000);
    await ch.close();
    await c.stop();
    await noLeak();
  });

  it('10 000 fuzzed frames with one corrupt header: the frames before it arrive, then that connection ends', async () => {
    const c = await child();
    const accepted = nextChannelOnce(s);
    const err = clientError(s);
    void c.call('rawFrames', { ...address, count: 10_000, seed: 99, corruptAt: 6000 }).catch(() => {});
    const ch = await accepted;
    let i = 0;
    let bad = 0;
    await expect(
      (async () => {
        for await (const m of ch) {
          for (let k = 0; k < m.data.length; k++) if (m.data[k] !== ((i + k) & 0xff)) bad++;
          i++;
        }
      })(),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_FRAME' });
    expect(i).toBe(6000);
    expect(bad).toBe(0);
    expect(await err).toMatchObject({ code: 'ERR_INVALID_FRAME' });
    await stillServing();
    await c.stop();
    await noLeak();
  });

  it('a peer that never reads: send() says so, memory stays bounded, drain comes when it reads', async () => {
    const c = await child();
    const accepted = nextChannelOnce(s, true);
    const { id } = await c.call<{ id: number }>('connect', { address, options: { maxBufferedMessages: 1 } });
    const ch = (await accepted) as Channel;
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    while (ch.send(chunk)) sent++;
    expect(ch.queuedBytes).toBeGreaterThanOrEqual(1024 * 1024);
    let thrown: unknown;
    try {
      for (;;) {
        ch.send(chunk);
        sent++;
      }
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'ERR_SEND_QUEUE_FULL' });
    expect(ch.queuedBytes).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(sent).toBeGreaterThan(16);
    const drained = ch.drained({ timeout: 30_000 });
    // the child now reads everything
    for (let k = 0; k <= sent; k++) await c.call('receive', { chan: id });
    await drained;
    expect(ch.queuedBytes).toBe(0);
    await stillServing();
    await ch.close();
    await c.stop();
    await noLeak();
  });

  it('a peer killed mid-message', async () => {
    const c = await child();
    const err = clientError(s);
    await c.call('raw', { ...address, base64: Buffer.concat([header(500_000), Buffer.alloc(100_000, 1)]).toString('base64') });
    c.proc.kill('SIGKILL');
    expect(await err).toMatchObject({ code: expect.stringMatching(/^(ERR_TRUNCATED_FRAME|ECONNRESET)$/) });
    await stillServing();
    await c.stop();
    await noLeak();
  });

  it('fds that no frame claims (a hostile client piling them up)', async () => {
    const err = clientError(s);
    const py = spawn('python3', [fixture('channel', 'fd-flood.py'), address.path, '200'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanup.push(() => {
      if (py.exitCode === null) py.kill('SIGKILL');
    });
    expect(await err).toMatchObject({ code: 'ERR_TOO_MANY_FDS' });
    await once(py, 'exit');
    await stillServing();
    await noLeak();
  });

  for (const kind of ['stream', 'seqpacket'] as const) {
    it(`too many fds in one message (${kind})`, async () => {
      const target = kind === 'stream' ? s : await server(sock('fds'), { kind, maxFds: 8 });
      if (kind !== 'stream') target.on('connection', (ch) => ch.on('message', () => {}));
      const c = await child();
      const err = clientError(target);
      const { id } = await c.call<{ id: number }>('connect', { address: target.address, options: { kind, maxFds: 253 } });
      await c.call('sendFds', { chan: id, count: 100 });
      expect(await err).toMatchObject({ code: 'ERR_TOO_MANY_FDS' });
      await stillServing();
      await c.stop();
      if (kind !== 'stream') await target.close();
      await noLeak();
    });
  }
});
