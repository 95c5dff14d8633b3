// A reader: sleeps (without blocking its event loop) until the writer publishes a frame, then copies a
// consistent snapshot with the seqlock protocol and checks it.
'use strict';
const { SharedMemory, futex } = require('../../dist');
const { NAME, PARTICLES, views } = require('./layout');

async function main() {
  const shm = SharedMemory.open(NAME, { readonly: false });
  const { words, particles } = views(shm);
  const snapshot = new Float64Array(PARTICLES * 4);
  let seen = 0,
    retries = 0,
    torn = 0,
    lastFrame = 0;
  while (Atomics.load(words, 2) === 0) {
    const r = await futex.waitAsync(words, 1, lastFrame, 1000);
    if (r === 'timed-out') continue;
    lastFrame = Atomics.load(words, 1);
    for (;;) {
      const s1 = Atomics.load(words, 0);
      if (s1 & 1) {
        retries++;
        continue;
      }
      snapshot.set(particles);
      if (Atomics.load(words, 0) === s1) break;
      retries++;
    }
    let sum = 0;
    for (let i = 0; i < (PARTICLES - 1) * 4; i += 4) sum += snapshot[i];
    if (sum !== snapshot[(PARTICLES - 1) * 4] && lastFrame > 0 && snapshot[(PARTICLES - 1) * 4] !== 0) torn++;
    seen++;
  }
  shm.close();
  console.log(JSON.stringify({ role: 'reader', pid: process.pid, framesSeen: seen, seqlockRetries: retries, torn }));
}
main();
