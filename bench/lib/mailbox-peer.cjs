// The two sides of the mailbox benchmarks and of their baselines (Node net over a Unix socket,
// child_process IPC). Spawned pinned by bench/scenarios/mailbox.cjs:
//   node mailbox-peer.cjs <role> <json args>
// The measuring side ("ping" / "send") prints one JSON line with its results on stdout.
'use strict';
const net = require('node:net');
const fs = require('node:fs');
const { Mailbox } = require('../../dist');
const { Histogram } = require('./rtt.cjs');

const [role, argJson] = process.argv.slice(2);
const args = JSON.parse(argJson || '{}');
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK_US = 1e6 / 100; // USER_HZ
// Every measuring side first runs the same exchange for this long and throws it away: on this VM the
// first few thousand round trips (JIT, the host's halt polling adapting to the wake-up rate) are up
// to 2x slower, and a count-based warm-up short enough for the slow modes is too short for the fast.
const WARMUP_MS = 500;
// The loop condition of a measured repetition: n round trips, and in the warm-up (r < 0) at least
// WARMUP_MS of them too.
function roundsFor(n, r) {
  const warmEnd = r < 0 ? now() + WARMUP_MS : 0;
  return (i) => i < n || now() < warmEnd;
}

// CPU time of another process (µs, 10 ms resolution) from /proc/<pid>/stat fields 14 + 15.
function cpuOf(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}
function cpuSelf() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

// The repetitions of a measuring side: r from `from` (-1: a warm-up repetition, not kept) to
// reps - 1. body(r) does one repetition and resolves with how many operations it did. Gives, per
// repetition, the mean round trip in µs ('rtt') or operations per second, and the CPU time of both
// processes per operation (µs).
async function measure({ from, reps, peerPid, kind, hist }, body) {
  const runs = [];
  const cpu = [];
  const kept = new Histogram(); // the round trips of the kept repetitions (hist: filled by body)
  for (let r = from; r < reps; r++) {
    const c0 = cpuSelf() + cpuOf(peerPid);
    const t0 = now();
    const n = await body(r);
    const t1 = now();
    const c1 = cpuSelf() + cpuOf(peerPid);
    if (hist) {
      if (r >= 0) kept.add(hist);
      hist.reset();
    }
    if (r < 0) continue;
    runs.push(kind === 'rtt' ? ((t1 - t0) * 1000) / n : n / ((t1 - t0) / 1000));
    cpu.push((c1 - c0) / n);
  }
  return hist ? { runs, cpu, histogram: kept.toJSON() } : { runs, cpu };
}

// Repetition r of an rtt exchange: send(), then wait for the echo (next() is called first, so an
// echo that comes at once is not missed), roundsFor(n, r) times.
// With `hist`, every round trip's time goes into it; with `check(reply, i)`, every reply is checked.
async function echoRounds(n, r, next, send, hist, check) {
  const more = roundsFor(n, r);
  let prev = now();
  for (let i = 0; more(i); i++) {
    const p = next();
    send(i);
    const reply = await p;
    if (check) check(reply, i);
    if (hist) {
      const t = now();
      hist.record((t - prev) * 1e6);
      prev = t;
    }
  }
  return n;
}

// The payload of round trip i carries i at both ends; the echo must bring back exactly that.
function stamp(msg, i) {
  msg.writeUInt32LE(i >>> 0, 0);
  msg.writeUInt32LE(i >>> 0, msg.length - 4);
  return msg;
}
function checkEcho(reply, i) {
  const n = reply.length;
  if (n < 8 || reply.readUInt32LE(0) !== i >>> 0 || reply.readUInt32LE(n - 4) !== i >>> 0)
    throw new Error(`round trip ${i}: wrong echo`);
}

async function openMailbox(name, opts) {
  for (let i = 0; ; i++) {
    try {
      return Mailbox.open(name, opts);
    } catch (err) {
      if (err.code !== 'ENOENT' && !/not initialised/.test(err.message)) throw err;
      if (i > 2000) throw err;
      await sleep(5);
    }
  }
}

