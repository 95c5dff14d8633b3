import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, listen, SharedMemory, type Channel, type Server, type SocketKind } from '../../lib';
import { Child } from '../helpers/child';
import { exited, fixture, openFds, sleep } from '../helpers/util';

const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-sock-'));
let n = 0;
const sock = (tag: string) => path.join(dir, `${tag}-${n++}.sock`);
const abstractName = (tag: string) => `interproc-test-${process.pid}-${tag}-${n++}`;

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
afterAll(() => {
  // Every server removed its socket file: nothing is left in the socket directory.
  expect(readdirSync(dir)).toEqual([]);
  rmdirSync(dir);
});

async function child(): Promise<Child> {
  const c = await Child.start('channel/socket-child.cjs');
  cleanup.push(() => c.stop());
  return c;
}

async function server<T = Buffer>(address: Parameters<typeof listen>[0], options: Parameters<typeof listen>[1] = {}): Promise<Server<T>> {
  const s = await listen<T>(address, options);
  cleanup.push(() => s.close());
  return s;
}

function nextChannel<T>(s: Server<T>): Promise<Channel<T>> {
  return once(s, 'connection').then(([ch]) => ch as Channel<T>);
}

function clientError(s: Server): Promise<Error & { code?: string }> {
  return once(s, 'clientError').then(([err]) => err as Error & { code?: string });
}

const KINDS: SocketKind[] = ['stream', 'seqpacket', 'datagram'];

