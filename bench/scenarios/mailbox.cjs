// Mailboxes between two separate Node processes, pinned to CPUs 0 and 1, against the baselines a
// user would otherwise pick, all in this one run: Node net over a Unix socket (length-prefixed
// frames, corked batches) and child_process IPC (json, advanced). Round trip of 64 B in each wait
// mode, throughput at 64 B and 64 KiB, and CPU time per message (both processes together). The C
// floors of native/bench/ring_bench.cpp (eventfd + epoll, the C++ ring) run interleaved with them,
// one repetition of every mechanism in turn, so that the ratios hold on a noisy shared machine.
//   node bench/scenarios/mailbox.cjs [--quick] [--only=rtt|tput]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { row, progress, repetitions, quick } = require('../lib/report.cjs');
const { spawnJson } = require('../lib/spawn-json.cjs');
const { Histogram, percentilesOf } = require('../lib/rtt.cjs');

const PEER = path.join(__dirname, '..', 'lib', 'mailbox-peer.cjs');
const PINNED = 'pinned CPUs 0/1';
const UNPINNED = 'unpinned';
const scale = quick ? 0.3 : 1;
// --only=rtt or --only=tput runs one half (to repeat it when the machine is noisy)
const only = (process.argv.find((a) => a.startsWith('--only=')) ?? '').slice(7);
let seq = 0;

// cpu null: unpinned, where the scheduler puts it (as a user's processes run).
function run(cpu, role, args, fds = []) {
  const stdio = role === 'net-server' ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit', ...fds];
  const argv = [PEER, role, JSON.stringify(args)];
  if (cpu === null) return spawnJson(process.execPath, argv, { stdio });
  return spawnJson('taskset', ['-c', String(cpu), process.execPath, ...argv], { stdio });
}

const name = () => `/interproc-bench-mbox-${process.pid}-${seq++}`;

async function mailboxPair(pingRole, pongRole, args, pinned = true) {
  const n = name();
  try {
    const ping = run(pinned ? 0 : null, pingRole, { ...args, name: n });
    const pong = run(pinned ? 1 : null, pongRole, { ...args, name: n });
    try {
      const [res] = await Promise.all([ping.done, pong.done]);
      return res;
    } catch (err) {
      for (const side of [ping, pong]) if (side.child.exitCode === null) side.child.kill('SIGKILL'); // never leave one behind
      throw err;
    }
  } finally {
    try {
      fs.rmSync(`/dev/shm${n}`);
    } catch {}
  }
}

// Two eventfds handed to the two sides as fds 3 (their own) and 4 (the peer's).
async function efdPair(args) {
  const { native } = require('../../dist/internal/binding');
  const a = native.doorbellCreate();
  const b = native.doorbellCreate();
  try {
    const pong = run(1, 'efd-pong', {}, [b, a]);
    const ping = run(0, 'efd-ping', { ...args, peerPid: pong.child.pid }, [a, b]);
    try {
      return await ping.done;
    } finally {
      pong.child.kill('SIGTERM');
      await pong.done.catch(() => {});
    }
  } finally {
    native.doorbellClose(a);
    native.doorbellClose(b);
  }
}

async function netPair(args, pinned = true) {
  const sockPath = path.join(os.tmpdir(), `interproc-bench-${process.pid}-${seq++}.sock`);
  const server = run(pinned ? 1 : null, 'net-server', { ...args, path: sockPath });
  await new Promise((r) => server.child.once('message', r));
  try {
    const client = run(pinned ? 0 : null, 'net-client', { ...args, path: sockPath, peerPid: server.child.pid });
    const res = await client.done;
    await server.done;
    return res;
  } finally {
    try {
      fs.rmSync(sockPath);
    } catch {}
  }
}

async function ipc(args) {
  return run(0, 'ipc-parent', { ...args, childCpu: 1 }).done;
}

// The measured row and its CPU time per message (both processes together). A round trip is two
// messages, so its CPU row is halved and named '<mode>, ping-pong' to keep it apart from throughput.
function emit(fullBase, res, metric) {
  const { cpuPerMessage, ...base } = fullBase; // cpuPerMessage: the floor's CPU row is already per message
  row({
    area: 'mailbox',
    placement: PINNED,
    ...base,
    metric,
    runs: res.runs,
    ...(res.hist ? { percentiles: percentilesOf(res.hist) } : {}),
  });
  const pingPong = metric === 'rtt_us';
  if (res.cpu.length === 0) return;
  row({
    area: 'mailbox',
    placement: PINNED,
    ...base,
    mode: pingPong ? `${base.mode}, ping-pong` : base.mode,
    metric: 'cpu_us_per_msg',
    runs: res.cpu.map((c) => (pingPong && !cpuPerMessage ? c / 2 : c)),
    note: `${base.note ?? ''}${base.note ? '; ' : ''}CPU of both processes per message`.trim(),
  });
}

