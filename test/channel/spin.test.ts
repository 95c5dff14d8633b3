// The channel's polling mode (options.spin): after a send, the socket is read for up to `spin` µs
// before the event loop may sleep, so a reply that comes meanwhile is taken in the same turn (a
// setImmediate queued after the send runs only after it). Order, request/response over rpc and a
// peer's end are as without it; bad values throw.
import { describe, expect, it } from 'vitest';
import { connect, rpcClient } from '../../lib';
import { channelTestKit, nextChannel } from './helpers';

const { sock, child, server } = channelTestKit();

describe('options.spin', () => {
  for (const kind of ['stream', 'seqpacket'] as const) {
    it(`${kind}: an echo that comes during the spin is delivered before the loop turns; within the same turn`, async () => {
      const s = await server(sock(`spin-${kind}`), { kind, spin: 1_000_000 });
      const c = await child();
      const accepted = nextChannel(s);
      await c.call('echoClient', { address: s.address, options: { kind } });
      const ch = await accepted;
      // Warm the child's side so its echo is quick.
      ch.send('warm');
      expect((await ch.receive({ timeout: 10_000 })).data.toString()).toBe('warm');
      const order: string[] = [];
      ch.on('message', (m) => order.push(`message ${m.data}`));
      await new Promise((r) => setTimeout(r, 20));
      ch.send('a');
      setImmediate(() => order.push('immediate'));
      await new Promise((r) => setTimeout(r, 100));
      expect(order).toEqual(['message a', 'immediate']);
    });
  }

  it('stream: without spin the loop turns before the echo is read', async () => {
    const s = await server(sock('nospin'), {});
    const c = await child();
    const accepted = nextChannel(s);
    await c.call('echoClient', { address: s.address, options: {} });
    const ch = await accepted;
    const order: string[] = [];
    ch.on('message', (m) => order.push(`message ${m.data}`));
    ch.send('a');
    setImmediate(() => order.push('immediate'));
    await new Promise((r) => setTimeout(r, 100));
    expect(order).toEqual(['immediate', 'message a']);
  });

  it('rpc over spinning channels on both sides: 2 000 requests answered in order, then the peer ends', async () => {
    const s = await server(sock('spin-rpc'), { spin: 200 });
    const c = await child();
    const accepted = nextChannel(s);
    await c.call('echoClient', { address: s.address, options: { spin: 200 } });
    const ch = await accepted;
    // The child echoes raw frames, so the rpc reply is the request frame itself: count round trips
    // with plain messages instead, in order.
    const got: number[] = [];
    for (let i = 0; i < 2000; i++) {
      ch.send(String(i));
      got.push(Number((await ch.receive({ timeout: 10_000 })).data.toString()));
    }
    expect(got).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    c.proc.kill('SIGKILL');
    await expect(ch.receive({ timeout: 20_000 })).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
  });

  it('rpc: requests over a spinning channel to a spinning server, one and 50 in flight, answers matched', async () => {
    const s = await server(sock('spin-rpc2'), { spin: 100 });
    const c = await child();
    const accepted = nextChannel(s);
    await c.call('rpcServe', { address: s.address, options: { spin: 100 } });
    const client = rpcClient(await accepted);
    for (let i = 0; i < 500; i++) expect((await client.request(Buffer.from(`q${i}`))).toString()).toBe(`Q${i}`);
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => client.request(Buffer.from(`m${i}`))));
    expect(many.map(String)).toEqual(Array.from({ length: 50 }, (_, i) => `M${i}`));
    const pending = client.request(Buffer.from('never'), { timeout: 20_000 });
    c.proc.kill('SIGKILL');
    await expect(pending).rejects.toMatchObject({ code: 'ERR_RPC_PEER_DOWN' });
    client.close();
  });

  it('a peer that never pauses cannot starve the loop: a timer fires during its stream', async () => {
    const s = await server(sock('spin-stream'), { spin: 1_000_000 });
    const c = await child();
    const accepted = nextChannel(s);
    const { id } = await c.call<{ id: number }>('connect', { address: s.address, options: {} });
    const ch = await accepted;
    const COUNT = 1000; // one every 300 µs: some 300 ms of messages, each within the spin of the last
    let got = 0;
    let atTimer = -1;
    let timer: Promise<void> | undefined;
    ch.on('message', () => {
      // 30 ms into the stream (its first message), a timer: it must not wait for the stream's end.
      if (++got === 1) timer = new Promise<void>((r) => setTimeout(() => r(void (atTimer = got)), 30));
    });
    await c.call('sendSpaced', { chan: id, count: COUNT, gapUs: 300 });
    while (got < COUNT) await new Promise((r) => setTimeout(r, 5));
    await timer;
    expect(atTimer).toBeGreaterThan(0);
    expect(atTimer).toBeLessThan(COUNT);
  });

  it('bad values throw and change nothing', async () => {
    const s = await server(sock('spin-bad'), {});
    for (const [spin, code] of [
      [-1, 'ERR_OUT_OF_RANGE'],
      [1_000_001, 'ERR_OUT_OF_RANGE'],
      [1.5, 'ERR_OUT_OF_RANGE'],
      ['50', 'ERR_INVALID_ARG_TYPE'],
    ] as const) {
      await expect(connect(s.address, { spin: spin as number })).rejects.toMatchObject({ code });
    }
  });
});
