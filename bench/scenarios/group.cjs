// Process-group benchmarks (area 'group'): barrier and allReduce (sum) of 1, 1 024 and 1 M doubles
// with 2, 3 and 4 processes, in polling mode and in sleeping mode (with its CPU time per operation),
// beside Open MPI running the same operations in the same run (native/bench/mpi_bench.c, compiled
// here with mpicc and started with mpirun; skipped with a clear line when Open MPI is absent). The
// 'x_openmpi' rows are each interproc time divided by Open MPI's for the same operation and size
// (targets: polling barrier and small allReduce <= 2, 1 M-double allReduce < 1).
// Usage: node bench/scenarios/group.cjs [--quick]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { row, progress, stats, repetitions, quick } = require('../lib/report.cjs');
const root = path.join(__dirname, '..', '..');
const { spawnGroup } = require(root);

const SIZES = quick ? [2, 4] : [2, 3, 4];
const asRoot = process.getuid && process.getuid() === 0 ? ['--allow-run-as-root'] : [];

function openMpi(size) {
  const have = (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
  if (!have('mpicc') || !have('mpirun')) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-mpibench-'));
  try {
    const exe = path.join(dir, 'mpi_bench');
    const cc = spawnSync('mpicc', ['-O2', '-o', exe, path.join(root, 'native/bench/mpi_bench.c')], { stdio: 'inherit' });
    if (cc.status !== 0) return null;
    const args = [
      ...asRoot,
      '--mca',
      'btl',
      'self,vader',
      ...(size > 2 ? ['--oversubscribe'] : ['--bind-to', 'core']),
      '-np',
      String(size),
      exe,
      String(repetitions),
    ];
    const r = spawnSync('mpirun', args, { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) {
      progress(`mpirun failed: ${r.stderr.slice(0, 300)}`);
      return null;
    }
    return r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function interproc(size, mode) {
  const g = await spawnGroup(path.join(root, 'bench/sides/group-member.cjs'), {
    size,
    args: [mode, String(repetitions)],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let results = null;
  g.processes[0].on('message', (m) => (results = m));
  const exits = await g.exited;
  if (exits.some((e) => e.code !== 0)) throw new Error(`a member failed: ${JSON.stringify(exits)}`);
  return results;
}

async function main() {
  for (const size of SIZES) {
    progress(`Open MPI, ${size} processes`);
    const mpi = openMpi(size);
    if (mpi === null)
      progress('Open MPI not found (mpicc/mpirun of Debian openmpi-bin, libopenmpi-dev): no rival rows, no ratios');
    for (const r of mpi ?? []) row(r);
    for (const mode of ['poll', 'sleep']) {
      progress(`interproc, ${size} processes, ${mode}`);
      const { results, pinned } = await interproc(size, mode);
      for (const { name, runs, cpu, warm } of results) {
        const placement = `${size} processes`;
        const note = `size ${size}, after ${warm} warm-up rounds${pinned ? ', member k on CPU k (as mpirun --bind-to core)' : ''}`;
        row({ area: 'group', mechanism: `interproc ${name}`, mode, metric: 'us_per_op', placement, runs, note });
        if (mode === 'sleep')
          row({
            area: 'group',
            mechanism: `interproc ${name}`,
            mode,
            metric: 'cpu_us_per_op',
            placement,
            runs: cpu,
            note: `rank 0's CPU, size ${size}`,
          });
        const rival = (mpi ?? []).find((r) => r.mechanism === `Open MPI ${name}`);
        if (rival) {
          const ratio = stats(runs).median / stats(rival.runs).median;
          row({
            area: 'group',
            mechanism: `interproc ${name}`,
            mode,
            metric: 'x_openmpi',
            placement,
            runs: [ratio],
            note: `median / Open MPI's median, size ${size}`,
          });
        }
      }
    }
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
