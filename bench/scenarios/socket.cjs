// Socket channels: round-trip latency and one-way throughput at 64 B, 4 KiB and 64 KiB for each
// kind (stream, seqpacket, datagram), against Node's net over a Unix socket with the same
// length-prefixed framing, and child_process IPC (json and advanced), all in one run.
// The parent is pinned to CPU 0, the peer process to CPU 1 (taskset). Run: node bench/scenarios/socket.cjs [--quick]
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { once } = require('node:events');
const { row, progress, stats, repetitions, quick } = require('../lib/report.cjs');
const { Histogram, percentilesOf } = require('../lib/rtt.cjs');
const { listen, connect } = require(path.join(__dirname, '..', '..', 'dist'));

// SOCKET_BENCH_SIZES=64,4096 and SOCKET_BENCH_ONLY=stream,net narrow a run (for investigating one row).
const SIZES = (process.env.SOCKET_BENCH_SIZES || '64,4096,65536').split(',').map(Number);
const ALL_MECHANISMS = [
  { id: 'stream', mechanism: 'interproc channel (Unix stream)', mode: 'stream', baseline: false },
  { id: 'seqpacket', mechanism: 'interproc channel (Unix seqpacket)', mode: 'seqpacket', baseline: false },
  { id: 'datagram', mechanism: 'interproc channel (Unix datagram)', mode: 'datagram', baseline: false },
  { id: 'net', mechanism: 'Node net over Unix socket', mode: 'length-prefixed frames', baseline: true },
  { id: 'ipc-json', mechanism: 'Node child_process IPC', mode: "serialization 'json'", baseline: true },
  { id: 'ipc-advanced', mechanism: 'Node child_process IPC', mode: "serialization 'advanced'", baseline: true },
];
const only = process.env.SOCKET_BENCH_ONLY ? process.env.SOCKET_BENCH_ONLY.split(',') : null;
const MECHANISMS = ALL_MECHANISMS.filter((m) => only === null || only.includes(m.id));
const TYPE = { hello: 72, echo: 69, start: 83, ack: 65, data: 68 }; // H E S A D

// ---- transports: send(bytes: Buffer) and onMessage(cb(Buffer)) on both sides ----------------

// Node net with the same framing as interproc stream channels (8-byte header, docs/protocol/channel-frames.md).
function framedNet(socket, onMessage) {
  let pending = [];
  let have = 0;
  socket.setNoDelay?.(true);
  socket.on('data', (chunk) => {
    pending.push(chunk);
    have += chunk.length;
    let buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, have);
    let at = 0;
    while (buf.length - at >= 8) {
      const len = buf.readUInt32BE(at);
      if (buf.length - at < 8 + len) break;
      onMessage(buf.subarray(at + 8, at + 8 + len));
      at += 8 + len;
    }
    buf = buf.subarray(at);
    pending = buf.length ? [buf] : [];
    have = buf.length;
  });
  let corked = false;
  return (data) => {
    const h = Buffer.allocUnsafe(8);
    h.writeUInt32BE(data.length, 0);
    h.writeUInt32BE(0, 4);
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    socket.write(h);
    socket.write(data);
  };
}

function ipcTransport(proc, json, onMessage) {
  proc.on('message', (m) => onMessage(json ? Buffer.from(m, 'latin1') : Buffer.from(m.buffer, m.byteOffset, m.byteLength)));
  return (data) => proc.send(json ? data.toString('latin1') : data);
}

// ---- the peer process (CPU 1): echoes, or streams data under a credit window -----------------

async function peer(mech, name) {
  let send;
  const handle = (m) => {
    const type = m[0];
    if (type === TYPE.echo) send(m);
    else if (type === TYPE.start) {
      const { count, window, ackEvery, size } = JSON.parse(m.subarray(1).toString());
      const data = Buffer.alloc(size, 0x61);
      data[0] = TYPE.data;
      let sent = 0;
      let acked = 0;
      const pump = () => {
        while (sent < count && sent - acked < window) {
          send(data);
          sent++;
        }
      };
      handle.ack = () => {
        acked += ackEvery;
        pump();
      };
      pump();
    } else if (type === TYPE.ack) handle.ack();
  };
  if (mech.startsWith('ipc-')) {
    send = ipcTransport(process, mech === 'ipc-json', handle);
  } else if (mech === 'net') {
    const s = net.connect({ path: `\0${name}` });
    await once(s, 'connect');
    send = framedNet(s, handle);
    s.on('close', () => process.exit(0));
  } else {
    const ch = await connect({ abstract: name }, { kind: mech });
    ch.on('message', (m) => handle(m.data));
    ch.on('close', () => process.exit(0));
    send = (d) => ch.send(d);
  }
  process.on('disconnect', () => process.exit(0));
  send(Buffer.from([TYPE.hello]));
}

// ---- the measuring side (CPU 0) --------------------------------------------------------------

async function start(mech) {
  const name = `interproc-bench-${process.pid}-${mech.id}`;
  const serialization = mech.id === 'ipc-advanced' ? 'advanced' : 'json';
  const proc = spawn('taskset', ['-c', '1', process.execPath, __filename, '--peer', mech.id, name], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization,
  });
  let onMessage = () => {};
  let send;
  let close;
  const dispatch = (m) => onMessage(m);
  if (mech.id.startsWith('ipc-')) {
    send = ipcTransport(proc, mech.id === 'ipc-json', dispatch);
    close = async () => proc.kill();
  } else if (mech.id === 'net') {
    const server = net.createServer();
    server.listen({ path: `\0${name}` });
    const [s] = await once(server, 'connection');
    send = framedNet(s, dispatch);
    close = async () => {
      s.destroy();
      server.close();
    };
  } else {
    const server = await listen({ abstract: name }, { kind: mech.id });
    const [ch] = await once(server, 'connection');
    ch.on('message', (m) => dispatch(m.data));
    send = (d) => ch.send(d);
    close = () => server.close();
  }
  await new Promise((resolve) => (onMessage = (m) => m[0] === TYPE.hello && resolve()));
  const done = once(proc, 'exit');
  return {
    send,
    close: async () => {
      await close();
      proc.kill();
      await done;
    },
    on: (cb) => (onMessage = cb),
  };
}

