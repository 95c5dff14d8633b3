// The store (shared memory over message passing) against what it emulates and what users would
// pick instead, in one run (area 'store'):
//   interproc Store, member 0 here asking member 1 (another process) for its blocks, over mailboxes
//     ('async': sleep until woken; 'spin': poll 100 µs first, both sides) and over a Unix socket:
//     read/write of 8 B and 4 KiB, add, compareExchange; one in flight (p50, p99) and pipelined;
//     and a read of 8 B with the read cache on (cache: true: answered from the copy), one in flight;
//   real SharedMemory + Atomics (the same operations, no messages: the price of emulating them);
//   Redis 7 GET/SET/INCR from Node (ioredis) over a Unix socket, one in flight and pipelined x100
//     (Debian's redis-server, started on a socket in a temp dir and stopped; skipped when absent);
//   Python multiprocessing.Manager proxies (bench/peers/store_manager.py);
//   the floors under a store round trip: two Node event loops ping-ponging an eventfd and nothing
//   else (bench/tools/loop-wake-floor.cjs); one bare mailbox message each way between the same two
//   processes (async and spin), and the C eventfd + epoll and C++ ring round trips of
//   build-native/ring_bench when it is built (npm run bench builds it).
// Every pair of sides is pinned the same way where taskset exists: this process (the client of
// each mechanism) on CPU 0, the other side (store member 1, redis-server, the Manager) on CPU 1.
// Then the targets as ratios of this run: add async p50 <= 0.6x Redis INCR p50; add spin
// p50 <= 5 µs; pipelined add >= 5x Redis INCR pipelined x100; pipelined add >= 20x the Manager;
// and beside them the floor of each (what no store operation over this transport can beat).
// Usage: node bench/scenarios/store.cjs [--quick]
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { MailboxGroup, SharedMemory, Store } = require('../../dist');
const { row, progress, repetitions, quick, percentile, stats } = require('../lib/report.cjs');
const { hasTaskset } = require('../lib/taskset.cjs');

const SAMPLES = quick ? 400 : 3000;
const PIPELINED = quick ? 20000 : 100000;
const WINDOW = 1000; // read/write in flight (a promise each)
const CELL_WINDOW = 10000; // pipeline() of cell operations in flight: one promise for all
const WARM_MS = quick ? 300 : 1000;
const LAYOUT = { members: 2, size: 1 << 20, blockSize: 4096 };
const REMOTE = 4096; // block 1: member 1's (cyclic rule)
const now = () => Number(process.hrtime.bigint());
const figures = {}; // key -> median, for the targets

const pinned = hasTaskset();
const placement = pinned ? 'pinned CPUs 0/1' : 'unpinned';

/** Spawns `cmd args` on CPU 1 when pinning (the side that serves). */
function onCpu1(cmd, args, options) {
  return pinned ? spawn('taskset', ['-c', '1', cmd, ...args], options) : spawn(cmd, args, options);
}

function record(key, r) {
  row({ area: 'store', placement, ...r });
  figures[key] = stats(r.runs).median;
}

