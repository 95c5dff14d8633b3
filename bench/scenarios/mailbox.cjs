// Mailboxes between two separate Node processes, pinned to CPUs 0 and 1, against the baselines a
// user would otherwise pick, all in this one run: Node net over a Unix socket (length-prefixed
// frames, corked batches) and child_process IPC (json, advanced). Round trip of 64 B in each wait
// mode, throughput at 64 B and 64 KiB, and CPU time per message (both processes together).
//   node bench/scenarios/mailbox.cjs [--quick]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { row, progress, repetitions, quick } = require('../lib/report.cjs');

const PEER = path.join(__dirname, '..', 'lib', 'mailbox-peer.cjs');
const PINNED = 'pinned CPUs 0/1';
const scale = quick ? 0.3 : 1;
// --only=rtt or --only=tput runs one half (to repeat it when the machine is noisy)
const only = (process.argv.find((a) => a.startsWith('--only=')) ?? '').slice(7);
let seq = 0;

function run(cpu, role, args) {
  const child = spawn('taskset', ['-c', String(cpu), process.execPath, PEER, role, JSON.stringify(args)],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'].slice(0, role === 'net-server' ? 4 : 3) });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(stdout.trim() ? JSON.parse(stdout.trim().split('\n').pop()) : null)
      : reject(new Error(`${role} exited with ${code}`))));
  });
  return { child, done };
}

const name = () => `/interproc-bench-mbox-${process.pid}-${seq++}`;

async function mailboxPair(pingRole, pongRole, args) {
  const n = name();
  try {
    const ping = run(0, pingRole, { ...args, name: n });
    const pong = run(1, pongRole, { ...args, name: n });
    const [res] = await Promise.all([ping.done, pong.done]);
    return res;
  } finally {
    try { fs.rmSync(`/dev/shm${n}`); } catch {}
  }
}

async function netPair(args) {
  const sockPath = path.join(os.tmpdir(), `interproc-bench-${process.pid}-${seq++}.sock`);
  const server = run(1, 'net-server', { ...args, path: sockPath });
  await new Promise((r) => server.child.once('message', r));
  try {
    const client = run(0, 'net-client', { ...args, path: sockPath, peerPid: server.child.pid });
    const res = await client.done;
    await server.done;
    return res;
  } finally {
    try { fs.rmSync(sockPath); } catch {}
  }
}

async function ipc(args) {
  return run(0, 'ipc-parent', { ...args, childCpu: 1 }).done;
}

// The measured row and its CPU time per message (both processes together). A round trip is two
// messages, so its CPU row is halved and named '<mode>, ping-pong' to keep it apart from throughput.
function emit(base, res, metric) {
  row({ area: 'mailbox', placement: PINNED, ...base, metric, runs: res.runs });
  const pingPong = metric === 'rtt_us';
  row({ area: 'mailbox', placement: PINNED, ...base, mode: pingPong ? `${base.mode}, ping-pong` : base.mode,
    metric: 'cpu_us_per_msg', runs: res.cpu.map((c) => (pingPong ? c / 2 : c)),
    note: `${base.note ?? ''}${base.note ? '; ' : ''}CPU of both processes per message`.trim() });
}

async function main() {
  const reps = repetitions;
  const it = (n) => Math.max(200, Math.round(n * scale));

  // ---- round trips, 64 B ----
  const rtt = only === 'tput' ? [] : [
    ['async', 'eventfd doorbell into the event loop; no polling', 3000],
    ['adaptive', 'polls 50 µs before sleeping (spin option)', 20000],
    ['sync', 'receiveSync: futex sleep/wake, blocks the thread', 3000],
    ['spin', 'tryReceive busy loop', 100000],
  ];
  for (const [mode, note, n] of rtt) {
    progress(`mailbox round trip 64 B, ${mode}`);
    const res = await mailboxPair('mb-ping', 'mb-pong', { mode, size: 64, iterations: it(n), reps, spin: 50 });
    emit({ mechanism: 'interproc Mailbox', mode, payload: 64, note }, res, 'rtt_us');
  }
  if (only !== 'tput') await rttBaselines(reps, it);
  if (only !== 'rtt') await throughputs(reps, it);
}

async function rttBaselines(reps, it) {
  progress('Node net over Unix socket, round trip 64 B');
  emit({ mechanism: 'Node net over Unix socket', mode: 'length-prefixed frames', payload: 64, baseline: true },
    await netPair({ kind: 'rtt', size: 64, iterations: it(3000), reps }), 'rtt_us');
  for (const serialization of ['json', 'advanced']) {
    progress(`child_process IPC ${serialization}, round trip 64 B`);
    emit({ mechanism: 'Node child_process IPC', mode: serialization, payload: 64, baseline: true },
      await ipc({ kind: 'rtt', serialization, size: 64, iterations: it(2000), reps }), 'rtt_us');
  }
}

async function throughputs(reps, it) {
  for (const [size, count] of [[64, 2_000_000], [65536, 20_000]]) {
    const modes = [['async', 0, false, 0], ['async, corked 256', 0, false, 256], ['adaptive', 50, false, 0],
      ['adaptive, corked 256', 50, false, 256], ['adaptive, zero-copy view', 50, true, 0]];
    for (const [mode, spin, view, cork] of modes) {
      progress(`mailbox throughput ${size} B, ${mode}`);
      const res = await mailboxPair('mb-send', 'mb-recv', { size, count: it(count), reps, spin, view, cork });
      const base = { mechanism: 'interproc Mailbox', mode, payload: size, note: '1 MiB ring; trySend, await send only when full' };
      emit(base, res, 'msgs_per_s');
      if (size > 64) row({ area: 'mailbox', placement: PINNED, ...base, metric: 'MB_per_s', runs: res.runs.map((v) => (v * size) / 1e6) });
    }
    progress(`Node net throughput ${size} B`);
    const net = await netPair({ kind: 'tput', size, count: it(count), reps, batch: 256 });
    const nb = { mechanism: 'Node net over Unix socket', mode: 'length-prefixed frames, cork/uncork 256 per batch', payload: size, baseline: true };
    emit(nb, net, 'msgs_per_s');
    if (size > 64) row({ area: 'mailbox', placement: PINNED, ...nb, metric: 'MB_per_s', runs: net.runs.map((v) => (v * size) / 1e6) });
    for (const serialization of ['json', 'advanced']) {
      progress(`child_process IPC ${serialization} throughput ${size} B`);
      const res = await ipc({ kind: 'tput', serialization, size, count: it(size > 64 ? count / 2 : count / 4), reps });
      const ib = { mechanism: 'Node child_process IPC', mode: serialization, payload: size, baseline: true, note: 'window 1024, acks every 256' };
      emit(ib, res, 'msgs_per_s');
      if (size > 64) row({ area: 'mailbox', placement: PINNED, ...ib, metric: 'MB_per_s', runs: res.runs.map((v) => (v * size) / 1e6) });
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
