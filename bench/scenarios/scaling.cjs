// Scaling: aggregate one-way throughput of 64 B messages with 1, 2, 3 and 4 process pairs streaming
// at once, for channels (Unix stream sockets) and mailboxes, measured with the engine of
// `interproc compare` (dist/cli/compare/measure.js): every receiver counts per time slice, the
// slices of all pairs are added up. Senders on CPU 0, receivers on CPU 1 (taskset), as in compare.
// Run: node bench/scenarios/scaling.cjs [--quick]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { row, progress, repetitions, quick } = require('../lib/report.cjs');
const { columnById } = require('../../dist/cli/compare/columns');
const { stream } = require('../../dist/cli/compare/measure');
const { placement } = require('../../dist/cli/compare/pin');

const MECHANISM = { channel: 'interproc channel (Unix stream)', mailbox: 'interproc Mailbox' };

(async () => {
  const place = placement();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-bench-scaling-'));
  const env = { place, dir, sliceMs: 50 };
  const ms = quick ? 400 : 1000;
  const acc = {};
  try {
    for (let r = 0; r < repetitions; r++) {
      for (const pairs of [1, 2, 3, 4]) {
        for (const id of ['channel', 'mailbox']) {
          const res = await stream(columnById(id), env, 64, ms, pairs);
          const k = `${id}|${pairs}`;
          acc[k] ??= { runs: [], cpu: [] };
          acc[k].runs.push(res.msgsPerS.median);
          acc[k].cpu.push(res.cpuUsPerMsg);
          progress(`${id} ${pairs} pair(s): ${Math.round(res.msgsPerS.median)} msgs/s (${r + 1}/${repetitions})`);
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const [k, v] of Object.entries(acc)) {
    const [id, pairs] = k.split('|');
    const common = {
      area: 'scaling',
      mechanism: MECHANISM[id],
      mode: `${pairs} pair${pairs === '1' ? '' : 's'}`,
      payload: 64,
      pairs: Number(pairs),
      placement: place.pinned ? 'senders CPU 0, receivers CPU 1' : 'unpinned',
    };
    row({
      ...common,
      metric: 'msgs_per_s',
      runs: v.runs,
      note: 'aggregate of all pairs; await send() / await receive() per message',
    });
    row({ ...common, metric: 'cpu_us_per_msg', runs: v.cpu, note: 'CPU of every process per message' });
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
