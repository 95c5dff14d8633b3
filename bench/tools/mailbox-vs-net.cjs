// An independent check of the suite's mailbox-against-net round trip, written as a user would write
// the two programs and sharing no code with bench/ or lib/cli: a plain Node `net` echo over a Unix
// socket (length-prefixed frames, one write() per frame) and a Mailbox with `await send()` /
// `await receive()`, 64 B, every echo checked. The two run in turn, five times (A B B A A ...), each
// pair pinned with taskset (pinger on CPU 0, echoer on CPU 1), and the ratio is taken per round.
// With --suite, each round also runs the suite's own two sides (bench/lib/mailbox-peer.cjs, as
// bench/scenarios/mailbox.cjs runs them, placed the same way), so that the two harnesses meet the
// same moments of a shared machine.
//   node bench/tools/mailbox-vs-net.cjs [--rounds=5] [--n=5000] [--size=64] [--unpinned] [--suite]
// Prints one line per measurement and a summary: mailbox / net of the mean round trip and of the p50,
// median [min–max] over the rounds. Needs dist/ (npm run build).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const opt = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const ROUNDS = opt('rounds', 5);
const N = opt('n', 5000);
const SIZE = opt('size', 64);
const PINNED = !process.argv.includes('--unpinned');
const SUITE = process.argv.includes('--suite');
const WARMUP_MS = opt('warmup-ms', 500);

// ---- the two sides (run as child processes of this script) ----

function stamp(buf, i) {
  buf.writeUInt32LE(i >>> 0, 0);
  buf.writeUInt32LE(i >>> 0, buf.length - 4);
  return buf;
}
function checkEcho(buf, i) {
  if (buf.length !== SIZE || buf.readUInt32LE(0) !== i >>> 0 || buf.readUInt32LE(SIZE - 4) !== i >>> 0)
    throw new Error(`round trip ${i}: wrong echo`);
}

// A warm-up of at least N round trips and WARMUP_MS (thrown away: on a VM the first thousands are
// slower), then N timed ones: { meanUs, p50Us }.
async function timeRounds(once) {
  let i = 0;
  for (const end = performance.now() + WARMUP_MS; i < N || performance.now() < end; ) await once(i++);
  const t = new Float64Array(N);
  const t0 = performance.now();
  let prev = t0;
  for (let k = 0; k < N; k++) {
    await once(i++);
    const now = performance.now();
    t[k] = now - prev;
    prev = now;
  }
  t.sort();
  return { meanUs: ((prev - t0) * 1000) / N, p50Us: t[N >> 1] * 1000 };
}

// A length-prefixed frame parser: calls onFrame(payload) for every whole frame of the stream.
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

function netEcho(sockPath) {
  const server = net.createServer((sock) => {
    sock.on(
      'data',
      frames((payload, frame) => (payload.length === 0 ? sock.end() : sock.write(frame))),
    );
    sock.on('close', () => server.close());
  });
  server.listen(sockPath, () => process.stdout.write('ready\n'));
}

async function netPing(sockPath) {
  const sock = net.connect(sockPath);
  await new Promise((r) => sock.once('connect', r));
  let wake;
  sock.on(
    'data',
    frames((payload) => wake(payload)),
  );
  const msg = Buffer.alloc(SIZE, 0x5a);
  const once = async (i) => {
    const reply = new Promise((r) => (wake = r));
    const frame = Buffer.allocUnsafe(4 + SIZE);
    frame.writeUInt32LE(SIZE, 0);
    stamp(msg, i).copy(frame, 4);
    sock.write(frame);
    checkEcho(await reply, i);
  };
  const r = await timeRounds(once);
  const end = Buffer.alloc(4);
  sock.end(end); // an empty frame: the echo closes
  return r;
}

