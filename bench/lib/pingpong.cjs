// The measuring loop of the ping side of a word ping-pong (bench/sides/*-pingpong.cjs): `reps`
// repetitions of `iters` round trips, the first tenth of each a warm-up. roundTrip() does one (sets
// the ping word, waits for the pong). Returns the mean round trip of each repetition in µs.
'use strict';

function measureRoundTrips(iters, reps, roundTrip) {
  const runs = [];
  for (let r = 0; r < reps; r++) {
    const warm = iters / 10;
    let t0 = 0n;
    for (let i = 0; i < iters; i++) {
      if (i === warm) t0 = process.hrtime.bigint();
      roundTrip();
    }
    runs.push(Number(process.hrtime.bigint() - t0) / 1e3 / (iters - warm));
  }
  return runs;
}

module.exports = { measureRoundTrips };