// Busy-polls tryReceive; gives up (exit 1) if the other side is gone, so a crashed partner never
// leaves a spinning process behind.
function spinReceive(mb) {
  for (let i = 1; ; i++) {
    const m = mb.tryReceive();
    if (m !== undefined) return m;
    if ((i & 0xfffff) === 0 && mb.peer.state !== 'alive') {
      console.error(`peer ${mb.peer.state}: giving up`);
      process.exit(1);
    }
  }
}

async function waitPeer(mb) {
  while (mb.peer.state !== 'alive') await sleep(5);
  return mb.peer.pid;
}

// ---- mailbox round trips: ping creates, pong echoes ----
// modes: async (await receive, eventfd doorbell), adaptive (receive with spin µs), sync (receiveSync,
// futex), spin (tryReceive busy loop)
async function mbPing() {
  const { name, mode, size, iterations, reps, spin } = args;
  const mb = Mailbox.create(name, { ringSize: 1 << 16, spin: mode === 'adaptive' ? spin : 0 });
  const peerPid = await waitPeer(mb);
  const msg = Buffer.alloc(size, 7);
  const once =
    mode === 'sync'
      ? () => {
          mb.sendSync(msg);
          mb.receiveSync();
        }
      : () => {
          mb.trySend(msg);
          spinReceive(mb);
        };
  const isAsync = mode === 'async' || mode === 'adaptive';
  const hist = isAsync ? new Histogram() : undefined;
  // Async: the user's code, `await send()` then `await receive()`, every echo checked, every round
  // trip timed into the histogram.
  const asyncRounds = async (n) => {
    let prev = now();
    for (let i = 0; i < n; i++) {
      await mb.send(stamp(msg, i));
      checkEcho(await mb.receive(), i);
      const t = now();
      hist.record((t - prev) * 1e6);
      prev = t;
    }
  };
  // The warm-up rule of the net and IPC sides (roundsFor): at least `iterations` round trips and
  // WARMUP_MS, so that no contender of an interleaved comparison is measured less warm than another.
  const warm = roundsFor(iterations, -1);
  for (let i = 0; warm(i); i += 100) {
    if (isAsync) await asyncRounds(100);
    else for (let k = 0; k < 100; k++) once();
  }
  hist?.reset(); // the warm-up's round trips
  const result = await measure({ from: 0, reps, peerPid, kind: 'rtt', hist }, async () => {
    if (isAsync) await asyncRounds(iterations);
    else for (let i = 0; i < iterations; i++) once();
    return iterations;
  });
  mb.sendSync(Buffer.alloc(0)); // stop
  await sleep(20);
  mb.close();
  out(result);
}

async function mbPong() {
  const { name, mode, spin } = args;
  const mb = await openMailbox(name, { spin: mode === 'adaptive' ? spin : 0 });
  if (mode === 'async' || mode === 'adaptive') {
    for (;;) {
      const m = await mb.receive(); // no timeout, like the net server's socket
      if (m.length === 0) break;
      await mb.send(m); // the echo is the received copy, sent back as a user would
    }
  } else if (mode === 'sync') {
    for (;;) {
      const m = mb.receiveSync();
      if (m.length === 0) break;
      mb.sendSync(m);
    }
  } else {
    for (;;) {
      const m = spinReceive(mb);
      if (m.length === 0) break;
      mb.trySend(m);
    }
  }
  mb.close();
}

