// A/B of the mailbox eventfd doorbell against Node net, all in one run: 64 B async round trips of
// bench/lib/mailbox-peer.cjs (mb-ping / mb-pong, mode 'async') with the doorbell edge-triggered
// (default) and level-triggered (INTERPROC_EDGE_DOORBELL=0: reset natively on each wake-up), an
// optional earlier build (--before=<dir>: a copy holding dist/, build/Release/, node_modules and
// bench/lib/mailbox-peer.cjs), and Node net over a Unix socket (net-server / net-client).
// Rounds alternate the variants (A B C A B C ...); each pair is pinned to CPUs 0/1 and warmed up
// for one discarded repetition (>= 0.5 s) before the measured ones. With --perf it also counts the
// receiving (echoing) process's read / write / epoll_pwait system calls per round trip (perf stat).
//   node scripts/bench-doorbell.cjs [--rounds=5] [--iterations=20000] [--before=<dir>] [--perf]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { row, progress, stats } = require('../bench/lib/report.cjs');

const opt = (k, d) => (process.argv.find((a) => a.startsWith(`--${k}=`)) ?? `=${d}`).split('=')[1];
const ROUNDS = Number(opt('rounds', 5));
const ITER = Number(opt('iterations', 20000));
const REPS = 3; // the first is warm-up (discarded): ITER round trips take >= 0.5 s here
const before = opt('before', '');
const perf = process.argv.includes('--perf');
const PEER = path.join(__dirname, '..', 'bench', 'lib', 'mailbox-peer.cjs');
const PLACEMENT = 'pinned CPUs 0/1';
let seq = 0;

function run(cpu, peer, role, args, env = {}, perfOut) {
  const cmd = [process.execPath, peer, role, JSON.stringify(args)];
  if (perfOut) cmd.unshift('perf', 'stat', '-x,', '-o', perfOut, '-e',
    'syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_epoll_pwait');
  const child = spawn('taskset', ['-c', String(cpu), ...cmd],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'].slice(0, role === 'net-server' ? 4 : 3), env: { ...process.env, ...env } });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(stdout.trim() ? JSON.parse(stdout.trim().split('\n').pop()) : null)
      : reject(new Error(`${role} exited with ${code}`))));
  });
  return { child, done };
}

function perfCounts(file) {
  const counts = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(',');
    if (f.length > 2 && f[2].startsWith('syscalls:sys_enter_')) counts[f[2].slice(19)] = Number(f[0]);
  }
  fs.rmSync(file, { force: true });
  return counts;
}

async function mailbox(peer, env, perfOut) {
  const name = `/interproc-bench-bell-${process.pid}-${seq++}`;
  const args = { name, mode: 'async', size: 64, iterations: ITER, reps: REPS };
  try {
    const ping = run(0, peer, 'mb-ping', args, env);
    const pong = run(1, peer, 'mb-pong', args, env, perfOut);
    try {
      const [res] = await Promise.all([ping.done, pong.done]);
      return res.runs.slice(1);
    } catch (err) {
      for (const side of [ping, pong]) if (side.child.exitCode === null) side.child.kill('SIGKILL');
      throw err;
    }
  } finally {
    fs.rmSync(`/dev/shm${name}`, { force: true });
  }
}

async function net(perfOut) {
  const sockPath = path.join(os.tmpdir(), `interproc-bench-bell-${process.pid}-${seq++}.sock`);
  const args = { kind: 'rtt', size: 64, iterations: ITER, reps: REPS, path: sockPath };
  const server = run(1, PEER, 'net-server', args, {}, perfOut);
  try {
    await new Promise((r) => server.child.once('message', r));
    const client = run(0, PEER, 'net-client', { ...args, peerPid: server.child.pid });
    const res = await client.done;
    await server.done;
    return res.runs.slice(1);
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    fs.rmSync(sockPath, { force: true });
  }
}

const variants = [
  ['edge', 'interproc Mailbox, edge-triggered eventfd doorbell', (p) => mailbox(PEER, { INTERPROC_EDGE_DOORBELL: '1' }, p)],
  ['level', 'interproc Mailbox, level-triggered doorbell (native reset)', (p) => mailbox(PEER, { INTERPROC_EDGE_DOORBELL: '0' }, p)],
  ...(before ? [['before', `interproc Mailbox, build in ${before}`, (p) => mailbox(path.join(before, 'bench', 'lib', 'mailbox-peer.cjs'), {}, p)]] : []),
  ['net', 'Node net over Unix socket', (p) => net(p)],
];

async function main() {
  const per = Object.fromEntries(variants.map(([k]) => [k, []])); // one median per round
  for (let r = 0; r < ROUNDS; r++) {
    for (const [key, , fn] of variants) {
      const runs = await fn();
      per[key].push(stats(runs).median);
      progress(`round ${r + 1}/${ROUNDS} ${key}: ${runs.map((v) => v.toFixed(2)).join(' / ')} µs`);
    }
  }
  for (const [key, mechanism] of variants) {
    row({ area: 'mailbox', mechanism, mode: 'async', payload: 64, metric: 'rtt_us', runs: per[key], placement: PLACEMENT,
      baseline: key === 'net', note: `A/B rounds alternating ${variants.map(([k]) => k).join('/')}; per round: median of ${REPS - 1} reps of ${ITER} after a discarded one` });
  }
  const summary = [];
  for (const [key] of variants) {
    const s = stats(per[key]);
    const ratio = stats(per[key].map((v, i) => v / per.net[i]));
    summary.push(`${key.padEnd(6)} ${s.median.toFixed(2)} µs [${s.min.toFixed(2)}–${s.max.toFixed(2)}]` +
      (key === 'net' ? '' : `  ratio to net (same round) ${ratio.median.toFixed(3)} [${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)}]`));
  }
  if (perf) {
    const total = 1000 + ITER * REPS; // mb-ping's own warm-up + the repetitions (net-client: 500)
    for (const [key, , fn] of variants) {
      const file = path.join(os.tmpdir(), `interproc-bench-bell-perf-${process.pid}-${key}.txt`);
      await fn(file);
      const c = perfCounts(file);
      const n = key === 'net' ? 500 + ITER * REPS : total;
      const perHop = (v) => ((v ?? 0) / n).toFixed(3);
      summary.push(`perf ${key.padEnd(6)} receiving side per round trip: read ${perHop(c.read)}, write ${perHop(c.write)}, epoll_pwait ${perHop(c.epoll_pwait)}`);
    }
  }
  process.stderr.write(summary.join('\n') + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
