// The shared state's layout, used by the writer and every reader (one segment, no hidden header):
//   Int32 word 0: sequence  (seqlock: odd while the writer is writing a frame)
//   Int32 word 1: frame     (bumped after each frame; readers futex-wait on it)
//   Int32 word 2: stop      (1 when the writer is done)
//   Float64 from byte 64: particles, 4 doubles each: x, y, vx, vy
'use strict';
const PARTICLES = 1000;
const BYTES = 64 + PARTICLES * 4 * 8;
const NAME = process.env.STATE_NAME || `/interproc-example-state-${process.ppid}`;

function views(shm) {
  return { words: new Int32Array(shm.buffer, 0, 16), particles: new Float64Array(shm.buffer, 64, PARTICLES * 4) };
}

module.exports = { PARTICLES, BYTES, NAME, views };
