// Synchronisation benchmarks (area 'sync'): uncontended lock+unlock from JS (sync, async, try) and
// the hand-off latency of a Mutex between two processes pinned to CPUs 0 and 1, with baselines run
// in the same process: a bare futex wake from JS (N-API call + system call, ANCHORS.md) and Python's
// multiprocessing.Lock. The C floor (core Mutex, glibc robust pthread mutex) is native/bench/sync_bench.cpp.
// Usage: node bench/scenarios/sync.cjs [--quick]
'use strict';
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { row, progress, stats, repetitions } = require('../lib/report.cjs');
const root = path.join(__dirname, '..', '..');
const { SharedMemory, Mutex, Semaphore, RwLock, futex } = require(root);

const ROLE = process.argv[2];
const now = () => Number(process.hrtime.bigint());

// Shared words of the hand-off protocol (Int32 indexes; t0 as Float64 at byte 512).
const READY = 64,
  WAITING = 65,
  DONE = 66;

function spinUntil(i32, index, value) {
  while (Atomics.load(i32, index) !== value);
}

// --- hand-off: side B (the waiter), in its own process pinned to CPU 1 ---
async function sideB(name, form, rounds) {
  const shm = SharedMemory.open(name);
  const i32 = new Int32Array(shm.buffer);
  const f64 = new Float64Array(shm.buffer, 512, 1);
  const samples = new Float64Array(shm.buffer, 1024, rounds);
  const m = Mutex.openAt(shm, 0);
  for (let i = 0; i < rounds; i++) {
    spinUntil(i32, READY, i);
    Atomics.store(i32, WAITING, i);
    const g = form === 'async' ? await m.lock() : m.lockSync();
    samples[i] = (now() - f64[0]) / 1000;
    g.unlock();
    Atomics.store(i32, DONE, i);
  }
  shm.close();
}

async function handoff(form, rounds) {
  const name = `/interproc-bench-sync-${process.pid}`;
  const shm = SharedMemory.create(name, { size: 1024 + 8 * rounds });
  try {
    const i32 = new Int32Array(shm.buffer);
    const f64 = new Float64Array(shm.buffer, 512, 1);
    const samples = new Float64Array(shm.buffer, 1024, rounds);
    const m = Mutex.initAt(shm, 0);
    i32[READY] = -1;
    i32[WAITING] = -1;
    i32[DONE] = -1;
    const b = spawn('taskset', ['-c', '1', process.execPath, __filename, 'side-b', name, form, String(rounds)], {
      stdio: 'inherit',
    });
    const exited = new Promise((r) => b.on('exit', r));
    let g = m.lockSync();
    for (let i = 0; i < rounds; i++) {
      Atomics.store(i32, READY, i);
      spinUntil(i32, WAITING, i);
      const until = now() + 1e6; // 1 ms: B is asleep by now
      while (now() < until);
      f64[0] = now();
      g.unlock();
      spinUntil(i32, DONE, i);
      g = m.lockSync();
    }
    g.unlock();
    await exited;
    return stats(Array.from(samples)).median;
  } finally {
    shm.close();
    SharedMemory.unlink(name);
  }
}

function perOp(ops, fn) {
  const t0 = now();
  for (let i = 0; i < ops; i++) fn();
  return (now() - t0) / ops;
}

async function perOpAsync(ops, fn) {
  const t0 = now();
  for (let i = 0; i < ops; i++) await fn();
  return (now() - t0) / ops;
}

const PY_LOCK = `
import sys, time, multiprocessing as mp
n = int(sys.argv[1])
l = mp.Lock()
a, r = l.acquire, l.release
t = time.perf_counter_ns()
for _ in range(n):
    a(); r()
print((time.perf_counter_ns() - t) / n)
`;