/** p50 and p99 (µs) of `fn` one at a time, in one repetition; the first 10 % are warm-up. */
async function latencyRep(fn) {
  const samples = [];
  for (let i = 0; i < SAMPLES * 1.1; i++) {
    const t = now();
    await fn(i);
    if (i >= SAMPLES * 0.1) samples.push((now() - t) / 1000);
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/**
 * Runs `fn` one at a time for WARM_MS and at least 2000 times, results thrown away: on this VM the
 * first thousands of round trips are several times slower (JIT tiers on both sides, the host's
 * halt polling adapting to the wake-up rate; bench/lib/mailbox-peer.cjs says the same).
 */
async function warmUp(fn) {
  const end = performance.now() + WARM_MS;
  for (let i = 0; i < 2000 || performance.now() < end; i++) await fn(i);
}

/** p50 and p99 (µs) of `fn` one at a time, per repetition, after a warm-up. */
async function latency(fn) {
  const p50 = [],
    p99 = [];
  await warmUp(fn);
  for (let r = 0; r < repetitions; r++) {
    const one = await latencyRep(fn);
    p50.push(one.p50);
    p99.push(one.p99);
  }
  return { p50, p99 };
}

/** Operations per second of `batch(k)` (which issues k operations at once and resolves when all are done). */
async function throughput(batch, total = PIPELINED, window = WINDOW) {
  const runs = [];
  await batch(window); // warm-up
  for (let r = 0; r < repetitions; r++) {
    const t = now();
    for (let done = 0; done < total; done += window) await batch(window);
    runs.push(total / ((now() - t) / 1e9));
  }
  return runs;
}

// --- interproc Store ---

async function storeSetup(kind, extra = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-bench-store-'));
  const name = `/interproc-bench-store-${process.pid}-${kind}`;
  let store, child;
  const side = path.join(__dirname, '..', 'sides', 'store-owner.cjs');
  const ipc = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
  if (kind === 'unix') {
    const where = path.join(tmp, 'owner.sock');
    child = onCpu1(process.execPath, [side, 'unix', where, JSON.stringify(LAYOUT)], ipc);
    await new Promise((r) => child.once('message', r));
    store = await Store.open({ ...LAYOUT, ...extra, id: 0 });
    await store.connect(1, { path: where });
  } else {
    const spin = kind === 'spin' ? 100 : 0;
    store = Store.create(name, { ...LAYOUT, ...extra, spin });
    child = onCpu1(process.execPath, [side, 'mailbox', name, String(spin)], ipc);
    await new Promise((r) => child.once('message', r));
  }
  await store.ready({ timeout: 20000 });
  const stop = async () => {
    const gone = new Promise((r) => child.once('exit', r));
    child.disconnect();
    await gone;
    await store.close();
    if (kind !== 'unix') Store.unlink(name);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  return { store, stop };
}

/** The read cache (cache: true here): a read of another member's block, answered from the copy after the first. */
async function benchCachedRead(kind) {
  const label = { async: 'mailbox, async', spin: 'mailbox, spin 100 µs', unix: 'Unix socket' }[kind];
  progress(`interproc Store, cached read, over ${label}`);
  const { store, stop } = await storeSetup(kind, { cache: true });
  try {
    const { p50, p99 } = await latency(() => store.read(REMOTE, 8));
    const misses = store.stats().cache.misses;
    if (misses !== 1) throw new Error(`cached read bench: ${misses} fetches, expected 1`);
    const base = {
      mechanism: 'interproc Store read (cached)',
      payload: 8,
      metric: 'rtt_us',
      note: `one in flight, cache: true, ${label}`,
    };
    record(`store ${kind} cached read 8 p50`, { ...base, mode: `${kind} p50`, runs: p50 });
    record(`store ${kind} cached read 8 p99`, { ...base, mode: `${kind} p99`, runs: p99 });
  } finally {
    await stop();
  }
}

async function benchStore(kind) {
  const label = { async: 'mailbox, async', spin: 'mailbox, spin 100 µs', unix: 'Unix socket' }[kind];
  progress(`interproc Store over ${label}`);
  const { store, stop } = await storeSetup(kind);
  try {
    const v = store.int32();
    const cell = REMOTE / 4;
    const small = Buffer.alloc(8, 1);
    const page = Buffer.alloc(4096, 2);
    const ops = [
      ['read', 8, () => store.read(REMOTE, 8)],
      ['read', 4096, () => store.read(REMOTE, 4096)],
      ['write', 8, () => store.write(REMOTE, small)],
      ['write', 4096, () => store.write(REMOTE, page)],
      ['add', 4, () => v.add(cell, 1)],
      ['compareExchange', 4, (i) => v.compareExchange(cell, i, i + 1)],
    ];
    for (const [op, payload, fn] of ops) {
      const { p50, p99 } = await latency(fn);
      const base = { mechanism: `interproc Store ${op}`, payload, metric: 'rtt_us', note: `one in flight, ${label}` };
      record(`store ${kind} ${op} ${payload} p50`, { ...base, mode: `${kind} p50`, runs: p50 });
      record(`store ${kind} ${op} ${payload} p99`, { ...base, mode: `${kind} p99`, runs: p99 });
    }
    if (kind !== 'spin') {
      const pipelined = [
        ['read', 8, (k) => Promise.all(Array.from({ length: k }, () => store.read(REMOTE, 8)))],
        ['read', 4096, (k) => Promise.all(Array.from({ length: k }, () => store.read(REMOTE, 4096)))],
        ['write', 8, (k) => Promise.all(Array.from({ length: k }, () => store.write(REMOTE, small)))],
        ['write', 4096, (k) => Promise.all(Array.from({ length: k }, () => store.write(REMOTE, page)))],
        [
          'add',
          4,
          (k) => {
            const p = store.pipeline();
            for (let i = 0; i < k; i++) p.add(v, cell, 1);
            return p.exec();
          },
        ],
        [
          'compareExchange',
          4,
          (k) => {
            const p = store.pipeline();
            for (let i = 0; i < k; i++) p.compareExchange(v, cell, i, i + 1);
            return p.exec();
          },
        ],
      ];
      for (const [op, payload, batch] of pipelined) {
        const total = payload === 4096 ? PIPELINED / 5 : PIPELINED;
        const window = op === 'read' || op === 'write' ? WINDOW : CELL_WINDOW;
        record(`store ${kind} ${op} ${payload} pipelined`, {
          mechanism: `interproc Store ${op}`,
          mode: `${kind} pipelined`,
          payload,
          metric: 'ops_per_s',
          runs: await throughput(batch, total, window),
          note: `${window} in flight (${op === 'read' || op === 'write' ? 'Promise.all' : 'one pipeline()'}), ${label}`,
        });
      }
    }
  } finally {
    await stop();
  }
}

// --- the floors: what a store round trip cannot beat ---

/** A bare mailbox group with a pinned echo as member 1: `once()` is one message each way (the size of an add's request). */
async function floorSetup(kind) {
  const spin = kind === 'spin' ? 100 : 0;
  const name = `/interproc-bench-store-floor-${process.pid}-${kind}`;
  const group = MailboxGroup.create(name, { members: 2, spin });
  const side = path.join(__dirname, '..', 'sides', 'store-owner.cjs');
  const child = onCpu1(process.execPath, [side, 'echo', name, String(spin)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => child.once('message', r));
  const msg = Buffer.alloc(28); // an add's request: message header, request header, operand
  const once = async () => {
    group.trySend(1, msg);
    await group.receive(1);
  };
  const stop = async () => {
    const gone = new Promise((r) => child.once('exit', r));
    child.disconnect();
    await gone;
    group.close();
    MailboxGroup.unlink(name);
  };
  return { once, stop };
}

const floorRow = (kind) => ({
  mechanism: 'interproc Mailbox round trip',
  payload: 28,
  metric: 'rtt_us',
  floor: true,
  baseline: true,
  note: `the floor of a store operation over mailboxes, ${kind === 'spin' ? 'spin 100 µs' : 'async'}: receive() and trySend(), no store`,
});

/** One bare mailbox message each way between this process and a pinned echo. */
async function benchMailboxFloor(kind) {
  progress(`floor: a bare mailbox round trip (${kind})`);
  const { once, stop } = await floorSetup(kind);
  try {
    const { p50, p99 } = await latency(once);
    record(`floor mailbox ${kind} p50`, { ...floorRow(kind), mode: `${kind} p50`, runs: p50 });
    record(`floor mailbox ${kind} p99`, { ...floorRow(kind), mode: `${kind} p99`, runs: p99 });
  } finally {
    await stop();
  }
}

/** The native floors of build-native/ring_bench (eventfd + epoll wake-ups, the C++ ring spinning), when built. */
function benchNativeFloor() {
  const bin = path.join(__dirname, '..', '..', 'build-native', 'ring_bench');
  if (!fs.existsSync(bin)) {
    progress('floor: C ring_bench not built (npm run bench builds it): skipped');
    return;
  }
  for (const only of ['eventfd', 'spin']) {
    progress(`floor: C ring_bench --only=${only}`);
    const out = spawnSync(bin, [`--only=${only}`, `--reps=${repetitions}`, ...(quick ? ['--quick'] : [])], {
      encoding: 'utf8',
      timeout: 300000,
    });
    for (const line of String(out.stdout).split('\n')) {
      if (!line.startsWith('{')) continue;
      const r = JSON.parse(line);
      if (r.metric !== 'rtt_us') continue;
      record(`floor native ${only}`, { ...r, area: 'store', floor: true, baseline: true });
    }
  }
}

/** The floor of any round trip between two sleeping Node event loops (bench/tools/loop-wake-floor.cjs). */
function benchLoopFloor() {
  progress('floor: two Node event loops ping-ponging an eventfd (bench/tools/loop-wake-floor.cjs)');
  const tool = path.join(__dirname, '..', 'tools', 'loop-wake-floor.cjs');
  const out = spawnSync(process.execPath, [tool, `--n=${quick ? 2000 : 10000}`, `--rounds=${repetitions}`], {
    encoding: 'utf8',
    timeout: 300000,
  });
  const runs = [...String(out.stdout).matchAll(/^round \d+: p50 ([\d.]+) µs/gm)].map((m) => Number(m[1]));
  if (runs.length === 0) {
    progress(`floor: loop-wake-floor gave nothing (${String(out.stderr).trim().slice(0, 200)}): skipped`);
    return;
  }
  record('floor node loops p50', {
    area: 'store',
    mechanism: 'Node event loop <-> Node event loop (eventfd, FdWatcher)',
    mode: 'p50',
    payload: 0,
    metric: 'rtt_us',
    runs,
    baseline: true,
    floor: true,
    note: 'no payload, no ring, no store: the sleeping floor of any transport between two Node programs',
  });
}

// --- real shared memory ---

function benchSharedMemory() {
  progress('SharedMemory + Atomics (no messages)');
  const name = `/interproc-bench-store-shm-${process.pid}`;
  const shm = SharedMemory.create(name, { size: 1 << 20 });
  try {
    const i32 = new Int32Array(shm.buffer);
    const bytes = Buffer.from(shm.buffer);
    const small = Buffer.alloc(8, 1);
    const page = Buffer.alloc(4096, 2);
    const out8 = Buffer.alloc(8);
    const out4k = Buffer.alloc(4096);
    const n = quick ? 200000 : 2000000;
    const ops = [
      ['read', 8, () => bytes.copy(out8, 0, REMOTE, REMOTE + 8)],
      ['read', 4096, () => bytes.copy(out4k, 0, REMOTE, REMOTE + 4096)],
      ['write', 8, () => bytes.set(small, REMOTE)],
      ['write', 4096, () => bytes.set(page, REMOTE)],
      ['add', 4, () => Atomics.add(i32, 1024, 1)],
      ['compareExchange', 4, () => Atomics.compareExchange(i32, 1024, 5, 6)],
    ];
    for (const [op, payload, fn] of ops) {
      const runs = [];
      for (let r = 0; r < repetitions; r++) {
        const t = now();
        for (let i = 0; i < n; i++) fn();
        runs.push((now() - t) / n / 1000);
      }
      record(`shm ${op} ${payload}`, {
        mechanism: `SharedMemory + Atomics ${op}`,
        mode: 'in process',
        payload,
        metric: 'rtt_us',
        runs,
        baseline: true,
        note: 'per operation, µs: what the store emulates',
      });
      record(`shm ${op} ${payload} ops`, {
        mechanism: `SharedMemory + Atomics ${op}`,
        mode: 'in process',
        payload,
        metric: 'ops_per_s',
        runs: runs.map((us) => 1e6 / us),
        baseline: true,
      });
    }
  } finally {
    shm.close();
    SharedMemory.unlink(name);
  }
}

// --- Redis ---

/** redis-server on a Unix socket in a temp dir (pinned to CPU 1) and an ioredis client; undefined (with a line saying why) when either is missing. */
async function redisSetup() {
  const server = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!server) {
    progress('Redis: skipped (redis-server is not installed: apt-get install redis-server)');
    return undefined;
  }
  let Redis;
  try {
    Redis = require('ioredis');
  } catch {
    progress('Redis: skipped (the ioredis devDependency is not installed)');
    return undefined;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-bench-redis-'));
  const sock = path.join(tmp, 'redis.sock');
  const proc = onCpu1(
    server,
    ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', tmp],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => proc.once('exit', r));
  let client;
  const stop = async () => {
    client?.disconnect();
    proc.kill('SIGTERM');
    await exited;
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 200 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
    if (!fs.existsSync(sock)) throw new Error('redis-server did not create its socket');
    client = new Redis({ path: sock, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    await client.connect();
  } catch (err) {
    progress(`Redis: skipped (${err.message})`);
    await stop();
    return undefined;
  }
  return { client, stop };
}

async function benchRedis() {
  progress('Redis 7 via ioredis over a Unix socket');
  const redis = await redisSetup();
  if (redis === undefined) return;
  const { client } = redis;
  try {
    const v8 = 'x'.repeat(8);
    const v4k = 'y'.repeat(4096);
    await client.set('k8', v8);
    await client.set('k4k', v4k);
    const ops = [
      ['GET', 8, () => client.get('k8'), (p) => p.get('k8')],
      ['GET', 4096, () => client.get('k4k'), (p) => p.get('k4k')],
      ['SET', 8, () => client.set('k8', v8), (p) => p.set('k8', v8)],
      ['SET', 4096, () => client.set('k4k', v4k), (p) => p.set('k4k', v4k)],
      ['INCR', 8, () => client.incr('n'), (p) => p.incr('n')],
    ];
    for (const [op, payload, one, queue] of ops) {
      const { p50, p99 } = await latency(one);
      const base = {
        mechanism: `Redis ${op} (ioredis)`,
        payload,
        metric: 'rtt_us',
        baseline: true,
        note: 'one in flight, Unix socket',
      };
      record(`redis ${op} ${payload} p50`, { ...base, mode: 'p50', runs: p50 });
      record(`redis ${op} ${payload} p99`, { ...base, mode: 'p99', runs: p99 });
      const runs = await throughput(
        async (k) => {
          for (let done = 0; done < k; done += 100) {
            const p = client.pipeline();
            for (let i = 0; i < 100; i++) queue(p);
            await p.exec();
          }
        },
        payload === 4096 ? PIPELINED / 5 : PIPELINED,
      );
      record(`redis ${op} ${payload} pipelined`, {
        mechanism: `Redis ${op} (ioredis)`,
        mode: 'pipelined x100',
        payload,
        metric: 'ops_per_s',
        runs,
        baseline: true,
        note: 'batches of 100, one batch in flight',
      });
    }
  } catch (err) {
    progress(`Redis: skipped (${err.message})`);
  } finally {
    await redis.stop();
  }
}

// --- the targets' latencies, interleaved ---

/**
 * The figures the latency targets compare, measured one repetition of each in turn with every side
 * up at once, so that a change in the load of a shared machine falls on all of them alike: the
 * bare mailbox round trip (the floor), the store's add, and Redis INCR, async; then the floor and
 * the add with spin. The targets are computed from these rows.
 */
async function benchInterleaved() {
  progress('the latency targets, interleaved: mailbox floor, Store add, Redis INCR');
  const stops = [];
  const entries = [];
  try {
    for (const kind of ['async', 'spin']) {
      const floor = await floorSetup(kind);
      stops.push(floor.stop);
      entries.push({ key: `floor mailbox ${kind}`, row: { ...floorRow(kind), mode: kind }, fn: floor.once });
      const { store, stop } = await storeSetup(kind);
      stops.push(stop);
      const v = store.int32();
      entries.push({
        key: `store ${kind} add 4`,
        row: { mechanism: 'interproc Store add', payload: 4, metric: 'rtt_us', note: `one in flight, mailbox, ${kind}` },
        fn: () => v.add(REMOTE / 4, 1),
      });
      if (kind === 'async') {
        const redis = await redisSetup();
        if (redis !== undefined) {
          stops.push(redis.stop);
          entries.push({
            key: 'redis INCR 8',
            row: {
              mechanism: 'Redis INCR (ioredis)',
              payload: 8,
              metric: 'rtt_us',
              baseline: true,
              note: 'one in flight, Unix socket',
            },
            fn: () => redis.client.incr('n'),
          });
        }
      }
    }
    for (const e of entries) await warmUp(e.fn);
    const p50 = entries.map(() => []);
    const p99 = entries.map(() => []);
    for (let r = 0; r < repetitions; r++) {
      for (const [k, e] of entries.entries()) {
        const one = await latencyRep(e.fn);
        p50[k].push(one.p50);
        p99[k].push(one.p99);
      }
    }
    for (const [k, e] of entries.entries()) {
      const mode = e.row.mode ? `${e.row.mode} ` : e.key.includes('spin') ? 'spin ' : e.key.includes('async') ? 'async ' : '';
      record(`interleaved ${e.key} p50`, { ...e.row, mode: `${mode}p50, interleaved`, runs: p50[k] });
      record(`interleaved ${e.key} p99`, { ...e.row, mode: `${mode}p99, interleaved`, runs: p99[k] });
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

// --- Python Manager ---

function benchManager() {
  progress('Python multiprocessing.Manager proxies');
  const script = path.join(__dirname, '..', 'peers', 'store_manager.py');
  const runs = [];
  for (let r = 0; r < Math.min(3, repetitions); r++) {
    const args = [script, String(quick ? 500 : 2000), ...(pinned ? ['--pin'] : [])];
    const out = spawnSync('python3', args, { encoding: 'utf8', timeout: 120000 });
    if (out.status !== 0) {
      progress(`Manager: skipped (python3 exited ${out.status}: ${String(out.stderr).trim().split('\n').pop()})`);
      return;
    }
    runs.push(JSON.parse(out.stdout.trim().split('\n').pop()));
  }
  const col = (k) => runs.map((x) => x[k]);
  const base = { mechanism: 'Python Manager', baseline: true, note: 'proxy calls from a client process to the Manager process' };
  record('manager get p50', { ...base, mode: 'dict get p50', payload: 8, metric: 'rtt_us', runs: col('get_p50_us') });
  record('manager get p99', { ...base, mode: 'dict get p99', payload: 8, metric: 'rtt_us', runs: col('get_p99_us') });
  record('manager set p50', { ...base, mode: 'dict set p50', payload: 8, metric: 'rtt_us', runs: col('set_p50_us') });
  record('manager incr p50', {
    ...base,
    mode: 'Value += 1 under Lock, p50',
    payload: 4,
    metric: 'rtt_us',
    runs: col('incr_p50_us'),
  });
  record('manager get ops', { ...base, mode: 'dict get', payload: 8, metric: 'ops_per_s', runs: col('get_ops_per_s') });
  record('manager incr ops', {
    ...base,
    mode: 'Value += 1 under Lock',
    payload: 4,
    metric: 'ops_per_s',
    runs: col('incr_ops_per_s'),
  });
}

// --- targets ---

function targets() {
  const f = figures;
  // The latencies from the interleaved rows (every side measured in turn, same minutes).
  const i = (key) => f[`interleaved ${key} p50`];
  const list = [
    ['add async p50 / Redis INCR p50', i('store async add 4') / i('redis INCR 8'), (x) => x <= 0.6, '<= 0.6'],
    ['add spin p50, µs', i('store spin add 4'), (x) => x <= 5, '<= 5 µs'],
    [
      'pipelined add / Redis INCR pipelined x100',
      f['store async add 4 pipelined'] / f['redis INCR 8 pipelined'],
      (x) => x >= 5,
      '>= 5',
    ],
    ['pipelined add / Manager dict get', f['store async add 4 pipelined'] / f['manager get ops'], (x) => x >= 20, '>= 20'],
    [
      'pipelined add / Manager Value += under Lock',
      f['store async add 4 pipelined'] / f['manager incr ops'],
      (x) => x >= 20,
      '>= 20',
    ],
    [
      'add async p50 / SharedMemory Atomics.add',
      f['store async add 4 p50'] / f['shm add 4'],
      () => true,
      'the price of emulation',
    ],
    // The floors: a store operation is at least one mailbox message each way.
    [
      'floor: bare mailbox async round trip p50 / Redis INCR p50',
      i('floor mailbox async') / i('redis INCR 8'),
      (x) => x <= 0.6,
      'the best add async / INCR over this transport; <= 0.6 needed',
    ],
    [
      'add async p50 / bare mailbox async p50',
      i('store async add 4') / i('floor mailbox async'),
      () => true,
      'the store over its transport',
    ],
    [
      'floor: two sleeping Node event loops, round trip p50 / Redis INCR p50',
      f['floor node loops p50'] / i('redis INCR 8'),
      (x) => x <= 0.6,
      'no sleeping store between two Node programs beats this; <= 0.6 needed',
    ],
    ['floor: bare mailbox spin round trip p50, µs', i('floor mailbox spin'), (x) => x <= 5, '<= 5 µs needed'],
    [
      'add spin p50 / bare mailbox spin p50',
      i('store spin add 4') / i('floor mailbox spin'),
      () => true,
      'the store over its transport',
    ],
  ];
  for (const [what, value, ok, target] of list) {
    if (!Number.isFinite(value)) {
      progress(`target ${what}: not computed (a side was skipped)`);
      continue;
    }
    progress(`target ${what}: ${value.toPrecision(3)} (${target}) ${ok(value) ? 'met' : 'NOT met'}`);
    row({
      area: 'store',
      mechanism: `target: ${what}`,
      mode: target,
      metric: 'ratio',
      runs: [value],
      note: ok(value) ? 'met' : 'NOT met',
    });
  }
}

async function main() {
  if (pinned) execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
  progress(`placement: ${placement}`);
  benchSharedMemory();
  await benchInterleaved();
  for (const kind of ['async', 'spin']) await benchMailboxFloor(kind);
  for (const kind of ['async', 'spin', 'unix']) await benchStore(kind);
  for (const kind of ['async', 'unix']) await benchCachedRead(kind);
  await benchRedis();
  benchManager();
  benchNativeFloor();
  benchLoopFloor();
  targets();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