// The C floors from native/bench/ring_bench.cpp (built by `npm run test:native`), one measurement
// per call so they interleave with the Node rows; skipped with a line when the binary is missing.
const RING_BENCH = path.join(__dirname, '..', '..', 'build-native', 'ring_bench');
function ringBench(only) {
  return new Promise((resolve, reject) => {
    const c = spawn(RING_BENCH, [`--only=${only}`, '--reps=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('exit', () => {
      const rows = out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const main = rows.find((r) => r.metric !== 'cpu_us_per_msg');
      const cpu = rows.find((r) => r.metric === 'cpu_us_per_msg');
      resolve({ runs: main ? main.runs : [], cpu: cpu ? cpu.runs : [], row: main });
    });
  });
}

// Every case runs once per repetition, the cases in turn (A B C C B A ...), so that a noisy
// minute on a shared machine hits every mechanism alike and the ratios within a run hold.
// Returns each case's accumulated { runs, cpu }.
async function interleave(cases, reps) {
  const acc = cases.map(() => ({ runs: [], cpu: [] }));
  for (let r = 0; r < reps; r++) {
    // A B C, then C B A: no case is always the one that runs first after a change of host state.
    const order = [...cases.keys()];
    if (r % 2 === 1) order.reverse();
    for (const i of order) {
      const c = cases[i];
      progress(`${c.label} (${r + 1}/${reps})`);
      const res = await c.run();
      acc[i].runs.push(...res.runs);
      acc[i].cpu.push(...res.cpu);
      // the round trips of every repetition in one histogram, for the percentiles
      if (res.histogram) acc[i].hist = (acc[i].hist ?? new Histogram()).add(Histogram.fromJSON(res.histogram));
    }
  }
  return acc;
}