const PY_HANDOFF = `
import sys, time, ctypes, os, multiprocessing as mp
def b(lock, st, samples, rounds):
    os.sched_setaffinity(0, {1})
    for i in range(rounds):
        while st[0] != i: pass
        st[1] = i
        lock.acquire()
        samples[i] = (time.monotonic_ns() - st[3]) / 1000
        lock.release()
        st[2] = i
if __name__ == '__main__':
    rounds = int(sys.argv[1])
    os.sched_setaffinity(0, {0})
    lock = mp.Lock()
    st = mp.RawArray(ctypes.c_longlong, 4)
    st[0] = st[1] = st[2] = -1
    samples = mp.RawArray(ctypes.c_double, rounds)
    p = mp.Process(target=b, args=(lock, st, samples, rounds))
    lock.acquire()
    p.start()
    for i in range(rounds):
        st[0] = i
        while st[1] != i: pass
        end = time.monotonic_ns() + 1000000
        while time.monotonic_ns() < end: pass
        st[3] = time.monotonic_ns()
        lock.release()
        while st[2] != i: pass
        lock.acquire()
    lock.release()
    p.join()
    s = sorted(samples)
    print(s[len(s) // 2])
`;

function python(script, args) {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) return null;
  return Number(r.stdout.trim());
}

