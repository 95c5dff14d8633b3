// Shared memory between two Node processes: ping-pong round trips over one SharedMemory segment
// (futex, spin, hybrid), each side pinned to its own CPU; Node's own SharedArrayBuffer between
// worker threads as the baseline; and the per-call cost of futex.wake/futex.wait.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { SharedMemory, futex } = require('../../dist');
const { row, progress, repetitions, quick } = require('../lib/report.cjs');

const side = (f) => path.join(__dirname, '..', 'sides', f);

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

async function pingPong(mode, iters) {
  const name = `/interproc-bench-${process.pid}-${mode}`;
  const shm = SharedMemory.create(name, { size: 4096 });
  try {
    const pong = run('taskset', ['-c', '1', process.execPath, side('shm-pingpong.cjs'), 'pong', name, mode, iters, repetitions]);
    const ping = run('taskset', ['-c', '0', process.execPath, side('shm-pingpong.cjs'), 'ping', name, mode, iters, repetitions]);
    const [out] = await Promise.all([ping, pong]);
    return JSON.parse(out);
  } finally {
    shm.close();
    SharedMemory.unlink(name);
  }
}

function perCall(_label, fn, n) {
  const runs = [];
  for (let r = 0; r < repetitions; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    runs.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return runs;
}

async function main() {
  const modes = [
    ['futex', quick ? 2000 : 10000, 'sleep at once, futex wake every hop'],
    ['spin', quick ? 50000 : 200000, 'Atomics.load loop'],
    ['hybrid', quick ? 50000 : 200000, '20000 polls, then futex; wake only a sleeper'],
  ];
  for (const [mode, iters, note] of modes) {
    progress(`Node ping-pong over SharedMemory, ${mode}`);
    row({
      area: 'shm',
      mechanism: 'interproc SharedMemory + futex, 2 processes',
      mode,
      metric: 'rtt_us',
      runs: await pingPong(mode, iters),
      placement: 'pinned CPUs 0/1',
      note,
    });
  }
  for (const [mode, iters] of [
    ['Atomics.wait/notify', quick ? 2000 : 10000],
    ['spin', quick ? 50000 : 200000],
  ]) {
    progress(`baseline: worker threads over a SharedArrayBuffer, ${mode}`);
    const m = mode === 'spin' ? 'spin' : 'futex';
    const out = await run('taskset', [
      '-c',
      '0,1',
      process.execPath,
      side('sab-pingpong.cjs'),
      m,
      String(iters),
      String(repetitions),
    ]);
    row({
      area: 'shm',
      mechanism: 'Node SharedArrayBuffer, 2 worker threads',
      mode,
      metric: 'rtt_us',
      runs: JSON.parse(out),
      placement: 'CPUs 0,1 (threads not pinned singly)',
      baseline: true,
      note: 'one process only: Atomics.wait cannot cross processes',
    });
  }
  progress('per-call cost');
  const shm = SharedMemory.anonymous({ size: 4096 });
  const i32 = new Int32Array(shm.buffer);
  const sab = new Int32Array(new SharedArrayBuffer(64));
  const n = quick ? 100000 : 500000;
  row({
    area: 'shm-calls',
    mechanism: 'futex.wake, no waiter',
    metric: 'ns_per_op',
    runs: perCall('wake', () => futex.wake(i32, 0, 1), n),
    note: 'validation + Node-API call + syscall',
  });
  row({
    area: 'shm-calls',
    mechanism: 'futex.wait, value differs',
    metric: 'ns_per_op',
    runs: perCall('wait', () => futex.wait(i32, 0, 1), n),
    note: 'returns not-equal',
  });
  row({
    area: 'shm-calls',
    mechanism: 'Atomics.notify, no waiter',
    metric: 'ns_per_op',
    runs: perCall('notify', () => Atomics.notify(sab, 0, 1), n),
    baseline: true,
    note: 'in-process only',
  });
  row({
    area: 'shm-calls',
    mechanism: 'Atomics.add on a SharedMemory buffer',
    metric: 'ns_per_op',
    runs: perCall('add', () => Atomics.add(i32, 1, 1), n * 4),
    note: 'data path: plain JS atomics',
  });
  shm.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
