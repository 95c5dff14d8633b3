// A worker thread of the hybrid server: adds the squares of its share into the process's shared
// total, under the shared Mutex, and counts its jobs in the segment.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { SharedMemory, Mutex } = require('../..');

const shm = SharedMemory.open(workerData.name);
const mutex = Mutex.openAt(shm, 0);
const total = new Float64Array(shm.buffer, 64, 1);
const counts = new Int32Array(shm.buffer, 128, 64);
parentPort.postMessage('ready');
parentPort.on('message', ({ from, to }) => {
  let part = 0;
  for (let i = from; i <= to; i++) part += i * i;
  const guard = mutex.lockSync();
  total[0] += part;
  guard.unlock();
  Atomics.add(counts, workerData.index, 1);
  parentPort.postMessage('done');
});
