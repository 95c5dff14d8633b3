// Fault rounds of the channels (issue 16 items 7, 9 and 10): close() with a receive pending on a
// channel whose peer (another process) is silent; listen() + close() cycles, then garbage
// collection; stream peers that announce 16 MiB frames and send no body, with the server unlimited
// and then under an address-space limit. See bench/faults/round.cjs for the protocol.
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { main, report, dist, fixture, now, sleep, codeOf } = require('./round.cjs');

const { listen, connect } = dist();
const MIB = 1024 * 1024;
const WAIT_MS = 10_000;

/** The round's folder for sockets (the runner's, or a fresh one when a driver runs alone). */
function folder(round) {
  if (round.dir) return round.dir;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-faults-'));
  round.onEnd(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** VmSize and VmRSS of a process, in bytes. */
function vm(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? Number.NaN) * 1024;
  return { size: kb('VmSize'), rss: kb('VmRSS') };
}

// --- children ----------------------------------------------------------------------------------

const roles = {
  // A stream server that accepts and never sends.
  async silentServer({ address }) {
    const s = await listen({ path: address });
    s.on('connection', () => {});
    s.on('clientError', () => {});
    await report({ ready: true });
    setInterval(() => {}, 1000);
  },
};

// --- drivers -----------------------------------------------------------------------------------

/** Item 7 (channel): close() with a receive() and a for-await pending on a channel whose peer is silent. */
async function closePending(round) {
  const address = path.join(folder(round), 'silent.sock');
  const peer = round.role(__filename, 'silentServer', { address });
  await round.message(peer, (m) => m?.ready, 20_000, 'server ready');
  const ch = await connect({ path: address });
  const receiving = ch.receive().then(
    () => ({ code: 'resolved', at: now() }),
    (err) => ({ code: codeOf(err), at: now() }),
  );
  const loop = (async () => {
    for await (const _ of ch);
    return { code: 'ended', at: now() };
  })().catch((err) => ({ code: codeOf(err), at: now() }));
  await sleep(50);
  const t0 = now();
  const closing = ch.close();
  const timeout = sleep(WAIT_MS).then(() => ({ code: 'still pending', at: now() }));
  const [r, l] = await Promise.all([Promise.race([receiving, timeout]), Promise.race([loop, timeout])]);
  await Promise.race([closing, timeout]);
  return {
    outcome: `receive() ${r.code}, for-await ${l.code}`,
    times: { 'close() → receive() rejection': r.at - t0, 'close() → for-await end': l.at - t0 },
  };
}

const registries = [];

/** Item 9: listen() + close() cycles of every kind of server, then gc: the Servers are collected. */
async function serverGc(round) {
  const CYCLES = 250; // of each of the four kinds
  const dir = folder(round);
  let alive = 0;
  // Kept at module level: a registry that is itself collected runs no callbacks.
  const registry = (registries[0] = new FinalizationRegistry(() => alive--));
  const collect = async () => {
    for (let i = 0; i < 10; i++) {
      await sleep(10);
      global.gc();
    }
  };
  await collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = now();
  for (let i = 0; i < CYCLES; i++) {
    for (const kind of ['stream', 'seqpacket', 'datagram']) {
      const s = await listen({ path: path.join(dir, `gc-${kind}-${i % 8}.sock`) }, { kind });
      alive++;
      registry.register(s, kind);
      await s.close();
    }
    const tcp = await listen({ host: '127.0.0.1', port: 0 });
    alive++;
    registry.register(tcp, 'tcp');
    await tcp.close();
  }
  const cycleMs = (now() - t0) / (4 * CYCLES);
  await collect();
  const heapGrowth = (process.memoryUsage().heapUsed - heapBefore) / 1024;
  // A few may survive a collection (the last ones are still referenced by the loop's frames).
  return {
    outcome: alive <= 5 ? 'Servers collected after close()' : `${alive} Servers alive after gc`,
    figures: {
      'listen()+close() cycles': 4 * CYCLES,
      'Servers alive after gc': alive,
      'heap growth KiB': heapGrowth,
      'ms per cycle': cycleMs,
    },
  };
}

/** A raw stream socket of this process: connected. */
function rawConnect(address, sockets) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path: address }, () => resolve(s));
    s.on('error', (err) => {
      s.failed = err.code;
      reject(err);
    });
    sockets.push(s);
  });
}

function header(length) {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(length, 0);
  return h;
}

/** The error for a server process that is gone: how it ended, and the end of what it printed. */
function serverEnded(server) {
  const tail = server.stderrText.trim().split('\n').slice(-6).join(' | ');
  return Object.assign(new Error(`the server ended (${server.signalCode ?? `exit ${server.exitCode}`})`), {
    detail: tail,
    crashed: true,
  });
}

/** Starts test/channel/fixtures/memory-server.cjs; returns it and a function that asks what it holds. */
async function memoryServer(round, address, maxMessageSize) {
  const args = maxMessageSize ? [address, String(maxMessageSize)] : [address];
  const server = round.fork(fixture('channel', 'memory-server.cjs'), args, { execArgv: ['--expose-gc'] });
  await round.message(server, (m) => m?.ready, 20_000, 'server ready');
  const errors = [];
  const memory = async () => {
    let m;
    try {
      if (!server.connected) throw new Error('disconnected');
      const answer = round.message(server, (x) => x?.memory, 20_000, 'memory');
      server.send('memory', () => {}); // a send error is the exit that rejects `answer`
      ({ memory: m } = await answer);
    } catch (err) {
      if (server.connected && err.ended === undefined) throw err;
      await server.gone;
      throw serverEnded(server);
    }
    errors.push(...m.errors);
    return { ...m, ...vm(server.pid) };
  };
  return { server, memory, errors };
}