async function mailboxPing(name) {
  const { Mailbox } = require('../../dist');
  const mb = Mailbox.create(name);
  while (mb.peer.state !== 'alive') await new Promise((r) => setTimeout(r, 2));
  const msg = Buffer.alloc(SIZE, 0x5a);
  const r = await timeRounds(async (i) => {
    await mb.send(stamp(msg, i));
    checkEcho(await mb.receive(), i);
  });
  await mb.send(Buffer.alloc(0));
  await mb.receive(); // the echoer's goodbye: it has seen the end
  mb.close();
  Mailbox.unlink(name);
  return r;
}

async function mailboxEcho(name) {
  const { Mailbox } = require('../../dist');
  let mb;
  for (let k = 0; ; k++) {
    try {
      mb = Mailbox.open(name);
      break;
    } catch (err) {
      if (k > 2000 || (err.code !== 'ENOENT' && err.code !== 'ERR_MAILBOX_INCOMPATIBLE')) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  for (;;) {
    const m = await mb.receive();
    await mb.send(m);
    if (m.length === 0) break;
  }
  mb.close();
}

// ---- the orchestrator ----

function side(cpu, role, arg) {
  const cmd = [
    process.execPath,
    __filename,
    `--role=${role}`,
    `--arg=${arg}`,
    `--n=${N}`,
    `--size=${SIZE}`,
    `--warmup-ms=${WARMUP_MS}`,
  ];
  const full = PINNED ? ['taskset', '-c', String(cpu), ...cmd] : cmd;
  const child = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const lines = () => out.trim().split('\n').filter(Boolean);
  const exited = new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(lines()) : reject(new Error(`${role} exited ${code}`)))),
  );
  const ready = async () => {
    while (!lines().includes('ready')) {
      if (child.exitCode !== null) throw new Error(`${role} exited before it was ready`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { exited, ready };
}

let seq = 0;
async function measureNet() {
  const sockPath = path.join(os.tmpdir(), `interproc-mvn-${process.pid}-${seq++}.sock`);
  try {
    const echo = side(1, 'net-echo', sockPath);
    await echo.ready();
    const ping = side(0, 'net-ping', sockPath);
    const [lines] = await Promise.all([ping.exited, echo.exited]);
    return JSON.parse(lines.pop());
  } finally {
    fs.rmSync(sockPath, { force: true });
  }
}

async function measureMailbox() {
  const name = `/interproc-mvn-${process.pid}-${seq++}`;
  try {
    const ping = side(0, 'mb-ping', name);
    const echo = side(1, 'mb-echo', name);
    const [lines] = await Promise.all([ping.exited, echo.exited]);
    return JSON.parse(lines.pop());
  } finally {
    fs.rmSync(`/dev/shm${name}`, { force: true });
  }
}

// The suite's sides, as bench/scenarios/mailbox.cjs starts them (its mailboxPair and netPair).
const SUITE_PEER = path.join(__dirname, '..', 'lib', 'mailbox-peer.cjs');
function suiteSide(cpu, role, args, ipc) {
  const cmd = [process.execPath, SUITE_PEER, role, JSON.stringify(args)];
  const full = PINNED ? ['taskset', '-c', String(cpu), ...cmd] : cmd;
  const child = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? ['ipc'] : [])] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const done = new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve(out.trim() ? JSON.parse(out.trim().split('\n').pop()) : null)
        : reject(new Error(`suite ${role} exited ${code}`)),
    ),
  );
  return { child, done };
}
const { Histogram } = require('../lib/rtt.cjs');
const suiteResult = (r) => ({ meanUs: r.runs[0], p50Us: Histogram.fromJSON(r.histogram).percentile(50) / 1000 });

async function measureSuiteMailbox() {
  const name = `/interproc-mvn-${process.pid}-${seq++}`;
  try {
    const args = { name, mode: 'async', size: SIZE, iterations: N, reps: 1, spin: 50 };
    const ping = suiteSide(0, 'mb-ping', args);
    const pong = suiteSide(1, 'mb-pong', args);
    const [r] = await Promise.all([ping.done, pong.done]);
    return suiteResult(r);
  } finally {
    fs.rmSync(`/dev/shm${name}`, { force: true });
  }
}

