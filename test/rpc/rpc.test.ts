// Request/response between separate processes over every transport: many requests in flight
// matched by id with replies out of order, error replies, timeouts and aborts under load, and a
// server SIGKILLed with requests pending (every one rejects at once, naming the peer).
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Channel,
  connect,
  listen,
  Mailbox,
  MailboxGroup,
  MailboxTransport,
  RpcEndpoint,
  type RpcClient,
  rpcClient,
  serve,
} from '../../dist';
import { exited, forkFixture, killAll, leftoverShm, nextMessage, uniqueName } from '../helpers/util';

const children: ChildProcess[] = [];
afterEach(() => killAll(children));

async function server(args: string[]): Promise<{ child: ChildProcess; pid: number }> {
  const child = forkFixture('rpc/rpc-server.cjs', args);
  children.push(child);
  const { pid } = await nextMessage<{ pid: number }>(child, (m) => m.ready);
  return { child, pid };
}

const ask = (c: RpcClient, req: object, options?: { timeout?: number; signal?: AbortSignal }) =>
  c.request(JSON.stringify(req), options).then((b) => JSON.parse(b.toString()));

/** A client to a served fixture over each transport; `done` cleans up. */
type Setup = () => Promise<{ client: RpcClient; child: ChildProcess; pid: number; done: () => Promise<void> }>;

function overSocket(address: { path: string } | { port: number; host: string }, kind: 'stream' | 'seqpacket'): Setup {
  return async () => {
    const s = await listen(address, { kind });
    const accepted = new Promise<Channel>((r) => s.once('connection', r));
    const where = 'path' in address ? address.path : String((s.address as { port: number }).port);
    const { child, pid } = await server('path' in address ? ['channel', where, kind] : ['tcp', where]);
    const client = rpcClient(await accepted);
    return {
      client,
      child,
      pid,
      done: async () => {
        client.close();
        await s.close();
        if ('path' in address) rmSync(address.path, { force: true });
      },
    };
  };
}

const sockPath = (tag: string) => path.join(os.tmpdir(), `interproc-rpc-${tag}-${process.pid}.sock`);

const setups: [string, Setup][] = [
  ['Unix stream', overSocket({ path: sockPath('stream') }, 'stream')],
  ['Unix seqpacket', overSocket({ path: sockPath('seq') }, 'seqpacket')],
  ['TCP', overSocket({ port: 0, host: '127.0.0.1' }, 'stream')],
  [
    'Mailbox',
    async () => {
      const name = uniqueName('rpc');
      const mb = Mailbox.create(name, { ringSize: 1 << 16 });
      const { child, pid } = await server(['mailbox', name]);
      const client = rpcClient(mb);
      await waitUp(client);
      return {
        client,
        child,
        pid,
        done: async () => {
          client.close();
          mb.close();
          Mailbox.unlink(name);
        },
      };
    },
  ],
];

/** A mailbox peer is up once the scan has seen it join. */
async function waitUp(client: RpcClient): Promise<void> {
  const t = client.endpoint.transport;
  if (t.isUp(client.peer)) return;
  await new Promise<void>((r) => t.on('peer-up', (p) => p === client.peer && r()));
}

