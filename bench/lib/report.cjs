// The contract between bench scenarios and the runner (bench/index.cjs).
// A scenario is a script in bench/scenarios/ run in a fresh process; it measures, shows progress on
// stderr, and writes one JSON line per result row to stdout with row(). Native benchmarks
// (native/bench/*_bench.cpp) print the same JSON rows.
//
// Row fields:
//   area      'shm' | 'sync' | 'socket' | 'mailbox' | 'dsm' | 'baseline' ...  (a table per area)
//   mechanism what is measured, e.g. 'interproc Mutex', 'Node net over Unix socket'
//   mode      e.g. 'sync', 'async', 'spin', 'futex', 'json'
//   payload   bytes, or null
//   metric    'rtt_us' | 'one_way_us' | 'msgs_per_s' | 'MB_per_s' | 'ns_per_op' | 'cpu_us_per_msg'
//   runs      the value of each repetition (the runner reports median [min-max])
//   placement e.g. 'pinned CPUs 0/1', 'unpinned', 'both on CPU 0'
//   baseline  true for rows that are not this library (Node built-ins, C, peers)
//   note      free text
'use strict';

function row(r) {
  const out = { area: 'misc', mode: '', payload: null, placement: 'unpinned', baseline: false, note: '', ...r };
  if (!Array.isArray(out.runs) || out.runs.length === 0) throw new Error('row needs runs[]');
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function progress(message) {
  process.stderr.write(`  .. ${message}\n`);
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

// Percentile of a sorted or unsorted list of samples (p in 0..100).
function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round((p / 100) * (s.length - 1))))];
}

// Repetitions per measurement: 5 by default, 3 with --quick (or BENCH_QUICK=1).
const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const repetitions = quick ? 3 : 5;

// CPU time of this process in microseconds (user + system).
function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

module.exports = { row, progress, stats, percentile, repetitions, quick, cpuMicros };