/** 200 stream peers (raw sockets of this process) each announce a 16 MiB frame and send nothing more. */
async function announce(address, memory, sockets, count = 200) {
  for (let i = 0; i < count; i++) (await rawConnect(address, sockets)).write(header(16 * MIB));
  let m = await memory();
  for (let i = 0; i < 100 && m.connections < count; i++) {
    await sleep(20);
    m = await memory();
  }
  return m;
}

/**
 * Item 10: what 200 peers that announce 16 MiB frames make the server (another process) reserve.
 * Before the fix each header reserved its 16 MiB at once: 3.2 GB of address space for 200. Bounded:
 * the growth stays under 200 × 2 × 64 KiB (the body buffer a header reserves, doubled) + 64 MiB.
 */
async function frameMemory(round) {
  const address = path.join(folder(round), 'mem.sock');
  const { memory, errors } = await memoryServer(round, address);
  const sockets = [];
  round.onEnd(() => {
    for (const s of sockets) s.destroy();
  });
  const before = await memory();
  const after = await announce(address, memory, sockets);
  const grew = {
    size: (after.size - before.size) / MIB,
    rss: (after.rss - before.rss) / MIB,
    ab: (after.arrayBuffers - before.arrayBuffers) / MIB,
  };
  const bound = (200 * 2 * 64 * 1024) / MIB + 64;
  const wrong = [];
  if (after.connections !== 200) wrong.push(`${after.connections} of 200 connections open`);
  if (grew.size > bound) wrong.push(`address space grew ${grew.size.toFixed(0)} MiB`);
  if (errors.length) wrong.push(`errors: ${[...new Set(errors)].join(', ')}`);
  return {
    outcome: wrong.length ? wrong.join(', ') : 'bounded, every connection open, no error',
    figures: { 'address space growth MiB': grew.size, 'RSS growth MiB': grew.rss, 'ArrayBuffers growth MiB': grew.ab },
  };
}

/** Resolves when the server has closed the socket (or after `ms`): 'closed' or 'open'. */
function closedBy(s, ms) {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve('closed');
    const timer = setTimeout(() => resolve('open'), ms);
    s.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

/**
 * Item 10 under a memory limit: the server's address space is capped (prlimit) at what it maps now +
 * 160 MiB, and its maxMessageSize is 512 MiB. The 200 announcing peers fit in it. Then one peer
 * announces a 256 MiB frame and sends 64 MiB + 1 byte of it: the body buffer must grow from 64 to
 * 128 MiB, which the limit refuses. That connection must end with ERR_MEMORY_ALLOCATION_FAILED (not
 * an error without a code), the server live, and the next peer's 1 MiB frame arrive. The failing
 * allocation is large, so what is left (about 70 MiB) lets V8 itself go on: a limit that leaves V8 no
 * room kills any Node process in V8 ("Committing semi space failed"), whatever the library does.
 */
async function frameMemoryLimit(round) {
  const address = path.join(folder(round), 'memlimit.sock');
  const { server, memory, errors } = await memoryServer(round, address, 512 * MIB);
  const sockets = [];
  round.onEnd(() => {
    for (const s of sockets) s.destroy();
  });
  const before = await memory();
  try {
    execFileSync('prlimit', [`--pid=${server.pid}`, `--as=${before.size + 160 * MIB}`], { stdio: 'ignore' });
  } catch (err) {
    if (err.code === 'ENOENT') return { outcome: 'skipped: no prlimit command (util-linux)', skipped: true };
    throw err;
  }
  const announced = await announce(address, memory, sockets);
  const announcedErrors = errors.length;
  const heavy = await rawConnect(address, sockets);
  heavy.on('error', () => {}); // the server ends it: EPIPE or ECONNRESET here
  heavy.write(header(256 * MIB));
  heavy.write(Buffer.alloc(64 * MIB + 1, 1));
  const heavyEnd = await closedBy(heavy, WAIT_MS);
  await memory();
  const honest = await rawConnect(address, sockets);
  const got = round
    .message(server, (m) => m?.message, WAIT_MS, 'the 1 MiB frame')
    .then(
      (m) => (m.message.length === MIB ? 'arrived' : `arrived with ${m.message.length} bytes`),
      (e) => (e.ended ? 'server gone' : 'did not arrive'),
    );
  honest.write(Buffer.concat([header(MIB), Buffer.alloc(MIB, 2)]));
  const next = await got;
  const after = await memory();
  const wrong = [];
  if (announced.connections !== 200 || announcedErrors) wrong.push('the 200 announcements did not fit');
  if (heavyEnd !== 'closed') wrong.push('the growing frame was not refused');
  if (errors.length === 0) wrong.push('no allocation failed');
  else if (errors.some((c) => c !== 'ERR_MEMORY_ALLOCATION_FAILED')) wrong.push(`errors: ${[...new Set(errors)].join(', ')}`);
  if (next !== 'arrived') wrong.push(`the next 1 MiB frame ${next}`);
  return {
    outcome: wrong.length
      ? wrong.join(', ')
      : 'ERR_MEMORY_ALLOCATION_FAILED for the frame that could not grow, the server lived, the next frame arrived',
    figures: {
      'connections ended ERR_MEMORY_ALLOCATION_FAILED': errors.filter((c) => c === 'ERR_MEMORY_ALLOCATION_FAILED').length,
      'connections open after': after.connections,
    },
  };
}

const drivers = {
  'close-channel': closePending,
  'server-gc': serverGc,
  'frame-memory': frameMemory,
  'frame-memory-limit': frameMemoryLimit,
};

if (require.main === module) main(drivers, roles);
