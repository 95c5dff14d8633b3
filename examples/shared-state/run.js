// Runs the game-engine-like shared state demo: one physics writer and three readers, each a separate
// Node process, sharing one SharedMemory segment. Usage: node examples/shared-state/run.js [frames]
'use strict';
const { fork } = require('node:child_process');
const path = require('node:path');
const { SharedMemory } = require('../../dist');

const name = `/interproc-example-state-${process.pid}`;
const { BYTES } = require('./layout');
const shm = SharedMemory.create(name, { size: BYTES });
const env = { ...process.env, STATE_NAME: name };
const frames = process.argv[2] || '200';
const procs = [
  ...[1, 2, 3].map(() => fork(path.join(__dirname, 'reader.js'), [], { env })),
  fork(path.join(__dirname, 'writer.js'), [frames], { env }),
];
let left = procs.length;
for (const p of procs) {
  p.on('exit', () => {
    if (--left === 0) {
      shm.close();
      SharedMemory.unlink(name);
    }
  });
}
