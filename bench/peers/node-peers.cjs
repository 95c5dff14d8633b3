// The Node-side peers of bench/scenarios/peers.cjs, each the plainest program its user would write:
//   node node-peers.cjs redis <json>        ioredis against a redis-server on a Unix socket
//   node node-peers.cjs zmq-rep <json>      zeromq.js REP / PULL side (a separate process)
//   node node-peers.cjs zmq <json>          zeromq.js REQ round trips, PUSH throughput
//   node node-peers.cjs worker <json>       worker_threads + MessagePort (one process, a reference)
// Prints one JSON row per result on stdout (bench/lib/report.cjs contract).
'use strict';
const { row } = require('../lib/report.cjs');
const { roundTripRuns, message, checkMessage } = require('../lib/rtt.cjs');

const [role, argJson] = process.argv.slice(2);
const args = JSON.parse(argJson || '{}');
const { reps = 5, rounds = 3000, count = 100000 } = args;

async function redis() {
  const Redis = require('ioredis');
  const client = new Redis({ path: args.socket, lazyConnect: true, enableAutoPipelining: false, maxRetriesPerRequest: 1 });
  await client.connect();
  const common = { area: 'peers', payload: 64, baseline: true, peer: 'redis', placement: 'unpinned' };
  // GET of a value just SET: the shared-state peer (shared memory over messages, as a user builds it)
  const get = await roundTripRuns(
    async (i) => {
      const v = message(64, i);
      await client.set('k', v);
      checkMessage(await client.getBuffer('k'), 64, i);
    },
    { reps, rounds },
  );
  row({
    ...common,
    mechanism: 'Redis via ioredis, Unix socket',
    mode: 'SET + GET',
    metric: 'rtt_us',
    ...get,
    note: 'two requests per round',
  });
  let expect = Number(await client.incr('n'));
  const incr = await roundTripRuns(
    async () => {
      const v = await client.incr('n');
      if (v !== ++expect) throw new Error('INCR out of step');
    },
    { reps, rounds },
  );
  row({
    ...common,
    mechanism: 'Redis via ioredis, Unix socket',
    mode: 'INCR',
    payload: null,
    metric: 'rtt_us',
    ...incr,
    note: 'one in flight',
  });
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < count; i += 100) {
      const p = client.pipeline();
      for (let k = 0; k < 100; k++) p.set(`k${k}`, message(64, i + k));
      const res = await p.exec();
      if (res.length !== 100 || res.some(([err]) => err)) throw new Error('pipeline failed');
    }
    runs.push(count / ((performance.now() - t0) / 1000));
  }
  row({ ...common, mechanism: 'Redis via ioredis, Unix socket', mode: 'SET pipelined ×100', metric: 'msgs_per_s', runs });
  client.disconnect();
}

async function zmqRep() {
  const zmq = require('zeromq');
  const rep = new zmq.Reply();
  await rep.bind(`${args.endpoint}-rr`);
  const pull = new zmq.Pull();
  await pull.bind(`${args.endpoint}-pp`);
  const ack = new zmq.Push();
  await ack.bind(`${args.endpoint}-ack`);
  process.stdout.write('ready\n');
  (async () => {
    for await (const [m] of rep) await rep.send(m);
  })();
  let seen = 0;
  for await (const [m] of pull) {
    if (m.length === 0) break;
    if (++seen % 256 === 0) await ack.send('a'); // one acknowledgement per 256 messages
  }
  process.exit(0);
}

async function zmq() {
  const zmq = require('zeromq');
  const req = new zmq.Request();
  req.connect(`${args.endpoint}-rr`);
  const common = { area: 'peers', mechanism: 'zeromq.js, ipc://', baseline: true, peer: 'zeromq', placement: 'unpinned' };
  const rr = await roundTripRuns(
    async (i) => {
      await req.send(message(64, i));
      const [m] = await req.receive();
      checkMessage(m, 64, i);
    },
    { reps, rounds },
  );
  row({ ...common, mode: 'REQ/REP', payload: 64, metric: 'rtt_us', ...rr, note: 'await send() + receive()' });
  const push = new zmq.Push();
  push.connect(`${args.endpoint}-pp`);
  const ack = new zmq.Pull();
  ack.connect(`${args.endpoint}-ack`);
  for (const size of args.sizes) {
    const n = Math.max(256, Math.floor((size > 64 ? count / 50 : count) / 256) * 256);
    const runs = [];
    for (let r = -1; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await push.send(message(size, i));
      for (let k = 0; k < n / 256; k++) await ack.receive(); // the PULL side acknowledges every 256
      if (r >= 0) runs.push(n / ((performance.now() - t0) / 1000));
    }
    row({
      ...common,
      mode: 'PUSH/PULL',
      payload: size,
      metric: 'msgs_per_s',
      runs,
      note: `await send() per message; ${n} per repetition`,
    });
    if (size > 64)
      row({ ...common, mode: 'PUSH/PULL', payload: size, metric: 'MB_per_s', runs: runs.map((v) => (v * size) / 1e6) });
  }
  await push.send(Buffer.alloc(0));
  req.close();
  push.close();
  ack.close();
}

async function worker() {
  const { Worker, MessageChannel } = require('node:worker_threads');
  const { port1, port2 } = new MessageChannel();
  const w = new Worker(
    `const { workerData } = require('node:worker_threads');
     const port = workerData.port;
     let seen = 0;
     port.on('message', (m) => {
       if (m.kind === 'echo') port.postMessage(m);
       else if (++seen === m.window) { seen = 0; port.postMessage({ kind: 'ack' }); }
     });`,
    { eval: true, workerData: { port: port2 }, transferList: [port2] },
  );
  let wake;
  port1.on('message', (m) => wake(m));
  const common = {
    area: 'peers',
    mechanism: 'Node worker_threads MessagePort',
    baseline: true,
    peer: 'worker_threads',
    placement: 'unpinned',
  };
  const rr = await roundTripRuns(
    async (i) => {
      const p = new Promise((r) => (wake = r));
      port1.postMessage({ kind: 'echo', data: new Uint8Array(message(64, i)) });
      checkMessage((await p).data, 64, i);
    },
    { reps, rounds },
  );
  row({
    ...common,
    mode: 'postMessage (structured clone)',
    payload: 64,
    metric: 'rtt_us',
    ...rr,
    note: 'one process: a reference, not IPC',
  });
  for (const size of args.sizes) {
    const window = size > 64 ? 16 : 256;
    const n = (size > 64 ? 1000 : count / 4) - ((size > 64 ? 1000 : count / 4) % window);
    const runs = [];
    const data = new Uint8Array(size);
    for (let r = -1; r < reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i += window) {
        const p = new Promise((res) => (wake = res));
        for (let k = 0; k < window; k++) port1.postMessage({ kind: 'data', window, data });
        await p;
      }
      if (r >= 0) runs.push(n / ((performance.now() - t0) / 1000));
    }
    row({
      ...common,
      mode: 'postMessage (structured clone)',
      payload: size,
      metric: 'msgs_per_s',
      runs,
      note: `window ${window}`,
    });
    if (size > 64)
      row({
        ...common,
        mode: 'postMessage (structured clone)',
        payload: size,
        metric: 'MB_per_s',
        runs: runs.map((v) => (v * size) / 1e6),
      });
  }
  await w.terminate();
}

const roles = { redis, 'zmq-rep': zmqRep, zmq, worker };
Promise.resolve(roles[role]()).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