describe.each(setups)('rpc over %s', (_label, setup) => {
  it('1000 requests in flight, replies out of order, each matched to its request', async () => {
    const { client, done } = await setup();
    try {
      const n = 1000;
      const order: number[] = [];
      const replies = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          ask(client, { op: 'slow', ms: (i * 7919) % 23, v: { i, pad: 'x'.repeat(i % 50) } }).then((r) => {
            order.push(r.i);
            return r;
          }),
        ),
      );
      expect(replies.map((r) => r.i)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(replies.every((r, i) => r.pad.length === i % 50)).toBe(true);
      expect(order).not.toEqual([...order].sort((a, b) => a - b)); // they did come out of order
      expect(client.pending).toBe(0);
    } finally {
      await done();
    }
  });

  it("a handler's throw comes back as an error reply with its name, message and code", async () => {
    const { client, done } = await setup();
    try {
      await expect(ask(client, { op: 'throw', code: 'E_NOPE', v: 7 })).rejects.toMatchObject({
        code: 'ERR_RPC_REMOTE_ERROR',
        remote: { name: 'TypeError', message: 'bad request 7', code: 'E_NOPE' },
      });
      expect(await ask(client, { op: 'echo', v: 'still fine' })).toBe('still fine');
    } finally {
      await done();
    }
  });

  it('under load, timeouts and aborts end only their own requests; late replies are dropped', async () => {
    const { client, done } = await setup();
    try {
      const ac = new AbortController();
      const all = Array.from({ length: 300 }, (_, i) => {
        if (i % 3 === 0)
          return ask(client, { op: 'hang' }, { timeout: 30 }).then(
            () => 'ok',
            (e) => e.code,
          );
        if (i % 3 === 1)
          return ask(client, { op: 'slow', ms: 200, v: i }, { signal: ac.signal }).then(
            () => 'ok',
            (e) => e.name,
          );
        return ask(client, { op: 'slow', ms: 5, v: i }, { timeout: 60_000 }).then((v) => (v === i ? 'ok' : 'wrong'));
      });
      setTimeout(() => ac.abort(), 10);
      const got = await Promise.all(all);
      expect(got.filter((_, i) => i % 3 === 0).every((c) => c === 'ETIMEDOUT')).toBe(true);
      expect(got.filter((_, i) => i % 3 === 1).every((c) => c === 'AbortError')).toBe(true);
      expect(got.filter((_, i) => i % 3 === 2).every((c) => c === 'ok')).toBe(true);
      expect(client.pending).toBe(0);
      await new Promise((r) => setTimeout(r, 250)); // the aborted ones' replies arrive and are dropped
      expect(await ask(client, { op: 'echo', v: 1 })).toBe(1);
    } finally {
      await done();
    }
  });

  it('a server SIGKILLed with requests pending rejects every one at once, naming the peer', async () => {
    const { client, child, done } = await setup();
    try {
      const pending = Array.from({ length: 200 }, () =>
        ask(client, { op: 'hang' }).then(
          () => undefined,
          (e) => e,
        ),
      );
      await ask(client, { op: 'echo', v: 'sync' }); // every hang request has reached the server
      expect(client.pending).toBe(200);
      child.kill('SIGKILL');
      const errors = await Promise.all(pending);
      expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['ERR_RPC_PEER_DOWN']));
      expect(errors[0].peer).toBe(client.peer);
      expect(errors[0].message).toContain(`rpc peer ${client.peer} went down`);
      expect(errors[0].message).toContain('with 200 requests pending');
      expect(client.pending).toBe(0);
      await expect(client.request('after')).rejects.toMatchObject({ code: 'ERR_RPC_PEER_DOWN' });
      await exited(child);
    } finally {
      await done();
    }
  });
});

describe('rpc over a MailboxGroup, member to member', () => {
  it('member 0 asks members 1 and 2; killing one rejects only its requests', async () => {
    const name = uniqueName('rpc-group');
    const g = MailboxGroup.create(name, { members: 3, ringSize: 1 << 16 });
    try {
      const one = await server(['group', name]);
      const two = await server(['group', name]);
      const c1 = rpcClient(g, 1);
      const c2 = rpcClient(g, 2);
      expect(c1.endpoint).toBe(c2.endpoint); // one endpoint, one receive loop per group
      await waitUp(c1);
      await waitUp(c2);
      expect(await c1.request(JSON.stringify({ op: 'pid' })).then(String)).toBe(String(one.pid));
      expect(await c2.request(JSON.stringify({ op: 'pid' })).then(String)).toBe(String(two.pid));
      const hung = Array.from({ length: 50 }, () => c1.request(JSON.stringify({ op: 'hang' })).catch((e) => e));
      await c1.request(JSON.stringify({ op: 'echo', v: 0 }));
      one.child.kill('SIGKILL');
      const errors = await Promise.all(hung);
      expect(errors.every((e) => e.code === 'ERR_RPC_PEER_DOWN' && e.peer === 1 && e.pid === one.pid)).toBe(true);
      expect(await ask(c2, { op: 'echo', v: 'two lives' })).toBe('two lives');
      c1.close();
      c2.close();
    } finally {
      g.close();
      MailboxGroup.unlink(name);
    }
    expect(leftoverShm()).toEqual([]);
  });
});

