// Request/response, 64 B each way: interproc rpc (RpcEndpoint: ids, matching, error replies) over a
// Unix stream channel and over a two-party Mailbox, against the plainest correct program users would
// write instead: Node `net` over a Unix socket, a 4-byte length prefix, one write per frame, replies
// taken in order. One request in flight (round trip and req/s) and 100 in flight (req/s). The client
// is pinned to CPU 0 and the server process to CPU 1 where taskset exists.
// Targets (issue 13): rpc req/s ≥ 1.3× net over sockets, ≥ 3× over mailboxes, both windows. The channel
// and the Mailbox run twice: sleeping (each side sleeps as soon as it is idle) and spinning (each
// polls 50 µs first: the `spin` option of both).
// Each mechanism has a client process of its own (CPU 0) and a server (CPU 1), all up together;
// each repetition measures every mechanism in turn.
// ANCHORS.md measured here: net 136 µs (6.3 k req/s) one in flight, 406 k req/s with 100 in flight.
// Run: node bench/scenarios/rpc.cjs [--quick]
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { row, progress, stats, repetitions, quick, cpuMicros } = require('../lib/report.cjs');
const { hasTaskset } = require('../lib/taskset.cjs');
const { listen, connect, Mailbox, rpcClient, serve } = require(path.join(__dirname, '..', '..', 'dist'));

const PAYLOAD = 64;
const SPIN_US = 50; // the spinning channel and Mailbox: each side polls this long before it sleeps
const WINDOWS = [1, 100];
const SECONDS = quick ? 0.4 : 1;
const MECHANISMS = [
  { id: 'rpc-stream', mechanism: 'interproc rpc (Unix stream channel)', mode: 'sleeping', baseline: false },
  { id: 'rpc-stream-spin', mechanism: 'interproc rpc (Unix stream channel)', mode: 'spin: 50 µs, both sides', baseline: false },
  { id: 'rpc-mailbox', mechanism: 'interproc rpc (Mailbox)', mode: 'sleeping', baseline: false },
  { id: 'rpc-mailbox-spin', mechanism: 'interproc rpc (Mailbox)', mode: 'spin: 50 µs, both sides', baseline: false },
  { id: 'net', mechanism: 'Node net over Unix socket', mode: '4-byte length prefix', baseline: true },
];

const pinned = hasTaskset();

// ---- Node net, the plain way: [u32 LE length][body], one write per frame --------------------

function netFrames(socket, onFrame) {
  let buf = Buffer.alloc(0);
  socket.setNoDelay?.(true);
  socket.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let at = 0;
    while (buf.length - at >= 4) {
      const len = buf.readUInt32LE(at);
      if (buf.length - at < 4 + len) break;
      onFrame(buf.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    buf = buf.subarray(at);
  });
  return (body) => {
    const f = Buffer.allocUnsafe(4 + body.length);
    f.writeUInt32LE(body.length, 0);
    body.copy(f, 4);
    socket.write(f);
  };
}

// ---- the server process (CPU 1) ------------------------------------------------------------

async function server(id, where) {
  if (id === 'net') {
    const s = net.connect(`\0${where}`);
    const send = netFrames(s, (body) => send(body));
  } else if (id.startsWith('rpc-stream')) {
    serve(await connect({ abstract: where }, id === 'rpc-stream-spin' ? { spin: SPIN_US } : {}), (d) => d);
  } else {
    serve(Mailbox.open(where, id === 'rpc-mailbox-spin' ? { spin: SPIN_US } : {}), (d) => d);
  }
  process.send('ready');
  process.on('disconnect', () => process.exit(0));
}

// ---- the client (CPU 0) --------------------------------------------------------------------