// Mean round trip in µs; with `hist`, every round trip's time goes into it. Each echo is checked.
function roundTrips(t, size, count, hist) {
  return new Promise((resolve, reject) => {
    let left = count;
    let seq = 0;
    const next = () => {
      const data = Buffer.alloc(size, 0x62); // a fresh buffer: send() reads it when the kernel takes it
      data[0] = TYPE.echo;
      data.writeUInt32LE(seq, 1);
      return data;
    };
    const t0 = process.hrtime.bigint();
    let prev = t0;
    t.on((m) => {
      if (m.length !== size || m.readUInt32LE(1) !== seq) return reject(new Error(`round trip ${seq}: wrong echo`));
      const now = process.hrtime.bigint();
      hist?.record(Number(now - prev));
      prev = now;
      seq++;
      if (--left === 0) resolve(Number(now - t0) / 1e3 / count);
      else t.send(next());
    });
    t.send(next());
  });
}

function throughput(t, size, count) {
  const window = size >= 65536 ? 16 : 256;
  const ackEvery = window / 4;
  const ack = Buffer.from([TYPE.ack]);
  return new Promise((resolve, reject) => {
    let got = 0;
    let t0 = 0n;
    t.on((m) => {
      if (m.length !== size || m[0] !== TYPE.data) return reject(new Error(`stream message ${got}: wrong data`));
      if (got === 0) t0 = process.hrtime.bigint();
      got++;
      if (got % ackEvery === 0) t.send(ack);
      if (got === count) resolve((count - 1) / (Number(process.hrtime.bigint() - t0) / 1e9));
    });
    t.send(Buffer.concat([Buffer.from([TYPE.start]), Buffer.from(JSON.stringify({ count, window, ackEvery, size }))]));
  });
}

// Measurement counts sized from a calibration run, so each measurement takes about `seconds`
// whatever the mechanism (child_process IPC json at 64 KiB is ~100x slower than the rest).
function countFor(rate, seconds, min, max, multiple = 1) {
  return Math.max(min, Math.min(max, Math.round((rate * seconds) / multiple) * multiple));
}

async function main() {
  try {
    execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    progress('taskset failed: running unpinned');
  }
  const seconds = quick ? 0.15 : 0.3;
  // Every peer runs for the whole scenario and the mechanisms take turns inside each repetition, so
  // load from other processes on this shared machine falls on all of them alike.
  const transports = [];
  for (const mech of MECHANISMS) transports.push(await start(mech));
  progress(`${MECHANISMS.length} peers started (parent CPU 0, peers CPU 1)`);
  for (const size of SIZES) {
    const plan = [];
    for (const t of transports) {
      await roundTrips(t, size, 50); // warm-up and calibration
      const rttEstimate = await roundTrips(t, size, 100);
      const rateEstimate = await throughput(t, size, 512);
      const ackEvery = (size >= 65536 ? 16 : 256) / 4;
      plan.push({
        rttCount: countFor(1e6 / rttEstimate, seconds, 50, 5000),
        tputCount: countFor(rateEstimate, seconds, 4 * ackEvery, 400_000, ackEvery),
        rtt: [],
        rate: [],
        hist: new Histogram(),
      });
    }
    for (let r = 0; r < repetitions; r++) {
      for (let k = 0; k < transports.length; k++) {
        plan[k].rtt.push(await roundTrips(transports[k], size, plan[k].rttCount, plan[k].hist));
        plan[k].rate.push(await throughput(transports[k], size, plan[k].tputCount));
      }
      progress(`${size} B: repetition ${r + 1}/${repetitions}`);
    }
    for (let k = 0; k < transports.length; k++) {
      const mech = MECHANISMS[k];
      const { rtt, rate, rttCount, tputCount, hist } = plan[k];
      const common = {
        area: 'socket',
        mechanism: mech.mechanism,
        mode: mech.mode,
        payload: size,
        placement: 'pinned CPUs 0/1',
        baseline: mech.baseline,
      };
      row({
        ...common,
        metric: 'rtt_us',
        runs: rtt,
        percentiles: percentilesOf(hist),
        note: `${rttCount} round trips, one message in flight`,
      });
      row({
        ...common,
        metric: 'msgs_per_s',
        runs: rate,
        note: `${tputCount} msgs one way, credit window ${size >= 65536 ? 16 : 256}`,
      });
      row({ ...common, metric: 'MB_per_s', runs: rate.map((v) => (v * size) / 1e6), note: 'from msgs_per_s' });
      const s1 = stats(rtt);
      const s2 = stats(rate);
      progress(
        `  ${mech.mechanism} ${mech.mode} ${size} B: rtt ${s1.median.toFixed(1)} us [${s1.min.toFixed(1)}-${s1.max.toFixed(1)}], ` +
          `${Math.round(s2.median)} msgs/s [${Math.round(s2.min)}-${Math.round(s2.max)}]`,
      );
    }
  }
  for (const t of transports) await t.close();
}

if (process.argv[2] === '--peer') {
  peer(process.argv[3], process.argv[4]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
