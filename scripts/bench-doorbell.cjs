// A/B of the mailbox eventfd doorbell against Node net, interleaved finely in one run: 64 B async
// round trips with the doorbell edge-triggered (default) and level-triggered
// (INTERPROC_EDGE_DOORBELL=0: reset natively on each wake-up), optionally an earlier build
// (--before=<dir>: a copy holding dist/, build/Release/, node_modules and bench/lib/mailbox-peer.cjs),
// and Node net over a Unix socket. This process is the pinging side of every pair (pinned to CPU 0);
// the echoing sides are bench/lib/mailbox-peer.cjs processes (mb-pong / net-server) pinned to CPU 1.
// All pairs stay up; each is warmed up for 0.6 s, then the variants take turns in short bursts
// (A B C D, B C D A, ...), so the slow phases of this shared VM (RTTs jump 3-5x for seconds) hit
// them alike, and each cycle gives a ratio to Node net measured within the same ~0.5 s.
// With --perf it then counts, with perf stat, the read / write / epoll_pwait system calls of the
// echoing process per round trip, and its CPU time (fresh mb-ping / mb-pong and net-client /
// net-server pairs).
//   node scripts/bench-doorbell.cjs [--cycles=40] [--burst=2000] [--before=<dir>] [--perf]
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { row, progress, stats } = require('../bench/lib/report.cjs');
const { spawnJson } = require('../bench/lib/spawn-json.cjs');

const opt = (k, d) => (process.argv.find((a) => a.startsWith(`--${k}=`)) ?? `=${d}`).split('=')[1];
const CYCLES = Number(opt('cycles', 40));
const BURST = Number(opt('burst', 2000));
const WARMUP_MS = 600; // the first few thousand round trips on this VM are ~2x slower
const before = opt('before', '');
const perf = process.argv.includes('--perf');
const ROOT = path.join(__dirname, '..');
const PEER = path.join(ROOT, 'bench', 'lib', 'mailbox-peer.cjs');
const PLACEMENT = 'pinned CPUs 0/1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

function run(cpu, peer, role, args, env = {}, perfOut) {
  const cmd = [process.execPath, peer, role, JSON.stringify(args)];
  if (perfOut)
    cmd.unshift(
      'perf',
      'stat',
      '-x,',
      '-o',
      perfOut,
      '-e',
      'task-clock,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_epoll_pwait',
    );
  return spawnJson('taskset', ['-c', String(cpu), ...cmd], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'].slice(0, role === 'net-server' ? 4 : 3),
    env: { ...process.env, ...env },
  });
}

// A mailbox pair: this process pings with `lib` (this build or --before's), a pinned mb-pong echoes.
async function mailboxPair(lib, peer, edgeEnv) {
  const name = `/interproc-bench-bell-${process.pid}-${seq++}`;
  const saved = process.env.INTERPROC_EDGE_DOORBELL;
  process.env.INTERPROC_EDGE_DOORBELL = edgeEnv; // read when this side's doorbell watcher is made
  const mb = lib.Mailbox.create(name, { ringSize: 1 << 16 });
  const pong = run(1, peer, 'mb-pong', { name, mode: 'async' }, { INTERPROC_EDGE_DOORBELL: edgeEnv });
  try {
    while (mb.peer.state !== 'alive') await sleep(5);
    const msg = Buffer.alloc(64, 7);
    const burst = async (n) => {
      for (let i = 0; i < n; i++) {
        await mb.send(msg);
        await mb.receive();
      }
    };
    await burst(100); // the first sleeps create the doorbell watcher, with edgeEnv in force
    return {
      burst,
      close: async () => {
        mb.sendSync(Buffer.alloc(0)); // mb-pong stops on an empty message
        await pong.done;
        mb.close();
        lib.Mailbox.unlink(name);
      },
    };
  } catch (err) {
    pong.child.kill('SIGKILL');
    mb.close();
    lib.Mailbox.unlink(name);
    throw err;
  } finally {
    if (saved === undefined) delete process.env.INTERPROC_EDGE_DOORBELL;
    else process.env.INTERPROC_EDGE_DOORBELL = saved;
  }
}

// Node net over a Unix socket, length-prefixed frames as in mailbox-peer.cjs (net-server echoes).
async function netPair() {
  const net = require('node:net');
  const sockPath = path.join(os.tmpdir(), `interproc-bench-bell-${process.pid}-${seq++}.sock`);
  const server = run(1, PEER, 'net-server', { kind: 'rtt', path: sockPath });
  try {
    await new Promise((r) => server.child.once('message', r));
    const sock = net.connect(sockPath);
    await new Promise((r) => sock.once('connect', r));
    let pending = Buffer.alloc(0);
    let wake;
    sock.on('data', (chunk) => {
      const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let off = 0;
      while (buf.length - off >= 4 && buf.length - off - 4 >= buf.readUInt32LE(off)) {
        off += 4 + buf.readUInt32LE(off);
        wake();
      }
      pending = buf.subarray(off);
    });
    const f = Buffer.alloc(4 + 64, 7);
    f.writeUInt32LE(64, 0);
    const burst = async (n) => {
      for (let i = 0; i < n; i++) {
        const p = new Promise((r) => (wake = r));
        sock.write(Buffer.from(f)); // a fresh frame per write, as mailbox-peer's frame() does
        await p;
      }
    };
    return {
      burst,
      close: async () => {
        const end = Buffer.alloc(4); // an empty frame: the server ends the connection
        sock.end(end);
        await server.done;
        fs.rmSync(sockPath, { force: true });
      },
    };
  } catch (err) {
    server.child.kill('SIGKILL');
    fs.rmSync(sockPath, { force: true });
    throw err;
  }
}

