// One side of a Node ping-pong over a SharedMemory word pair. Run pinned with taskset by
// bench/scenarios/shm.cjs: `ping` measures and prints the mean round trip per repetition (JSON).
//   node shm-pingpong.cjs <ping|pong> <segment name> <mode: futex|spin|hybrid> <iters> <reps>
'use strict';
const { measureRoundTrips } = require('../lib/pingpong.cjs');
const { SharedMemory, futex } = require('../../dist');
const [role, name, mode, itersArg, repsArg] = process.argv.slice(2);
const iters = Number(itersArg);
const reps = Number(repsArg);
const shm = SharedMemory.open(name);
// Words: [0] ping value, [16] ping sleeping, [32] pong value, [48] pong sleeping (separate cache lines)
const w = new Int32Array(shm.buffer);
const POLLS = mode === 'hybrid' ? 20000 : mode === 'spin' ? Infinity : 0;

function awaitValue(at, want) {
  for (let i = 0; i < POLLS; i++) if (Atomics.load(w, at) === want) return;
  for (;;) {
    const v = Atomics.load(w, at);
    if (v === want) return;
    Atomics.store(w, at + 16, 1);
    if (Atomics.load(w, at) !== want) futex.wait(w, at, v, 100);
    Atomics.store(w, at + 16, 0);
  }
}
function setValue(at, v) {
  Atomics.store(w, at, v);
  if (mode !== 'spin' && Atomics.load(w, at + 16) === 1) futex.wake(w, at, 1);
}

let seq = 0;
if (role === 'pong') {
  for (;;) {
    seq++;
    awaitValue(0, seq);
    if (Atomics.load(w, 64) === 1) break; // stop flag
    setValue(32, seq);
  }
} else {
  const runs = measureRoundTrips(iters, reps, () => {
    seq++;
    setValue(0, seq);
    awaitValue(32, seq);
  });
  Atomics.store(w, 64, 1);
  setValue(0, seq + 1);
  process.stdout.write(JSON.stringify(runs));
}
shm.close();
