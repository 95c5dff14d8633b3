// What a hostile stream peer can make a server reserve: a header that announces a 16 MiB frame costs
// the server what has arrived (a small buffer), not 16 MiB; the body buffer grows as bytes come, and
// an honest large frame still arrives intact. The server runs in its own process, the peers are raw
// sockets of this one. Before the fix, 100 such headers reserved 1.6 GB of ArrayBuffers.
import { createHash, randomBytes } from 'node:crypto';
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { exited, fixture, nextMessage, sleep } from '../helpers/util';
import { channelTestKit } from './helpers';

const { sock } = channelTestKit();
const MIB = 1024 * 1024;
const children: ChildProcess[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of children.splice(0)) {
    const done = exited(c);
    c.send('close');
    await done;
  }
});

interface Memory {
  rss: number;
  external: number;
  arrayBuffers: number;
  connections: number;
  errors: string[];
}

async function startServer(path: string): Promise<ChildProcess> {
  const child = fork(fixture('channel', 'memory-server.cjs'), [path], { execArgv: ['--expose-gc'], stdio: 'inherit' });
  children.push(child);
  await nextMessage(child, (m) => m?.ready);
  return child;
}

async function memory(child: ChildProcess): Promise<Memory> {
  const m = nextMessage<{ memory: Memory }>(child, (x) => x?.memory);
  child.send('memory');
  return (await m).memory;
}

function rawConnect(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path }, () => resolve(s));
    s.on('error', reject);
    sockets.push(s);
  });
}

function header(length: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(length, 0);
  return h;
}

it('100 connections that announce 16 MiB frames and send no body keep the server small', async () => {
  const path = sock('mem');
  const child = await startServer(path);
  const before = await memory(child);
  for (let i = 0; i < 100; i++) {
    const s = await rawConnect(path);
    s.write(header(16 * MIB)); // the largest frame the default maxMessageSize allows, and not a byte of it
  }
  let after = await memory(child);
  for (let i = 0; i < 50 && after.connections < 100; i++) {
    await sleep(20);
    after = await memory(child);
  }
  expect(after.connections).toBe(100);
  // 100 × 64 KiB is 6.4 MiB; 100 × 16 MiB would be 1.6 GiB.
  expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * MIB);
  expect(after.errors).toEqual([]);
  // The same peers sending a few bytes each hold only what they sent (doubling as it comes).
  for (const s of sockets) s.write(Buffer.alloc(1000));
  await sleep(100);
  const partial = await memory(child);
  expect(partial.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * MIB);
});

it('honest large frames arrive intact, whatever the write boundaries', async () => {
  const path = sock('mem-honest');
  const child = await startServer(path);
  const s = await rawConnect(path);
  for (const size of [16 * MIB, 3 * MIB + 7, 64 * 1024 + 1, 65_535, 1]) {
    const body = randomBytes(size);
    const got = nextMessage<{ message: { length: number; sha256: string } }>(child, (m) => m?.message);
    const frame = Buffer.concat([header(size), body]);
    // Odd-sized writes with pauses: the server sees the body in many reads of different sizes.
    for (let at = 0, step = 1; at < frame.length; step = (step * 7 + 13) % (900 * 1024)) {
      const end = Math.min(frame.length, at + step + 1);
      if (!s.write(frame.subarray(at, end))) await new Promise((r) => s.once('drain', r));
      at = end;
    }
    const { message } = await got;
    expect(message).toEqual({ length: size, sha256: createHash('sha256').update(body).digest('hex') });
  }
});