describe('RpcEndpoint in one process', () => {
  it('a closed endpoint rejects its pending requests; hostile frames are dropped', async () => {
    const name = uniqueName('rpc-local');
    const g0 = MailboxGroup.create(name, { members: 2 });
    const g1 = MailboxGroup.join(name);
    const t1 = new MailboxTransport(g1);
    const a = new RpcEndpoint(new MailboxTransport(g0));
    const b = new RpcEndpoint(t1, { handler: (d) => (d.toString() === 'hang' ? new Promise(() => {}) : d) });
    try {
      await new Promise<void>((r) => (a.transport.isUp(1) ? r() : a.transport.once('peer-up', () => r())));
      // Garbage to a: too short, wrong version, unknown kind, a reply to nothing.
      for (const junk of [Buffer.from([2]), Buffer.from([2, 9, 0, 0, 1, 0, 0, 0]), Buffer.from([7, 1, 0, 0, 1, 0, 0, 0])])
        t1.send(0, junk);
      t1.send(0, Buffer.from([2, 1, 0, 0, 99, 0, 0, 0]));
      expect((await a.request(1, 'hello')).toString()).toBe('hello');
      // a serves nothing: a request to it comes back as an error reply.
      await expect(b.request(0, 'anyone?')).rejects.toMatchObject({
        code: 'ERR_RPC_REMOTE_ERROR',
        remote: { code: 'ERR_RPC_NO_HANDLER' },
      });
      const p = a.request(1, 'hang');
      a.close();
      await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      await expect(a.request(1, 'x')).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
      await expect(b.request(0, 5 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    } finally {
      a.close();
      b.close();
      g0.close();
      g1.close();
      MailboxGroup.unlink(name);
    }
  });

  it('serve() and rpcClient() on one group share an endpoint; server.close() stops answering, the client goes on', async () => {
    const name = uniqueName('rpc-share');
    const g0 = MailboxGroup.create(name, { members: 2 });
    const g1 = MailboxGroup.join(name);
    const asker = rpcClient(g0, 1);
    const srv = serve(g1, (d) => `re:${d}`);
    const back = rpcClient(g1, 0); // the same endpoint as srv's
    const answer = serve(g0, () => 'from 0');
    try {
      await waitUp(asker);
      await waitUp(back);
      expect((await asker.request('x')).toString()).toBe('re:x');
      srv.close();
      expect(back.closed).toBe(false);
      await expect(asker.request('y')).rejects.toMatchObject({ remote: { code: 'ERR_RPC_NO_HANDLER' } });
      expect((await back.request('z')).toString()).toBe('from 0');
    } finally {
      answer.close();
      asker.close();
      back.close();
      g0.close();
      g1.close();
      MailboxGroup.unlink(name);
    }
  });

  it('serve() on a Server answers every connection; a request to no handler is an error reply', async () => {
    const where = sockPath('srv');
    const s = await listen({ path: where });
    const srv = serve(s, (d) => `ok:${d}`);
    try {
      const c = rpcClient(await connect({ path: where }));
      expect((await c.request('a')).toString()).toBe('ok:a');
      const c2 = rpcClient(await connect({ path: where }));
      expect((await c2.request('b')).toString()).toBe('ok:b');
      c.close();
      c2.close();
    } finally {
      srv.close();
      await s.close();
      rmSync(where, { force: true });
    }
  });
});