function perfCounts(file) {
  const counts = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(',');
    if (f.length > 2 && f[2].startsWith('syscalls:sys_enter_')) counts[f[2].slice(19)] = Number(f[0]);
    if (f.length > 2 && f[2] === 'task-clock') counts.cpuMs = Number(f[0]); // msec
  }
  fs.rmSync(file, { force: true });
  return counts;
}

// --perf: a fresh pair per variant under perf stat (counts do not depend on the machine's noise).
const PERF_ITER = 20000;
async function perfMailbox(peer, env, perfOut) {
  const name = `/interproc-bench-bell-${process.pid}-${seq++}`;
  const args = { name, mode: 'async', size: 64, iterations: PERF_ITER, reps: 1 };
  try {
    const ping = run(0, peer, 'mb-ping', args, env);
    const pong = run(1, peer, 'mb-pong', args, env, perfOut);
    try {
      await Promise.all([ping.done, pong.done]);
    } catch (err) {
      for (const side of [ping, pong]) if (side.child.exitCode === null) side.child.kill('SIGKILL');
      throw err;
    }
  } finally {
    fs.rmSync(`/dev/shm${name}`, { force: true });
  }
  return 1000 + PERF_ITER; // mb-ping's own warm-up + the repetition
}

async function perfNet(perfOut) {
  const sockPath = path.join(os.tmpdir(), `interproc-bench-bell-${process.pid}-${seq++}.sock`);
  const args = { kind: 'rtt', size: 64, iterations: PERF_ITER, reps: 1, path: sockPath };
  const server = run(1, PEER, 'net-server', args, {}, perfOut);
  try {
    await new Promise((r) => server.child.once('message', r));
    await run(0, PEER, 'net-client', { ...args, peerPid: server.child.pid }).done;
    await server.done;
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    fs.rmSync(sockPath, { force: true });
  }
  return 500 + PERF_ITER; // net-client's warm-up + the repetition
}

async function main() {
  execFileSync('taskset', ['-pc', '0', String(process.pid)], { stdio: 'ignore' }); // the pinging side
  const cur = require(ROOT);
  const variants = [
    [
      'edge',
      'interproc Mailbox, edge-triggered eventfd doorbell',
      () => mailboxPair(cur, PEER, '1'),
      (p) => perfMailbox(PEER, { INTERPROC_EDGE_DOORBELL: '1' }, p),
    ],
    [
      'level',
      'interproc Mailbox, level-triggered doorbell (native reset)',
      () => mailboxPair(cur, PEER, '0'),
      (p) => perfMailbox(PEER, { INTERPROC_EDGE_DOORBELL: '0' }, p),
    ],
    ...(before
      ? [
          [
            'before',
            `interproc Mailbox, earlier build (${before})`,
            () => mailboxPair(require(path.resolve(before)), path.join(before, 'bench', 'lib', 'mailbox-peer.cjs'), '1'),
            (p) => perfMailbox(path.join(before, 'bench', 'lib', 'mailbox-peer.cjs'), {}, p),
          ],
        ]
      : []),
    ['net', 'Node net over Unix socket', () => netPair(), (p) => perfNet(p)],
  ];
  const pairs = [];
  try {
    for (const [key, , open] of variants) {
      const pair = await open();
      pairs.push(pair);
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < WARMUP_MS) {
        await pair.burst(500);
        n += 500;
      }
      progress(`${key}: up, warmed up with ${n} round trips`);
    }
    const per = variants.map(() => []); // µs per round trip, one value per cycle
    for (let c = 0; c < CYCLES; c++) {
      for (let k = 0; k < variants.length; k++) {
        const v = (c + k) % variants.length; // rotate the order: no variant always runs first
        const t0 = performance.now();
        await pairs[v].burst(BURST);
        per[v].push(((performance.now() - t0) * 1000) / BURST);
      }
      if ((c + 1) % 10 === 0)
        progress(`cycle ${c + 1}/${CYCLES}: ${variants.map(([k], v) => `${k} ${per[v][c].toFixed(1)}`).join(', ')} µs`);
    }
    const netIdx = variants.length - 1;
    const summary = [];
    variants.forEach(([key, mechanism], v) => {
      row({
        area: 'mailbox',
        mechanism,
        mode: 'async',
        payload: 64,
        metric: 'rtt_us',
        runs: per[v],
        placement: PLACEMENT,
        baseline: key === 'net',
        note: `interleaved bursts of ${BURST} round trips, ${CYCLES} cycles, after ${WARMUP_MS} ms of warm-up per pair`,
      });
      const s = stats(per[v]);
      const ratio = stats(per[v].map((x, c) => x / per[netIdx][c]));
      summary.push(
        `${key.padEnd(6)} ${s.median.toFixed(2)} µs [${s.min.toFixed(2)}–${s.max.toFixed(2)}]` +
          (key === 'net'
            ? ''
            : `  ÷ net, same cycle: ${ratio.median.toFixed(3)} [${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)}]`),
      );
    });
    process.stderr.write(`${summary.join('\n')}\n`);
  } finally {
    for (const pair of pairs) await pair.close();
  }
  if (perf) {
    for (const [key, , , count] of variants) {
      const file = path.join(os.tmpdir(), `interproc-bench-bell-perf-${process.pid}-${key}.txt`);
      const n = await count(file);
      const c = perfCounts(file);
      const perHop = (x) => ((x ?? 0) / n).toFixed(3);
      process.stderr.write(
        `perf ${key.padEnd(6)} echoing side, per round trip: read ${perHop(c.read)}, write ${perHop(c.write)}, ` +
          `epoll_pwait ${perHop(c.epoll_pwait)}, CPU ${((c.cpuMs * 1000) / n).toFixed(2)} µs (whole process, start-up included)\n`,
      );
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
