// Messages over each kind of Unix channel between separate processes: both ways, boundaries kept,
// the peer's credentials, the v8 codec, many clients, async iteration.
import { describe, expect, it } from 'vitest';
import { channelTestKit, KINDS, nextChannel } from './helpers';

const { sock, child, server } = channelTestKit();

describe('channels between separate processes', () => {
  for (const kind of KINDS) {
    it(`${kind}: messages both ways, peer credentials match the child's pid`, async () => {
      const s = await server(sock(kind), { kind });
      const c = await child();
      const accepted = nextChannel(s);
      const { id, peer } = await c.call<{ id: number; peer: { pid: number } | null }>('connect', {
        address: s.address,
        options: { kind },
      });
      if (kind !== 'datagram') expect(peer?.pid).toBe(process.pid);
      await c.call('send', { chan: id, text: 'hello from child' });
      const ch = await accepted;
      const first = await ch.receive({ timeout: 10_000 });
      expect(first.data.toString()).toBe('hello from child');
      expect(ch.peer).toEqual({ pid: c.proc.pid, uid: process.getuid!(), gid: process.getgid!() });
      ch.send('hello from parent');
      // (a datagram client learns the server's credentials from its first reply)
      expect(await c.call('receive', { chan: id })).toMatchObject({
        text: 'hello from parent',
        fdCount: 0,
        peer: { pid: process.pid },
      });
      // Kernel boundaries (packet kinds) and frames (stream) both keep messages apart.
      await c.call('send', { chan: id, text: 'x', count: 3 });
      for (let i = 0; i < 3; i++) expect((await ch.receive({ timeout: 10_000 })).data.toString()).toBe('x');
    });
  }

  it('v8 codec carries structured values', async () => {
    const s = await server<unknown>(sock('v8'), { codec: 'v8' });
    const c = await child();
    const accepted = nextChannel(s);
    const { id } = await c.call<{ id: number }>('connect', { address: s.address, options: { codec: 'v8' } });
    await c.call('send', { chan: id, value: { a: 1, list: [1, 'two', null], nested: { deep: true } } });
    const ch = await accepted;
    const m = await ch.receive({ timeout: 10_000 });
    expect(m.data).toEqual({ a: 1, list: [1, 'two', null], nested: { deep: true } });
    ch.send(new Map([['k', new Date(0)]]));
    const back = await c.call<{ value: unknown }>('receive', { chan: id });
    expect(back.value).toEqual({ map: [['k', '0']] }); // a Map holding a Date arrived as a Map
  });

  it('many clients on one server', async () => {
    const s = await server(sock('many'));
    const kids = await Promise.all([child(), child(), child(), child()]);
    const perChild = 10;
    const got = new Map<string, number>();
    s.on('connection', (ch) =>
      ch.on('message', (m) => {
        const k = m.data.toString();
        got.set(k, (got.get(k) ?? 0) + 1);
        ch.send(`ack ${k}`);
      }),
    );
    await Promise.all(
      kids.map(async (c, ci) => {
        for (let i = 0; i < perChild; i++) {
          const { id } = await c.call<{ id: number }>('connect', { address: s.address });
          await c.call('send', { chan: id, text: `c${ci}-${i}` });
          expect((await c.call<{ text: string }>('receive', { chan: id })).text).toBe(`ack c${ci}-${i}`);
        }
      }),
    );
    expect(got.size).toBe(kids.length * perChild);
    expect([...got.values()].every((v) => v === 1)).toBe(true);
    expect(s.connections).toBe(kids.length * perChild);
  });

  it('server and channels are async iterables', async () => {
    const s = await server(sock('iter'), { kind: 'seqpacket' });
    const c = await child();
    const { id } = await c.call<{ id: number }>('connect', { address: s.address, options: { kind: 'seqpacket' } });
    await c.call('send', { chan: id, text: 'm', count: 3 });
    await c.call('close', { chan: id });
    for await (const ch of s) {
      const texts: string[] = [];
      for await (const m of ch) texts.push(m.data.toString());
      expect(texts).toEqual(['m', 'm', 'm']); // ends cleanly when the peer closes
      break;
    }
  });
});