async function main() {
  const reps = repetitions;
  const rounds = reps === 3 ? 200 : 300;
  const name = `/interproc-bench-sync-u-${process.pid}`;
  const shm = SharedMemory.create(name, { size: 16384 });
  try {
    const m = Mutex.initAt(shm, 0);
    const s = Semaphore.initAt(shm, 64, { value: 1 });
    const rw = RwLock.initAt(shm, 4096);
    const sr = Semaphore.initAt(shm, 8192, { value: 1, robust: true });
    const word = new Int32Array(shm.buffer, 128, 1);
    const r = { sync: [], raw: [], async: [], sem: [], semr: [], rwr: [], wake: [], py: [] };
    progress('uncontended lock+unlock from JS');
    for (let k = 0; k < reps; k++) {
      r.sync.push(perOp(200_000, () => m.lockSync().unlock()));
      r.raw.push(
        perOp(200_000, () => {
          m.tryLock();
          m.unlock();
        }),
      );
      r.async.push(await perOpAsync(50_000, async () => (await m.lock()).unlock()));
      r.sem.push(
        perOp(200_000, () => {
          s.tryAcquire();
          s.release();
        }),
      );
      r.semr.push(
        perOp(200_000, () => {
          sr.tryAcquire();
          sr.release();
        }),
      );
      r.rwr.push(perOp(200_000, () => rw.lockReadSync().unlock()));
      r.wake.push(perOp(200_000, () => futex.wake(word, 0)));
      const py = python(PY_LOCK, ['1000000']);
      if (py !== null) r.py.push(py);
    }
    const cpu0 = 'one process, unpinned';
    row({
      area: 'sync',
      mechanism: 'interproc Mutex',
      mode: 'lockSync() + guard.unlock()',
      metric: 'ns_per_op',
      runs: r.sync,
      placement: cpu0,
      note: 'uncontended; two N-API calls + a guard object',
    });
    row({
      area: 'sync',
      mechanism: 'interproc Mutex',
      mode: 'tryLock() + unlock()',
      metric: 'ns_per_op',
      runs: r.raw,
      placement: cpu0,
      note: 'uncontended; two N-API calls',
    });
    row({
      area: 'sync',
      mechanism: 'interproc Mutex',
      mode: 'await lock() + guard.unlock()',
      metric: 'ns_per_op',
      runs: r.async,
      placement: cpu0,
      note: 'uncontended: a free lock is taken on the JS thread at once, no native promise or pool thread',
    });
    row({
      area: 'sync',
      mechanism: 'interproc Semaphore',
      mode: 'tryAcquire() + release()',
      metric: 'ns_per_op',
      runs: r.sem,
      placement: cpu0,
      note: 'uncontended',
    });
    row({
      area: 'sync',
      mechanism: 'interproc Semaphore, robust',
      mode: 'tryAcquire() + release()',
      metric: 'ns_per_op',
      runs: r.semr,
      placement: cpu0,
      note: 'uncontended; owned permits',
    });
    row({
      area: 'sync',
      mechanism: 'interproc RwLock',
      mode: 'lockReadSync() + guard.unlock()',
      metric: 'ns_per_op',
      runs: r.rwr,
      placement: cpu0,
      note: 'uncontended',
    });
    row({
      area: 'sync',
      mechanism: 'interproc futex.wake, no waiter',
      mode: 'N-API call + futex syscall',
      metric: 'ns_per_op',
      runs: r.wake,
      placement: cpu0,
      baseline: true,
      note: 'the ANCHORS.md row was 407 ns; compare with the C system-call floor of native/bench/sync_bench.cpp in the same run',
    });
    if (r.py.length) {
      row({
        area: 'sync',
        mechanism: 'Python 3 multiprocessing.Lock',
        mode: 'acquire() + release()',
        metric: 'ns_per_op',
        runs: r.py,
        placement: cpu0,
        baseline: true,
        note: 'uncontended; a POSIX semaphore, not robust (ANCHORS.md: 45 ns)',
      });
    } else {
      progress('python3 not available: Python rows skipped');
    }
  } finally {
    shm.close();
    SharedMemory.unlink(name);
  }

  progress('fs.promises.stat latency with 0 and 64 pending lock() calls');
  {
    const fsp = require('node:fs/promises');
    const fname = `/interproc-bench-sync-fs-${process.pid}`;
    const fshm = SharedMemory.create(fname, { size: 4096 });
    try {
      const m = Mutex.initAt(fshm, 0);
      const statUs = async () => {
        const v = [];
        for (let i = 0; i < 200; i++) {
          const t0 = now();
          await fsp.stat(__filename);
          v.push((now() - t0) / 1000);
        }
        return stats(v).median;
      };
      const idle = [],
        busy = [];
      for (let k = 0; k < reps; k++) {
        idle.push(await statUs());
        const g = m.lockSync(); // this thread holds it: the 64 lock() calls below all wait
        const ac = new AbortController();
        const pending = Array.from({ length: 64 }, () => m.lock({ signal: ac.signal }).catch(() => {}));
        busy.push(await statUs());
        ac.abort();
        await Promise.all(pending);
        g.unlock();
      }
      row({
        area: 'sync',
        mechanism: 'fs.promises.stat',
        mode: 'no lock() pending',
        metric: 'rtt_us',
        runs: idle,
        placement: 'unpinned',
        baseline: true,
        note: 'median of 200 sequential stats per run',
      });
      row({
        area: 'sync',
        mechanism: 'fs.promises.stat',
        mode: '64 Mutex lock() calls pending',
        metric: 'rtt_us',
        runs: busy,
        placement: 'unpinned',
        note: 'waits sleep on addon threads, not the 4-thread libuv pool',
      });
    } finally {
      fshm.close();
      SharedMemory.unlink(fname);
    }
  }

  progress('hand-off latency between two processes (CPUs 0/1)');
  const h = { sync: [], async: [], py: [] };
  for (let k = 0; k < reps; k++) {
    progress(`hand-off repetition ${k + 1}/${reps}`);
    h.sync.push(await handoff('sync', rounds));
    h.async.push(await handoff('async', rounds));
    const py = python(PY_HANDOFF, [String(rounds)]);
    if (py !== null) h.py.push(py);
  }
  const note = `unlock in process A -> the sleeping waiter in process B owns it; median of ${rounds} hand-offs per run`;
  row({
    area: 'sync',
    mechanism: 'interproc Mutex',
    mode: 'hand-off to lockSync() waiter',
    metric: 'one_way_us',
    runs: h.sync,
    placement: 'pinned CPUs 0/1',
    note,
  });
  row({
    area: 'sync',
    mechanism: 'interproc Mutex',
    mode: 'hand-off to await lock() waiter',
    metric: 'one_way_us',
    runs: h.async,
    placement: 'pinned CPUs 0/1',
    note: `${note}; adds the native waiter thread's wake + the event-loop hop`,
  });
  if (h.py.length) {
    row({
      area: 'sync',
      mechanism: 'Python 3 multiprocessing.Lock',
      mode: 'hand-off to acquire() waiter',
      metric: 'one_way_us',
      runs: h.py,
      placement: 'pinned CPUs 0/1',
      baseline: true,
      note,
    });
  }
}

if (ROLE === 'side-b') {
  sideB(process.argv[3], process.argv[4], Number(process.argv[5])).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  process.argv.includes('--pinned')
    ? main()
    : (() => {
        // Pin this (side A) process to CPU 0 by re-running under taskset.
        const r = spawnSync('taskset', ['-c', '0', process.execPath, __filename, '--pinned', ...process.argv.slice(2)], {
          stdio: 'inherit',
        });
        process.exit(r.status ?? 1);
      })();
}