// ---- mailbox throughput: send creates and streams, recv counts and acknowledges the end ----
async function mbSend() {
  const { name, size, count, reps, spin, view, cork, ringSize } = args;
  const mb = Mailbox.create(name, { ringSize, spin });
  const peerPid = await waitPeer(mb);
  const msg = Buffer.alloc(size, 7);
  const runs = [];
  const cpu = [];
  for (let r = -1; r < reps; r++) {
    const n = count; // r = -1: a whole round as warm-up
    const c0 = cpuSelf() + cpuOf(peerPid);
    const t0 = now();
    if (cork) {
      // batches of `cork` messages, one publication each (like net's cork/uncork)
      for (let i = 0; i < n; ) {
        mb.cork();
        for (const end = Math.min(n, i + cork); i < end; i++) if (!mb.trySend(msg)) await mb.send(msg);
        mb.uncork();
      }
    } else {
      for (let i = 0; i < n; i++) if (!mb.trySend(msg)) await mb.send(msg);
    }
    await mb.receive(); // the receiver's acknowledgement of the last message
    const t1 = now();
    const c1 = cpuSelf() + cpuOf(peerPid);
    if (r >= 0) {
      runs.push(n / ((t1 - t0) / 1000));
      cpu.push((c1 - c0) / n);
    }
  }
  await mb.send(Buffer.from('stop'));
  await sleep(20);
  mb.close();
  out({ runs, cpu, view });
}

async function mbRecv() {
  const { name, count, spin, view, reps, many } = args;
  const mb = await openMailbox(name, { spin });
  for (let r = -1; r < reps; r++) {
    const n = count;
    let _bytes = 0;
    if (many) {
      // the batch form: every message waiting, copied out in runs
      for (let i = 0; i < n; ) {
        let batch = mb.tryReceiveMany();
        if (batch.length === 0) batch = await mb.receiveMany();
        for (let k = 0; k < batch.length; k++) _bytes += batch[k][0];
        i += batch.length;
      }
    }
    for (let i = 0; i < n && !many; i++) {
      if (view) {
        const v = mb.tryReceiveView() ?? (await mb.receiveView());
        _bytes += v.data[0];
        v.release();
      } else {
        const m = mb.tryReceive() ?? (await mb.receive());
        _bytes += m[0];
      }
    }
    if (!mb.trySend(Buffer.from('a'))) await mb.send(Buffer.from('a'));
  }
  await mb.receive();
  mb.close();
}

// ---- the Node event-loop floor: two eventfds (fds 3: ours, 4: the peer's) rung back and forth
// through a libuv poll handle (the FdWatcher a mailbox uses), with nothing else in the hop ----
function efdPong() {
  const { native } = require('../../dist/internal/binding');
  const w = new native.FdWatcher(3, () => {
    native.doorbellDrain(3);
    native.doorbellRing(4);
  });
  w.start(1);
  process.on('SIGTERM', () => process.exit(0));
}

async function efdPing() {
  const { native } = require('../../dist/internal/binding');
  const { iterations, reps, peerPid } = args;
  let wake;
  const w = new native.FdWatcher(3, () => {
    native.doorbellDrain(3);
    wake();
  });
  w.start(1);
  // one round trip per callback chain, no promise per hop: the floor, not a user's code
  const rounds = (n) =>
    new Promise((resolve) => {
      let left = n;
      wake = () => (--left === 0 ? resolve() : native.doorbellRing(4));
      native.doorbellRing(4);
    });
  const warm = roundsFor(iterations, -1); // as every other measuring side
  for (let i = 0; warm(i); i += 1000) await rounds(1000);
  const result = await measure({ from: 0, reps, peerPid, kind: 'rtt' }, async () => {
    await rounds(iterations);
    return iterations;
  });
  w.close();
  out(result);
}

// ---- Node net over a Unix socket: length-prefixed frames ----
function frames(onFrame) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 4) {
      const len = buf.readUInt32LE(off);
      if (buf.length - off - 4 < len) break;
      onFrame(buf.subarray(off + 4, off + 4 + len), buf.subarray(off, off + 4 + len));
      off += 4 + len;
    }
    pending = buf.subarray(off);
  };
}
function frame(payload) {
  const f = Buffer.allocUnsafe(4 + payload.length);
  f.writeUInt32LE(payload.length, 0);
  payload.copy(f, 4);
  return f;
}