async function measureSuiteNet() {
  const sockPath = path.join(os.tmpdir(), `interproc-mvn-${process.pid}-${seq++}.sock`);
  try {
    const args = { kind: 'rtt', size: SIZE, iterations: N, reps: 1, path: sockPath };
    const server = suiteSide(1, 'net-server', args, true);
    await new Promise((r) => server.child.once('message', r));
    const client = suiteSide(0, 'net-client', { ...args, peerPid: server.child.pid });
    const r = await client.done;
    await server.done;
    return suiteResult(r);
  } finally {
    fs.rmSync(sockPath, { force: true });
  }
}

function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return `${median.toFixed(3)} [${s[0].toFixed(3)}–${s[s.length - 1].toFixed(3)}]`;
}

async function orchestrate() {
  const place = PINNED ? 'pinned: pinger on CPU 0, echoer on CPU 1' : 'unpinned';
  process.stdout.write(`${SIZE} B round trips, ${N} per measurement after a warm-up of ${N} and ${WARMUP_MS} ms, ${place}\n`);
  const kinds = {
    net: measureNet,
    mailbox: measureMailbox,
    ...(SUITE ? { 'suite mailbox': measureSuiteMailbox, 'suite net': measureSuiteNet } : {}),
  };
  const fig = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  const ratios = { mean: [], p50: [], 'suite mean': [], 'suite p50': [] };
  for (let r = 0; r < ROUNDS; r++) {
    // A B (C D), then (D C) B A: no case always runs first after a change of host state
    const order = Object.keys(kinds);
    if (r % 2 === 1) order.reverse();
    const got = {};
    for (const which of order) {
      got[which] = await kinds[which]();
      fig[which].push(got[which]);
      process.stdout.write(
        `round ${r + 1} ${which.padEnd(13)} mean ${got[which].meanUs.toFixed(1)} µs, p50 ${got[which].p50Us.toFixed(1)} µs\n`,
      );
    }
    ratios.mean.push(got.mailbox.meanUs / got.net.meanUs);
    ratios.p50.push(got.mailbox.p50Us / got.net.p50Us);
    if (SUITE) {
      ratios['suite mean'].push(got['suite mailbox'].meanUs / got['suite net'].meanUs);
      ratios['suite p50'].push(got['suite mailbox'].p50Us / got['suite net'].p50Us);
    }
  }
  for (const which of Object.keys(kinds))
    process.stdout.write(
      `${which}: mean ${summary(fig[which].map((x) => x.meanUs))} µs, p50 ${summary(fig[which].map((x) => x.p50Us))} µs\n`,
    );
  process.stdout.write(`mailbox / net, mean round trip: ${summary(ratios.mean)}\n`);
  process.stdout.write(`mailbox / net, p50 round trip:  ${summary(ratios.p50)}\n`);
  if (SUITE) {
    process.stdout.write(`suite's sides, mailbox / net, mean round trip: ${summary(ratios['suite mean'])}\n`);
    process.stdout.write(`suite's sides, mailbox / net, p50 round trip:  ${summary(ratios['suite p50'])}\n`);
  }
}

const role = (process.argv.find((a) => a.startsWith('--role=')) ?? '').slice(7);
const arg = (process.argv.find((a) => a.startsWith('--arg=')) ?? '').slice(6);
const roles = {
  'net-echo': () => netEcho(arg),
  'net-ping': async () => process.stdout.write(`${JSON.stringify(await netPing(arg))}\n`),
  'mb-ping': async () => process.stdout.write(`${JSON.stringify(await mailboxPing(arg))}\n`),
  'mb-echo': () => mailboxEcho(arg),
};
Promise.resolve(role ? roles[role]() : orchestrate()).catch((err) => {
  console.error(err);
  process.exit(1);
});
