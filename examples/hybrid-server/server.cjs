// One process of the hybrid server (seed section 9): processes exchange messages (a ProcessGroup),
// and inside each process worker threads share one segment and synchronise with a Mutex of this
// library. Rank 0 serves HTTP and hands each request to a process, round robin, by a message; that
// process splits the work over its threads, which add their parts into the shared total under the
// mutex; the answer comes back to rank 0 by a message.
'use strict';
const http = require('node:http');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { joinGroup, SharedMemory, Mutex } = require('../..');

const THREADS = Number(process.env.HYBRID_THREADS ?? 3);
const JOB = 1,
  ANSWER = 2,
  STATS = 3,
  STATS_REPLY = 4,
  QUIT = 5;
// Segment: a Mutex at 0, the total (Float64) at 64, per-thread job counts (Int32) from 128.
const TOTAL_AT = 64,
  COUNTS_AT = 128;

async function main() {
  const g = await joinGroup();
  const name = `/interproc-hybrid-${process.pid}`;
  const shm = SharedMemory.create(name, { size: 4096 });
  Mutex.initAt(shm, 0);
  const workers = [];
  for (let t = 0; t < THREADS; t++)
    workers.push(new Worker(path.join(__dirname, 'thread.cjs'), { workerData: { name, index: t } }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r)))); // each has opened the segment
  SharedMemory.unlink(name);
  const mutex = Mutex.openAt(shm, 0);
  const total = new Float64Array(shm.buffer, TOTAL_AT, 1);
  const counts = new Int32Array(shm.buffer, COUNTS_AT, THREADS);

  // One job at a time per process: the threads share one total.
  let queue = Promise.resolve();
  const compute = (n) => {
    const run = queue.then(() => computeNow(n));
    queue = run.catch(() => {});
    return run;
  };
  /** Sum of squares of 1..n, computed by every thread of this process over its share. */
  async function computeNow(n) {
    const guard = await mutex.lock();
    total[0] = 0;
    guard.unlock();
    const done = workers.map((w) => new Promise((r) => w.once('message', r)));
    for (const [t, w] of workers.entries()) {
      w.postMessage({ from: Math.floor((t * n) / THREADS) + 1, to: Math.floor(((t + 1) * n) / THREADS) });
    }
    await Promise.all(done);
    return total[0];
  }

  // Every process: serve the jobs and questions that come by message.
  const serving = (async () => {
    for (;;) {
      const { from, tag, data } = await g.receive({ from: 0 });
      if (tag === JOB) g.send(0, { id: data.id, answer: await compute(data.n), rank: g.rank }, { tag: ANSWER });
      else if (tag === STATS) g.send(0, { rank: g.rank, threads: Array.from(counts) }, { tag: STATS_REPLY });
      else if (tag === QUIT) return from;
    }
  })();

  if (g.rank === 0) {
    let next = 0;
    let ids = 0;
    const pending = new Map();
    const answers = (async () => {
      for (;;) {
        const { data } = await g.receive({ tag: ANSWER });
        pending.get(data.id)?.(data);
        pending.delete(data.id);
      }
    })();
    answers.catch(() => {});
    const ask = async (to, n) => {
      const id = ids++;
      const reply = new Promise((r) => pending.set(id, r));
      if (to === 0) return { id, answer: await compute(n), rank: 0 };
      g.send(to, { id, n }, { tag: JOB });
      return reply;
    };
    const server = http.createServer(async (req, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname === '/sum') {
        const n = Number(url.searchParams.get('n'));
        const r = await ask(next++ % g.size, n);
        res.end(JSON.stringify({ n, answer: r.answer, rank: r.rank }));
      } else if (url.pathname === '/stats') {
        const stats = [{ rank: 0, threads: Array.from(counts) }];
        for (let k = 1; k < g.size; k++) g.send(k, null, { tag: STATS });
        for (let k = 1; k < g.size; k++) stats.push((await g.receive({ from: k, tag: STATS_REPLY })).data);
        res.end(JSON.stringify(stats.sort((a, b) => a.rank - b.rank)));
      } else if (url.pathname === '/quit') {
        res.end('bye');
        for (let k = 1; k < g.size; k++) g.send(k, null, { tag: QUIT });
        server.close();
        setTimeout(() => finish(), 100);
      } else res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
  } else {
    await serving;
    finish();
  }

  async function finish() {
    await Promise.all(workers.map((w) => w.terminate()));
    shm.close();
    g.close();
    process.exit(0);
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