// net-server: echo (rtt) or count and ack (tput)
function netServer() {
  const { path, kind, count } = args;
  const server = net.createServer((sock) => {
    let seen = 0;
    sock.on(
      'data',
      frames((p, whole) => {
        if (kind === 'rtt') {
          if (p.length === 0) return sock.end();
          sock.write(whole); // the frame as it came: a plain echo makes no copy of its own
        } else if (++seen === count) {
          seen = 0;
          sock.write(frame(Buffer.from('a')));
        }
      }),
    );
    sock.on('close', () => server.close());
  });
  server.listen(path, () => process.send?.('ready'));
}

async function netClient() {
  const { path, kind, size, iterations, count, reps, batch } = args;
  const sock = net.connect(path);
  await new Promise((r) => sock.once('connect', r));
  const peerPid = args.peerPid;
  let resolveNext;
  sock.on(
    'data',
    frames((p) => resolveNext(p)),
  );
  const next = () => new Promise((r) => (resolveNext = r));
  const msg = Buffer.alloc(size, 7);
  const hist = kind === 'rtt' ? new Histogram() : undefined;
  const result = await measure({ from: -1, reps, peerPid, kind, hist }, async (r) => {
    if (kind === 'rtt') return echoRounds(iterations, r, next, (i) => sock.write(frame(stamp(msg, i))), hist, checkEcho);
    const n = count;
    const done = next();
    const f = frame(msg);
    for (let i = 0; i < n; i += batch) {
      sock.cork();
      let ok = true;
      for (let k = 0; k < batch && i + k < n; k++) ok = sock.write(f);
      sock.uncork();
      if (!ok) await new Promise((res) => sock.once('drain', res));
    }
    await done;
    return n;
  });
  if (kind === 'rtt') sock.end(frame(Buffer.alloc(0)));
  else sock.end();
  out(result);
}

// ---- child_process IPC (the measuring side is the parent; the child echoes or counts) ----
async function ipcParent() {
  const { fork } = require('node:child_process');
  const { kind, size, iterations, count, reps, serialization } = args;
  const child = fork(__filename, ['ipc-child', JSON.stringify({ kind, count })], { serialization, stdio: 'inherit' });
  const payload = serialization === 'json' ? 'x'.repeat(size) : Buffer.alloc(size, 7);
  // acknowledgements are counted, so none is lost when two arrive before the next await
  let acks = 0;
  let wake = null;
  child.on('message', () => {
    acks++;
    if (wake) wake();
  });
  const next = async () => {
    while (acks === 0) await new Promise((r) => (wake = r));
    wake = null;
    acks--;
  };
  await new Promise((r) => child.once('spawn', r));
  // fork() children inherit the parent's CPU; put the child on the other core
  if (args.childCpu !== undefined)
    require('node:child_process').execFileSync('taskset', ['-pc', String(args.childCpu), String(child.pid)]);
  const result = await measure({ from: -1, reps, peerPid: child.pid, kind }, async (r) => {
    if (kind === 'rtt') return echoRounds(iterations, r, next, () => child.send(payload));
    const n = Math.ceil(count / 256) * 256; // the child acknowledges whole blocks of 256
    // a window of 256 messages in flight, acknowledged every 256 (child acks in blocks)
    let acked = 0;
    let sent = 0;
    while (acked < n) {
      while (sent < n && sent - acked < 1024) {
        child.send(payload);
        sent++;
      }
      await next();
      acked += 256;
    }
    return n;
  });
  child.kill();
  out(result);
}

function ipcChild() {
  const { kind } = args;
  let seen = 0;
  process.on('message', (m) => {
    if (kind === 'rtt') process.send(m);
    else if (++seen % 256 === 0) process.send(1);
  });
}

const roles = {
  'efd-ping': efdPing,
  'efd-pong': efdPong,
  'mb-ping': mbPing,
  'mb-pong': mbPong,
  'mb-send': mbSend,
  'mb-recv': mbRecv,
  'net-server': netServer,
  'net-client': netClient,
  'ipc-parent': ipcParent,
  'ipc-child': ipcChild,
};
Promise.resolve(roles[role]()).catch((err) => {
  console.error(err);
  process.exit(1);
});
