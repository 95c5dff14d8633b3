// The physics writer: steps 1000 particles at ~200 Hz and publishes each frame under a seqlock, then
// wakes readers sleeping on the frame word. Readers never block it.
'use strict';
const { SharedMemory, futex } = require('../../dist');
const { BYTES, NAME, PARTICLES, views } = require('./layout');

const frames = Number(process.argv[2] || 200);
const shm = SharedMemory.open(NAME);
const { words, particles } = views(shm);

for (let i = 0; i < PARTICLES; i++) {
  particles.set([Math.random(), Math.random(), Math.random() - 0.5, Math.random() - 0.5], i * 4);
}
let frame = 0;
const timer = setInterval(() => {
  Atomics.add(words, 0, 1); // odd: writing
  for (let i = 0; i < PARTICLES * 4; i += 4) {
    particles[i] += particles[i + 2] * 0.005;
    particles[i + 1] += particles[i + 3] * 0.005;
    if (particles[i] < 0 || particles[i] > 1) particles[i + 2] = -particles[i + 2];
    if (particles[i + 1] < 0 || particles[i + 1] > 1) particles[i + 3] = -particles[i + 3];
  }
  // A checksum particle: the last x is the sum of all others, so a torn read is detectable.
  let sum = 0;
  for (let i = 0; i < (PARTICLES - 1) * 4; i += 4) sum += particles[i];
  particles[(PARTICLES - 1) * 4] = sum;
  Atomics.add(words, 0, 1); // even: consistent
  Atomics.store(words, 1, ++frame);
  futex.wake(words, 1);
  if (frame === frames) {
    clearInterval(timer);
    Atomics.store(words, 2, 1);
    Atomics.add(words, 1, 1);
    futex.wake(words, 1);
    shm.close();
    console.log(JSON.stringify({ role: 'writer', frames, bytes: BYTES }));
  }
}, 5);
