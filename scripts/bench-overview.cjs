// The tables at the top of docs/benchmarks.md ("the two models side by side") from one run's JSON:
//   node scripts/bench-overview.cjs [bench/results/latest.json]
'use strict';
const path = require('node:path');
const { stats } = require('../bench/lib/report.cjs');
const r = require(path.resolve(process.argv[2] ?? 'bench/results/latest.json'));
const f = (v) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
function table(title, pred, unit) {
  const rows = r.rows
    .filter(pred)
    .map((x) => ({ ...x, s: stats(x.runs) }))
    .sort((a, b) => a.s.median - b.s.median);
  let md = `\n**${title}** (${unit})\n\n| mechanism | mode | median [min–max] | placement |\n|---|---|---|---|\n`;
  for (const x of rows)
    md += `| ${x.baseline ? `${x.mechanism} *(baseline)*` : `**${x.mechanism}**`} | ${x.mode ?? ''} | ${f(x.s.median)} [${f(x.s.min)}–${f(x.s.max)}] | ${x.placement ?? ''} |\n`;
  return md;
}
let out = `Run ${r.env.date} · ${r.env.cpu} · ${r.env.cpus} CPUs · Linux ${r.env.kernel} · Node ${r.env.node}\n`;
out += table(
  'Round trip, 64 B or a bare flag, between two processes',
  (x) => x.metric === 'rtt_us' && (x.payload === 64 || x.payload == null) && ['shm', 'socket', 'mailbox'].includes(x.area),
  'µs, lower is better',
);
out += table('Throughput, 64 B messages', (x) => x.metric === 'msgs_per_s' && x.payload === 64, 'messages/s, higher is better');
out += table('Throughput, 64 KiB messages', (x) => x.metric === 'MB_per_s' && x.payload === 65536, 'MB/s, higher is better');
console.log(out);
