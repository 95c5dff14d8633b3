// The round-trip loop shared by the Node sides of the suite: `reps` repetitions of `rounds` calls of
// once(i) (each one round trip that checks its own reply), after a warm-up of `warmMs`. Every round
// trip goes into one log-linear histogram (dist/cli/compare/histogram.js, the one `interproc
// compare` uses), so a row carries p50/p99/p99.9 besides the per-repetition means (its spread).
'use strict';
const { Histogram } = require('../../dist/cli/compare/histogram');

async function roundTripRuns(once, { reps, rounds, warmMs = 300 }) {
  const warmEnd = performance.now() + warmMs;
  for (let i = 0; performance.now() < warmEnd; i++) await once(i);
  const h = new Histogram();
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    let prev = t0;
    for (let i = 0; i < rounds; i++) {
      await once(i);
      const now = performance.now();
      h.record((now - prev) * 1e6);
      prev = now;
    }
    runs.push(((prev - t0) * 1000) / rounds);
  }
  return { runs, percentiles: percentilesOf(h) };
}

// µs, from a histogram of ns.
function percentilesOf(h) {
  return { p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, p999: h.percentile(99.9) / 1000 };
}

// A 64 B (or `size`) message for round trip i, and its check: the sequence at both ends.
function message(size, i) {
  const b = Buffer.alloc(size, 0x5a);
  b.writeUInt32LE(i >>> 0, 0);
  b.writeUInt32LE(i >>> 0, size - 4);
  return b;
}
function checkMessage(b, size, i) {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer ?? b, b.byteOffset ?? 0, b.byteLength ?? b.length);
  if (buf.length !== size || buf.readUInt32LE(0) !== i >>> 0 || buf.readUInt32LE(size - 4) !== i >>> 0)
    throw new Error(`wrong reply to message ${i}`);
}

module.exports = { roundTripRuns, percentilesOf, message, checkMessage, Histogram };