/** A request function: (body) => Promise of the reply. */
async function client(mech) {
  const where = mech.id.startsWith('rpc-mailbox')
    ? `/interproc-bench-${mech.id}-${process.pid}`
    : `interproc-bench-${mech.id}-${process.pid}`;
  const args = [__filename, '--server', mech.id, where];
  const spawnServer = () =>
    pinned
      ? spawn('taskset', ['-c', '1', process.execPath, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = (proc) => new Promise((r) => proc.once('message', r));
  if (mech.id === 'net') {
    const s = net.createServer();
    await new Promise((r) => s.listen({ path: `\0${where}` }, r));
    const proc = spawnServer();
    const [sock] = await Promise.all([new Promise((r) => s.once('connection', r)), ready(proc)]);
    const waiting = []; // replies come in order: FIFO is the matching
    const send = netFrames(sock, (body) => waiting.shift()(body));
    return {
      request: (body) =>
        new Promise((resolve) => {
          waiting.push(resolve);
          send(body);
        }),
      close: () => {
        proc.kill();
        sock.destroy();
        s.close();
      },
    };
  }
  if (mech.id.startsWith('rpc-stream')) {
    const s = await listen({ abstract: where }, mech.id === 'rpc-stream-spin' ? { spin: SPIN_US } : {});
    const proc = spawnServer();
    const [ch] = await Promise.all([new Promise((r) => s.once('connection', r)), ready(proc)]);
    const c = rpcClient(ch);
    return {
      request: (body) => c.request(body),
      close: async () => {
        proc.kill();
        c.close();
        await s.close();
      },
    };
  }
  const mb = Mailbox.create(where, { ringSize: 1 << 18, ...(mech.id === 'rpc-mailbox-spin' ? { spin: SPIN_US } : {}) });
  const proc = spawnServer();
  await ready(proc);
  const c = rpcClient(mb);
  while (!c.endpoint.transport.isUp(c.peer)) await new Promise((r) => setTimeout(r, 5));
  return {
    request: (body) => c.request(body),
    close: () => {
      proc.kill();
      c.close();
      mb.close();
      Mailbox.unlink(where);
    },
  };
}

/** Requests per second with `window` in flight, for SECONDS, and the client's CPU µs per request. */
async function measure(request, window) {
  const body = Buffer.alloc(PAYLOAD, 7);
  let done = 0;
  let stop = false;
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  const lane = async () => {
    while (!stop) {
      const r = await request(body);
      if (r.length !== PAYLOAD) throw new Error(`reply of ${r.length} bytes`);
      done++;
      if ((done & 63) === 0 && performance.now() - t0 >= SECONDS * 1000) stop = true;
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return { rate: done / ((performance.now() - t0) / 1000), cpu: (cpuMicros() - cpu0) / done };
}

/**
 * A client process for one mechanism (pinned to CPU 0; its server on CPU 1): each client has a
 * process of its own, so no mechanism's code shares a JIT or a heap with another's, and the
 * orchestrator asks each in turn for one measurement (interleaved in time).
 */
async function clientProcess(id) {
  if (pinned) execFileSync('taskset', ['-a', '-pc', '0', String(process.pid)], { stdio: 'ignore' });
  const mech = MECHANISMS.find((m) => m.id === id);
  const c = await client(mech);
  for (let i = 0; i < 2000; i++) await c.request(Buffer.alloc(PAYLOAD)); // warm-up
  process.on('message', async (m) => {
    if (m.window === undefined) {
      await c.close();
      process.exit(0);
    }
    process.send(await measure(c.request, m.window));
  });
  process.send({ ready: true });
}

function startClient(mech) {
  const proc = spawn(process.execPath, [__filename, '--client', mech.id], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise((r) => proc.once('message', r));
  const measure = (window) => {
    proc.send({ window });
    return next();
  };
  return { proc, ready: next(), measure };
}

async function main() {
  const placement = pinned ? 'pinned CPUs 0/1' : 'unpinned';
  // Every mechanism's client (a process each) and server are up at once, and each repetition
  // measures them in turn (interleaved: a drift of the machine touches all of them alike).
  const clients = MECHANISMS.map(startClient);
  await Promise.all(clients.map((c) => c.ready));
  const results = {};
  try {
    for (const window of WINDOWS) {
      const runs = MECHANISMS.map(() => []);
      const cpu = MECHANISMS.map(() => []);
      for (let k = 0; k < repetitions; k++) {
        for (let i = 0; i < MECHANISMS.length; i++) {
          const m = await clients[i].measure(window);
          runs[i].push(m.rate);
          cpu[i].push(m.cpu);
        }
      }
      MECHANISMS.forEach((mech, i) => {
        results[`${mech.id}/${window}`] = stats(runs[i]).median;
        const label = `${mech.mechanism}${mech.mode ? ` (${mech.mode})` : ''}`;
        progress(
          `${label}, ${window} in flight: ${stats(runs[i]).median.toFixed(0)} req/s [${Math.min(...runs[i]).toFixed(0)}–${Math.max(...runs[i]).toFixed(0)}], client CPU ${stats(cpu[i]).median.toFixed(1)} us/request`,
        );
        const base = { area: 'rpc', mechanism: mech.mechanism, payload: PAYLOAD, placement, baseline: mech.baseline };
        const mode = `${window} in flight${mech.mode ? `, ${mech.mode}` : ''}`;
        row({ ...base, mode, metric: 'req_per_s', runs: runs[i] });
        row({ ...base, mode, metric: 'cpu_us_per_msg', runs: cpu[i], note: "the client's CPU per request" });
        if (window === 1) row({ ...base, mode, metric: 'rtt_us', runs: runs[i].map((r) => 1e6 / r) });
      });
    }
  } finally {
    for (const c of clients) {
      c.proc.send({});
      await new Promise((r) => c.proc.once('exit', r));
    }
  }
  for (const window of WINDOWS) {
    const n = results[`net/${window}`];
    for (const [id, target] of [
      ['rpc-stream', 1.3],
      ['rpc-stream-spin', 1.3],
      ['rpc-mailbox', 3],
      ['rpc-mailbox-spin', 3],
    ]) {
      const ratio = results[`${id}/${window}`] / n;
      progress(`${id} / net, ${window} in flight: ${ratio.toFixed(2)}x (target >= ${target}x)`);
    }
  }
}

if (process.argv[2] === '--server') server(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--client') clientProcess(process.argv[3]);
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