describe('channels between separate processes', () => {
  for (const kind of KINDS) {
    it(`${kind}: messages both ways, peer credentials match the child's pid`, async () => {
      const s = await server(sock(kind), { kind });
      const c = await child();
      const accepted = nextChannel(s);
      const { id, peer } = await c.call<{ id: number; peer: { pid: number } | null }>('connect', { address: s.address, options: { kind } });
      if (kind !== 'datagram') expect(peer?.pid).toBe(process.pid);
      await c.call('send', { chan: id, text: 'hello from child' });
      const ch = await accepted;
      const first = await ch.receive({ timeout: 10_000 });
      expect(first.data.toString()).toBe('hello from child');
      expect(ch.peer).toEqual({ pid: c.proc.pid, uid: process.getuid!(), gid: process.getgid!() });
      ch.send('hello from parent');
      // (a datagram client learns the server's credentials from its first reply)
      expect(await c.call('receive', { chan: id })).toMatchObject({ text: 'hello from parent', fdCount: 0, peer: { pid: process.pid } });
      // Kernel boundaries (packet kinds) and frames (stream) both keep messages apart.
      await c.call('send', { chan: id, text: 'x', count: 3 });
      for (let i = 0; i < 3; i++) expect((await ch.receive({ timeout: 10_000 })).data.toString()).toBe('x');
    });

    it(`${kind}: passes an anonymous SharedMemory whose writes the receiver then sees`, async () => {
      const s = await server(sock(`shm-${kind}`), { kind });
      const c = await child();
      const accepted = nextChannel(s);
      const { id } = await c.call<{ id: number }>('connect', { address: s.address, options: { kind } });
      await c.call('send', { chan: id, text: 'hi' });
      const ch = await accepted;
      await ch.receive({ timeout: 10_000 });
      using shm = SharedMemory.anonymous({ size: 4096 });
      Buffer.from(shm.buffer).write('parent wrote this', 0);
      const before = openFds();
      ch.send('parent wrote this', { fds: [shm.fd] });
      const r = await c.call<{ text: string }>('receiveShm', { chan: id, write: 'child wrote that' });
      expect(r.text).toBe('parent wrote this');
      expect(Buffer.from(shm.buffer, 100, 16).toString()).toBe('child wrote that');
      expect(openFds()).toBe(before); // the duplicate taken for sending is closed once sent
      // and the other way: the child's segment arrives here as a new fd
      await c.call('sendShm', { chan: id, text: 'segment of the child' });
      const m = await ch.receive({ timeout: 10_000 });
      expect(m.fds).toHaveLength(1);
      const theirs = SharedMemory.fromFd(m.fds[0]);
      closeSync(m.fds[0]);
      expect(Buffer.from(theirs.buffer, 0, 20).toString()).toBe('segment of the child');
      Buffer.from(theirs.buffer).write('seen', 100);
      expect(await c.call('readShm', { length: 4 })).toBe('seen');
      theirs.close();
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

  it('abstract names leave no file and show in /proc/net/unix', async () => {
    const name = abstractName('abs');
    const before = readdirSync(dir);
    const s = await server({ abstract: name });
    expect(s.address).toEqual({ abstract: name });
    expect(readFileSync('/proc/net/unix', 'utf8')).toContain(`@${name}`);
    const c = await child();
    await c.call('echoClient', { address: `@${name}` });
    const ch = await nextChannel(s);
    ch.send('ping');
    expect((await ch.receive({ timeout: 10_000 })).data.toString()).toBe('ping');
    expect(readdirSync(dir)).toEqual(before);
    await s.close();
    expect(readFileSync('/proc/net/unix', 'utf8')).not.toContain(`@${name}`);
  });

  it('many clients on one server', async () => {
    const s = await server(sock('many'));
    const kids = await Promise.all([child(), child(), child(), child()]);
    const perChild = 10;
    const got = new Map<string, number>();
    s.on('connection', (ch) => ch.on('message', (m) => {
      const k = m.data.toString();
      got.set(k, (got.get(k) ?? 0) + 1);
      ch.send(`ack ${k}`);
    }));
    await Promise.all(kids.map(async (c, ci) => {
      for (let i = 0; i < perChild; i++) {
        const { id } = await c.call<{ id: number }>('connect', { address: s.address });
        await c.call('send', { chan: id, text: `c${ci}-${i}` });
        expect((await c.call<{ text: string }>('receive', { chan: id })).text).toBe(`ack c${ci}-${i}`);
      }
    }));
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

  it('an unref\'d server and channels let the process exit; ref\'d ones keep it alive', async () => {
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
    const w = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      const { connect, listen } = require(workerData.dist);
      (async () => {
        const ch = await connect(workerData.address);
        ch.send('from a worker', { fds: [0] });
        await listen({ abstract: workerData.name });
        parentPort.postMessage('ready');
      })();`, { eval: true, workerData: { dist: path.join(__dirname, '..', '..', 'dist'), address: s.address, name } });
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

describe('TCP: the same channel API', () => {
  it('tcp://127.0.0.1:0 carries frames, has no peer credentials and refuses fds', async () => {
    const s = await server('tcp://127.0.0.1:0');
    const addr = s.address as { host: string; port: number };
    expect(addr.host).toBe('127.0.0.1');
    expect(addr.port).toBeGreaterThan(0);
    const c = await child();
    const accepted = nextChannel(s);
    const { id } = await c.call<{ id: number }>('connect', { address: `tcp://localhost:${addr.port}` });
    const ch = await accepted;
    expect(ch.peer).toBeNull();
    await c.call('send', { chan: id, size: 100_000, fill: 7 });
    const m = await ch.receive({ timeout: 10_000 });
    expect(m.data.length).toBe(100_000);
    expect(m.data.every((b) => b === 7)).toBe(true);
    expect(() => ch.send('x', { fds: [0] })).toThrow(expect.objectContaining({ code: 'ERR_FDS_NOT_SUPPORTED' }));
    await expect(connect('tcp://127.0.0.1:1')).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    await expect(listen('tcp://127.0.0.1:0', { kind: 'seqpacket' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  });
});

describe('socket files', () => {
  it('are created 0600 by default, or with the given mode regardless of umask', async () => {
    const a = sock('mode');
    await server(a);
    expect(statSync(a).mode & 0o777).toBe(0o600);
    const b = sock('mode');
    const old = process.umask(0o077);
    try {
      await server(b, { mode: 0o660 });
    } finally {
      process.umask(old);
    }
    expect(statSync(b).mode & 0o777).toBe(0o660);
  });

  it('a stale file of a dead server is replaced; a live one or a non-socket file is not', async () => {
    const p = sock('stale');
    const c = await child();
    await c.call('serveEcho', { address: p });
    // live: refused, and the file stays
    await expect(listen(p)).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', path: p });
    // the server dies without cleaning up: its file stays behind
    const done = exited(c.proc);
    c.proc.kill('SIGKILL');
    await done;
    expect(statSync(p).isSocket()).toBe(true);
    await expect(listen(p, { replaceStale: false })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const s = await server(p);
    const ch = await connect(p);
    cleanup.push(() => ch.close());
    expect((await nextChannel(s)).peer?.pid).toBe(process.pid);
    // a regular file is never deleted
    const f = sock('regular');
    writeFileSync(f, 'data');
    await expect(listen(f)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(readFileSync(f, 'utf8')).toBe('data');
    unlinkSync(f);
  });

  it('restricts peers by uid/gid from the kernel credentials; a rejected peer is closed and reported', async () => {
    const uid = process.getuid!();
    const deny = await server(sock('deny'), { allowUids: [uid + 12345] });
    const c = await child();
    const rejected = once(deny, 'rejected');
    const { id } = await c.call<{ id: number }>('connect', { address: deny.address });
    const [err, peer] = await rejected;
    expect(err).toMatchObject({ code: 'ERR_PEER_NOT_ALLOWED' });
    expect(peer).toMatchObject({ pid: c.proc.pid, uid });
    await expect(c.call('receive', { chan: id, timeout: 5000 })).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    expect(deny.connections).toBe(0);
    // datagram: no connection to refuse, so each datagram of a disallowed sender is dropped and reported
    const dgram = await server(sock('deny-dgram'), { kind: 'datagram', allowUids: [uid + 12345] });
    const dropped = once(dgram, 'rejected');
    const d = await c.call<{ id: number }>('connect', { address: dgram.address, options: { kind: 'datagram' } });
    await c.call('send', { chan: d.id, text: 'let me in' });
    const [derr, dpeer] = await dropped;
    expect(derr).toMatchObject({ code: 'ERR_PEER_NOT_ALLOWED' });
    expect(dpeer).toMatchObject({ pid: c.proc.pid, uid });
    expect(dgram.connections).toBe(0);
    const allow = await server(sock('allow'), { allowGids: [process.getgid!()] });
    const accepted = nextChannel(allow);
    await c.call('connect', { address: allow.address });
    expect((await accepted).peer?.pid).toBe(c.proc.pid);
  });
});

describe('a python3 client speaking docs/protocol.md', () => {
  it('exchanges frames (split and joined) and fds with the server', async () => {
    const s = await server(sock('py'));
    s.on('connection', (ch) => ch.on('message', (m) => {
      ch.send(Buffer.concat([Buffer.from('echo:'), m.data]), { fds: m.fds });
      for (const fd of m.fds) closeSync(fd);
    }));
    const py = spawn('python3', [fixture('channel', 'protocol-client.py'), (s.address as { path: string }).path], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => { if (py.exitCode === null) py.kill('SIGKILL'); });
    let out = '';
    py.stdout.on('data', (d) => (out += d));
    py.stderr.on('data', (d) => (out += d));
    const [code] = await once(py, 'exit');
    expect(out).toContain('python client ok');
    expect(code).toBe(0);
  });
});

describe('misuse and bad input', () => {
  it('throws Node-style errors and changes nothing', async () => {
    await expect(listen({ path: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(listen({ path: 'x'.repeat(200) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(listen(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(listen(sock('bad'), { kind: 'pipe' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(listen(sock('bad'), { maxFds: 300 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(listen(path.join(dir, 'no-such-dir', 'x.sock'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'bind' });
    await expect(connect(sock('nobody'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
    const s = await server(sock('misuse'));
    const ch = await connect(s.address);
    const fds = openFds();
    expect(() => ch.send(42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => ch.send('x', { fds: [123456] })).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => ch.send('x', { fds: [-1] })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => ch.send(Buffer.alloc(17 * 1024 * 1024))).toThrow(expect.objectContaining({ code: 'ERR_MESSAGE_TOO_LARGE' }));
    expect(ch.queuedBytes).toBe(0);
    expect(openFds()).toBe(fds);
    await expect(ch.receive({ timeout: 20 })).rejects.toMatchObject({ name: 'TimeoutError', code: 'ETIMEDOUT' });
    const ac = new AbortController();
    const p = ch.receive({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await ch.close();
    expect(() => ch.send('late')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_STATE' }));
    await expect(ch.receive()).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
  });
});

describe('close', () => {
  it('close({ timeout }) does not wait forever for a peer that never reads, and reports the loss', async () => {
    const s = await server(sock('close-timeout'), { maxBufferedMessages: 1 });
    const ch = await connect(s.address);
    const chunk = Buffer.alloc(64 * 1024);
    while (ch.send(chunk));
    await sleep(50);
    expect(ch.queuedBytes).toBeGreaterThan(0); // the kernel buffers are full: this stays queued
    const started = Date.now();
    await ch.close({ timeout: 100 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(ch.closed).toBe(true);
    expect(ch.errored).toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    expect(ch.errored?.message).toMatch(/queued messages not sent/);
  });
});

describe('faults: only the faulty connection ends, the server keeps serving, no fd leaks', () => {
  let s: Server;
  let good: Child;
  let goodId: number;
  let address: { path: string };
  let baseline: number;
  beforeAll(async () => {
    address = { path: sock('faults') };
    s = await listen(address, { maxMessageSize: 1024 * 1024, maxFds: 8 });
    s.on('connection', (ch) => ch.on('message', (m) => {
      ch.send(m.data);
      for (const fd of m.fds) closeSync(fd);
    }));
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
    await expect((async () => {
      for await (const m of ch) {
        for (let k = 0; k < m.data.length; k++) if (m.data[k] !== ((i + k) & 0xff)) bad++;
        i++;
      }
    })()).rejects.toMatchObject({ code: 'ERR_INVALID_FRAME' });
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
    const py = spawn('python3', [fixture('channel', 'fd-flood.py'), address.path, '200'], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => { if (py.exitCode === null) py.kill('SIGKILL'); });
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

// The next channel accepted, whether or not the server has a 'connection' listener that consumes it.
function nextChannelOnce(s: Server, silent = false): Promise<Channel> {
  return new Promise((resolve) => {
    const listeners = s.listeners('connection') as ((ch: Channel) => void)[];
    s.removeAllListeners('connection');
    s.once('connection', (ch: Channel) => {
      for (const l of listeners) s.on('connection', l);
      if (silent) ch.on('message', () => {});
      resolve(ch);
    });
  });
}