async function main() {
  const reps = repetitions;
  const it = (n) => Math.max(200, Math.round(n * scale));
  const floors = fs.existsSync(RING_BENCH);
  if (!floors) progress(`no ${RING_BENCH}: run \`npm run test:native\` to include the C floors`);
  const floorNote = 'interleaved with the Node rows of bench/scenarios/mailbox.cjs';

  // ---- round trips, 64 B ----
  if (only !== 'tput') {
    // Each mailbox mode runs right before the baselines its target is a ratio of, so that a change
    // in the host's state between two cases (it shows as 2x swings on this VM) hits both sides alike.
    const mailbox = (mode, note, n) => ({
      label: `mailbox round trip 64 B, ${mode}`,
      metric: 'rtt_us',
      base: { mechanism: 'interproc Mailbox', mode, payload: 64, note },
      run: () => mailboxPair('mb-ping', 'mb-pong', { mode, size: 64, iterations: it(n), reps: 1, spin: 50 }),
    });
    const cFloor = (only, mechanism, mode, payload) => ({
      label: `C floor: ${mechanism} ${mode}`,
      metric: 'rtt_us',
      base: { mechanism, mode, payload, baseline: true, note: floorNote, cpuPerMessage: true },
      run: () => ringBench(only),
    });
    const RING = 'C++ ring (native/core/mailbox/ring.hpp)';
    const cases = [
      mailbox('async', 'await send() + await receive(); eventfd doorbell into the event loop; no polling', 3000),
      {
        label: 'Node net round trip 64 B',
        metric: 'rtt_us',
        base: { mechanism: 'Node net over Unix socket', mode: 'length-prefixed frames', payload: 64, baseline: true },
        run: () => netPair({ kind: 'rtt', size: 64, iterations: it(3000), reps: 1 }),
      },
      // The same two programs as a user runs them, unpinned: the kernel's sync wake-up of a Unix socket
      // write pulls the net pair onto one CPU (cheap same-core hand-offs), the mailbox's eventfd
      // wake-up does not (docs/benchmarks.md, "Pinned and unpinned").
      {
        label: 'mailbox round trip 64 B, async, unpinned',
        metric: 'rtt_us',
        base: {
          mechanism: 'interproc Mailbox',
          mode: 'async',
          payload: 64,
          placement: UNPINNED,
          note: 'await send() + await receive()',
        },
        run: () => mailboxPair('mb-ping', 'mb-pong', { mode: 'async', size: 64, iterations: it(3000), reps: 1 }, false),
      },
      {
        label: 'Node net round trip 64 B, unpinned',
        metric: 'rtt_us',
        base: {
          mechanism: 'Node net over Unix socket',
          mode: 'length-prefixed frames',
          payload: 64,
          baseline: true,
          placement: UNPINNED,
        },
        run: () => netPair({ kind: 'rtt', size: 64, iterations: it(3000), reps: 1 }, false),
      },
      {
        label: 'Node event-loop floor (eventfd + FdWatcher)',
        metric: 'rtt_us',
        base: {
          mechanism: 'Node eventfd + uv_poll',
          mode: 'event-loop wake-up floor',
          payload: 8,
          baseline: true,
          note: 'the FdWatcher a mailbox sleeps on, rung back and forth; no ring, no promise',
        },
        run: () => efdPair({ iterations: it(3000), reps: 1 }),
      },
      floors && cFloor('eventfd', 'C eventfd + epoll_wait', 'event-loop wake-up floor', 8),
      mailbox('adaptive', 'polls 50 µs before sleeping (spin option)', 20000),
      mailbox('sync', 'receiveSync: futex sleep/wake, blocks the thread', 3000),
      floors && cFloor('futex', RING, 'futex', 64),
      mailbox('spin', 'tryReceive busy loop', 100000),
      floors && cFloor('hybrid', RING, 'hybrid', 64),
      floors && cFloor('spin', RING, 'spin', 64),
    ].filter(Boolean);
    for (const serialization of ['json', 'advanced']) {
      cases.push({
        label: `child_process IPC ${serialization} round trip 64 B`,
        metric: 'rtt_us',
        base: { mechanism: 'Node child_process IPC', mode: serialization, payload: 64, baseline: true },
        run: () => ipc({ kind: 'rtt', serialization, size: 64, iterations: it(2000), reps: 1 }),
      });
    }
    const acc = await interleave(cases, reps);
    for (const [i, c] of cases.entries()) if (acc[i].runs.length) emit(c.base, acc[i], c.metric);
  }

  // ---- throughput ----
  if (only !== 'rtt') {
    for (const [size, count] of [
      [64, 2_000_000],
      [65536, 20_000],
    ]) {
      // [mode, spin µs, zero-copy view, cork batch, receiveMany, ring bytes]; Node net runs between the
      // two batched modes, the rows its 64 B target compares (see the round trips above for why). The
      // 4 MiB row shows what a ring several times the L2 cache adds to a stream (docs/design/mailbox.md, "Ring size").
      const MiB = 1 << 20;
      const modes = [
        ['async, batched', 0, false, 256, true, MiB],
        'net',
        ['adaptive, batched', 50, false, 256, true, MiB],
        ['async, batched, 4 MiB ring', 0, false, 256, true, 4 * MiB],
        ['async', 0, false, 0, false, MiB],
        ['adaptive', 50, false, 0, false, MiB],
        ['adaptive, zero-copy view', 50, true, 0, false, MiB],
      ];
      const cases = modes.map((m) => {
        if (m === 'net') {
          return {
            label: `Node net throughput ${size} B`,
            metric: 'msgs_per_s',
            base: {
              mechanism: 'Node net over Unix socket',
              mode: 'length-prefixed frames, cork/uncork 256 per batch',
              payload: size,
              baseline: true,
            },
            run: () => netPair({ kind: 'tput', size, count: it(count), reps: 1, batch: 256 }),
          };
        }
        const [mode, spin, view, cork, many, ringSize] = m;
        const how = many
          ? 'cork()/uncork() per 256 sends, receiveMany()'
          : view
            ? 'tryReceiveView() + release()'
            : 'tryReceive()';
        return {
          label: `mailbox throughput ${size} B, ${mode}`,
          metric: 'msgs_per_s',
          base: {
            mechanism: 'interproc Mailbox',
            mode,
            payload: size,
            note: `${ringSize / MiB} MiB ring; trySend, await send only when full; ${how}`,
          },
          run: () => mailboxPair('mb-send', 'mb-recv', { size, count: it(count), reps: 1, spin, view, cork, many, ringSize }),
        };
      });
      for (const serialization of ['json', 'advanced']) {
        cases.push({
          label: `child_process IPC ${serialization} throughput ${size} B`,
          metric: 'msgs_per_s',
          base: {
            mechanism: 'Node child_process IPC',
            mode: serialization,
            payload: size,
            baseline: true,
            note: 'window 1024, acks every 256',
          },
          run: () => ipc({ kind: 'tput', serialization, size, count: it(size > 64 ? count / 4 : count / 8), reps: 1 }),
        });
      }
      if (floors) {
        cases.push({
          label: `C floor: C++ ring throughput ${size} B`,
          metric: 'msgs_per_s',
          base: {
            mechanism: 'C++ ring (native/core/mailbox/ring.hpp)',
            mode: 'spin',
            payload: size,
            baseline: true,
            note: floorNote,
          },
          run: () => ringBench(size > 64 ? 'tput64k' : 'tput64'),
        });
      }
      const acc = await interleave(cases, reps);
      for (const [i, c] of cases.entries()) {
        if (!acc[i].runs.length) continue;
        emit(c.base, acc[i], 'msgs_per_s');
        if (size > 64)
          row({
            area: 'mailbox',
            placement: PINNED,
            ...c.base,
            metric: 'MB_per_s',
            runs: acc[i].runs.map((v) => (v * size) / 1e6),
          });
      }
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
