// Baseline: the same ping-pong between two worker threads of one process over a SharedArrayBuffer
// with Atomics.wait/notify (what Node offers without this library; threads only).
'use strict';
const { measureRoundTrips } = require('../lib/pingpong.cjs');
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const mode = process.argv[2] ?? workerData?.mode;
const iters = Number(process.argv[3] ?? workerData?.iters);
const reps = Number(process.argv[4] ?? workerData?.reps);
const POLLS = mode === 'spin' ? Infinity : 0;

function side(w, role) {
  const awaitValue = (at, want) => {
    for (let i = 0; i < POLLS; i++) if (Atomics.load(w, at) === want) return;
    while (Atomics.load(w, at) !== want) Atomics.wait(w, at, Atomics.load(w, at), 100);
  };
  const setValue = (at, v) => {
    Atomics.store(w, at, v);
    if (mode !== 'spin') Atomics.notify(w, at, 1);
  };
  let seq = 0;
  if (role === 'pong') {
    for (let i = 0; i < iters * reps; i++) {
      seq++;
      awaitValue(0, seq);
      setValue(32, seq);
    }
    return null;
  }
  const runs = measureRoundTrips(iters, reps, () => {
    seq++;
    setValue(0, seq);
    awaitValue(32, seq);
  });
  return runs;
}

if (isMainThread) {
  const sab = new SharedArrayBuffer(4096);
  const pong = new Worker(__filename, { workerData: { mode, iters, reps, sab, role: 'pong' } });
  const ping = new Worker(__filename, { workerData: { mode, iters, reps, sab, role: 'ping' } });
  ping.on('message', (runs) => process.stdout.write(JSON.stringify(runs)));
  pong.on('error', (e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const result = side(new Int32Array(workerData.sab), workerData.role);
  if (result) parentPort.postMessage(result);
}
