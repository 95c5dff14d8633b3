#!/usr/bin/env node
// The benchmark runner: builds the native benchmarks, runs every scenario (bench/scenarios/*.cjs)
// and every native benchmark (build-native/*_bench) in a fresh process, and writes into the results
// folder:
//   <stamp>.json  every row with all repetitions (and p50/p99/p99.9 where a histogram was kept)
//   <stamp>.md    tables: median [min–max], percentiles, and each Node row as a ratio to its native
//                 floor and to the best peer of this run
//   <stamp>-*.svg one chart per question (latency against message size, throughput against message
//                 size and against process pairs, every contender at 64 B)
// A full run writes bench/results/ (and latest.*); --quick writes a temporary folder unless --out.
//
//   npm run bench -- [--quick] [--only socket,peers] [--no-native] [--out DIR] [--json] [--from FILE]
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { stats } = require('./lib/report.cjs');
const { lineChart, barChart, size } = require('./lib/chart.cjs');

const root = path.join(__dirname, '..');
const USAGE = `npm run bench -- [options]
  --quick          fewer repetitions, shorter runs (results go to a temporary folder unless --out)
  --only A,B       only scenarios / native benchmarks whose file name starts with A or B
  --no-native      skip the native floors (build-native/*_bench)
  --out DIR        write the results there (default: bench/results for a full run)
  --json           print the results as JSON instead of Markdown
  --from FILE      measure nothing: remake tables and charts from a results JSON`;
const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-native': { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    from: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const quick = opt.quick;
const only = opt.only ? opt.only.split(',') : null;
const committed = path.join(__dirname, 'results');
const outDir = opt.out
  ? path.resolve(opt.out)
  : quick || only || opt.from
    ? fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-bench-'))
    : committed;

const METRIC = {
  rtt_us: { label: 'round trip, µs', lowerIsBetter: true },
  one_way_us: { label: 'one way, µs', lowerIsBetter: true },
  msgs_per_s: { label: 'messages/s', lowerIsBetter: false },
  ops_per_s: { label: 'operations/s', lowerIsBetter: false },
  MB_per_s: { label: 'MB/s', lowerIsBetter: false },
  ns_per_op: { label: 'ns per operation', lowerIsBetter: true },
  cpu_us_per_msg: { label: 'CPU µs per message', lowerIsBetter: true },
  req_per_s: { label: 'requests/s', lowerIsBetter: false },
  p50_us: { label: 'p50 latency, µs', lowerIsBetter: true },
  p99_us: { label: 'p99 latency, µs', lowerIsBetter: true },
  ratio: { label: 'ratio in one run (the target is in the mode column)', lowerIsBetter: false },
  us_per_op: { label: 'µs per operation', lowerIsBetter: true },
  cpu_us_per_op: { label: 'CPU µs per operation', lowerIsBetter: true },
  x_openmpi: { label: "time as a multiple of Open MPI's", lowerIsBetter: true },
};

// Rough seconds per program in a full run, for the estimate of the time left (corrected as it goes).
const EXPECTED = {
  'mailbox.cjs': 150,
  'mailbox-hotpath.cjs': 30,
  'peers.cjs': 90,
  'scaling.cjs': 60,
  'shm.cjs': 40,
  'socket.cjs': 60,
  'sync.cjs': 60,
};
const expected = (name) => (EXPECTED[name] ?? 30) * (quick ? 0.4 : 1);

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

const clock = (s) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;

function runOne(label, cmd, cmdArgs, notes) {
  return new Promise((resolve) => {
    const started = Date.now();
    log(label);
    const child = spawn(cmd, cmdArgs, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BENCH_QUICK: quick ? '1' : '' },
    });
    const rows = [];
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          const r = JSON.parse(line);
          if (r.skip) {
            notes.push(`skipped ${r.skip}`);
            continue;
          }
          rows.push(r);
          const s = stats(r.runs);
          const pct = r.percentiles ? ` (p99 ${r.percentiles.p99.toPrecision(3)})` : '';
          log(
            `    ${r.mechanism} ${r.mode ?? ''} ${r.payload != null ? size(r.payload) : ''}: ${r.metric} ${s.median.toPrecision(4)}${pct}`,
          );
        } catch {
          log(`    ${line}`);
        }
      }
    });
    child.stderr.on('data', (d) => process.stderr.write(String(d).replace(/^/gm, '    ')));
    child.on('exit', (code, signal) => {
      const took = (Date.now() - started) / 1000;
      if (code || signal)
        notes.push(
          `${cmdArgs.find((a) => a.endsWith('.cjs')) ?? cmd} ended with ${signal ?? `exit ${code}`}: its rows may be missing`,
        );
      log(`    done in ${took.toFixed(1)} s${code ? ` (exit ${code})` : ''}${signal ? ` (${signal})` : ''}`);
      resolve({ rows, took });
    });
  });
}

function buildNative() {
  log('[build] native benchmarks (cmake, build-native)');
  const c = spawnSync('cmake', ['-S', '.', '-B', 'build-native', '-DCMAKE_BUILD_TYPE=Release'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const b = spawnSync('cmake', ['--build', 'build-native', '-j', '2'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return c.status === 0 && b.status === 0;
}

function fmtVal(v) {
  if (!Number.isFinite(v)) return '—';
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(3);
}

// ---- ratios: every Node row against its native floor and the best peer of the same run ----
const isFloor = (r) => r.floor ?? (r.baseline && /^C(\+\+)? /.test(r.mechanism));
const isPeer = (r) => r.baseline && !isFloor(r) && r.metric !== 'cpu_us_per_msg';
const sameKind = (a, b) => a.metric === b.metric && a.payload === b.payload && (a.pairs ?? 1) === (b.pairs ?? 1);
function best(rows, metric) {
  const lower = METRIC[metric]?.lowerIsBetter ?? true;
  let pick = null;
  for (const r of rows) {
    const m = stats(r.runs).median;
    if (pick === null || (lower ? m < pick.m : m > pick.m)) pick = { r, m };
  }
  return pick;
}
function ratios(all) {
  for (const r of all) {
    if (r.baseline) continue;
    const m = stats(r.runs).median;
    const floor = best(
      all.filter((f) => isFloor(f) && sameKind(f, r)),
      r.metric,
    );
    const peer = best(
      all.filter((p) => isPeer(p) && sameKind(p, r)),
      r.metric,
    );
    if (floor) r.vsFloor = { ratio: m / floor.m, of: `${floor.r.mechanism} ${floor.r.mode ?? ''}`.trim() };
    if (peer) r.vsBestPeer = { ratio: m / peer.m, of: `${peer.r.mechanism} ${peer.r.mode ?? ''}`.trim() };
  }
}

function table(rows) {
  let md =
    '| mechanism | mode | payload | median | min–max | p50 / p99 / p99.9 | × floor | × best peer | placement | note |\n|---|---|---|---|---|---|---|---|---|---|\n';
  for (const r of rows) {
    const s = stats(r.runs);
    const name = r.baseline ? `${r.mechanism} *(${isFloor(r) ? 'floor' : 'baseline'})*` : `**${r.mechanism}**`;
    const pct = r.percentiles
      ? `${fmtVal(r.percentiles.p50)} / ${fmtVal(r.percentiles.p99)} / ${fmtVal(r.percentiles.p999)}`
      : '';
    const vs = (x) => (x ? `${x.ratio.toPrecision(3)} *(${x.of})*` : '');
    md += `| ${name} | ${r.mode ?? ''} | ${r.payload != null ? size(r.payload) : '—'} | ${fmtVal(s.median)} | ${fmtVal(s.min)}–${fmtVal(s.max)} | ${pct} | ${vs(r.vsFloor)} | ${vs(r.vsBestPeer)} | ${r.placement ?? ''} | ${r.note ?? ''} |\n`;
  }
  return md;
}

const label = (r) => `${r.mechanism}${r.mode ? ` (${r.mode})` : ''}`;

// One chart per question people ask of the results.
function charts(stamp, rows) {
  const files = [];
  const write = (name, svg, question) => {
    const file = `${stamp}-${name}.svg`;
    fs.writeFileSync(path.join(outDir, file), svg);
    files.push({ file, question });
  };
  const bySize = (metric) => {
    const series = new Map();
    for (const r of rows) {
      if (r.metric !== metric || r.payload == null || r.area === 'scaling') continue;
      const k = `${label(r)}${r.placement && r.placement !== 'pinned CPUs 0/1' ? `, ${r.placement}` : ''}`;
      if (!series.has(k)) series.set(k, new Map());
      const s = stats(r.runs);
      series.get(k).set(r.payload, { x: r.payload, y: s.median, lo: s.min, hi: s.max });
    }
    return [...series].filter(([, pts]) => pts.size > 1).map(([name, pts]) => ({ name, points: [...pts.values()] }));
  };
  const lat = bySize('rtt_us');
  if (lat.length)
    write(
      'latency-vs-size',
      lineChart({
        title: 'Round-trip latency against message size',
        subtitle: 'median of the repetitions, whiskers min–max; lower is better',
        yLabel: 'round trip, µs',
        series: lat,
      }),
      'How does latency grow with the message size?',
    );
  const tput = bySize('MB_per_s');
  if (tput.length)
    write(
      'throughput-vs-size',
      lineChart({
        title: 'Throughput against message size',
        subtitle: 'one way, median, whiskers min–max; higher is better',
        yLabel: 'MB/s',
        series: tput,
      }),
      'How many bytes per second, by message size?',
    );
  const scaling = new Map();
  for (const r of rows.filter((x) => x.area === 'scaling' && x.metric === 'msgs_per_s')) {
    if (!scaling.has(r.mechanism)) scaling.set(r.mechanism, []);
    const s = stats(r.runs);
    scaling.get(r.mechanism).push({ x: r.pairs, y: s.median, lo: s.min, hi: s.max });
  }
  if (scaling.size)
    write(
      'throughput-vs-pairs',
      lineChart({
        title: 'Aggregate throughput against process pairs (64 B)',
        subtitle: 'every pair streaming at once; median, whiskers min–max; higher is better',
        yLabel: 'messages/s, all pairs',
        xLabel: 'process pairs',
        xKind: 'linear',
        yLog: false,
        series: [...scaling].map(([name, points]) => ({ name, points })),
      }),
      'Does throughput grow with more process pairs?',
    );
  for (const [metric, title, question] of [
    ['rtt_us', '64 B round trip: every contender of this run', 'Which is fastest for one small message in flight?'],
    ['msgs_per_s', '64 B throughput: every contender of this run', 'Which moves the most small messages per second?'],
  ]) {
    const sel = rows.filter((r) => r.metric === metric && r.payload === 64 && (r.pairs ?? 1) === 1);
    if (!sel.length) continue;
    const lower = METRIC[metric].lowerIsBetter;
    const bars = sel
      .map((r) => {
        const s = stats(r.runs);
        return {
          name: `${label(r)}${r.placement && r.placement !== 'pinned CPUs 0/1' ? `, ${r.placement}` : ''}`,
          y: s.median,
          lo: s.min,
          hi: s.max,
          p99: r.percentiles?.p99,
          baseline: r.baseline,
        };
      })
      .sort((a, b) => (lower ? a.y - b.y : b.y - a.y));
    write(
      `${metric}-64B`,
      barChart({
        title,
        subtitle: `median, whisker min–max${metric === 'rtt_us' ? ', red tick p99' : ''}; ${lower ? 'lower' : 'higher'} is better`,
        xLabel: METRIC[metric].label,
        bars,
      }),
      question,
    );
  }
  return files;
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  if (opt.from) {
    const saved = JSON.parse(fs.readFileSync(opt.from, 'utf8'));
    return report(saved.env, saved.rows, saved.notes ?? []);
  }
  const scenarioDir = path.join(__dirname, 'scenarios');
  const scenarios = fs
    .readdirSync(scenarioDir)
    .filter((f) => f.endsWith('.cjs'))
    .sort()
    .filter((f) => !only || only.some((o) => f.startsWith(o)));
  let nativeBenches = [];
  if (!opt['no-native'] && buildNative()) {
    nativeBenches = fs
      .readdirSync(path.join(root, 'build-native'))
      .filter((f) => f.endsWith('_bench'))
      .sort()
      .filter((f) => !only || only.some((o) => f.startsWith(o)));
  }
  const programs = [
    ...nativeBenches.map((b) => ({ name: b, cmd: path.join(root, 'build-native', b), args: quick ? ['--quick'] : [] })),
    ...scenarios.map((s) => ({
      name: s,
      cmd: process.execPath,
      args: ['--expose-gc', path.join(scenarioDir, s), ...(quick ? ['--quick'] : [])],
    })),
  ];
  log(
    `interproc benchmarks: ${programs.length} programs, ${quick ? 'quick' : 'full'} mode, ${os.cpus().length} CPUs, Node ${process.version}; results → ${outDir}`,
  );
  const rows = [];
  const notes = [];
  const started = Date.now();
  let expectedDone = 0;
  const expectedAll = programs.reduce((n, p) => n + expected(p.name), 0);
  for (const [k, p] of programs.entries()) {
    const elapsed = (Date.now() - started) / 1000;
    // the estimate: what is left of the expected total, scaled by how fast the run has gone so far
    const pace = expectedDone > 0 ? elapsed / expectedDone : 1;
    const left = (expectedAll - expectedDone) * pace;
    const res = await runOne(
      `[${k + 1}/${programs.length}] ${p.name} · ${clock(elapsed)} elapsed, ~${clock(left)} left`,
      p.cmd,
      p.args,
      notes,
    );
    rows.push(...res.rows);
    expectedDone += expected(p.name);
  }
  const env = {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model,
    cpus: os.cpus().length,
    kernel: os.release(),
    node: process.version,
    quick,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  };
  report(env, rows, notes);
}

function report(env, rows, notes) {
  const stamp = env.date.replace(/[:]/g, '-').replace(/\..*/, '');
  ratios(rows);
  const groups = new Map();
  for (const r of rows) {
    const key = `${r.area}|${r.metric}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  let md = `# interproc benchmark results\n\n${env.date} · ${env.cpu} · ${env.cpus} CPUs · Linux ${env.kernel} · Node ${env.node}${env.quick ? ' · quick mode' : ''}${env.command ? ` · \`${env.command}\`` : ''}\n\n`;
  md +=
    'Each figure is the median of the repetitions with their min–max; p50/p99/p99.9 come from a histogram of every round trip where one was kept. ' +
    '"× floor" is the row\'s median over the best native floor (C/C++) of the same metric and payload in this run, "× best peer" over the best baseline or peer (Node built-ins, Python, Redis, zeromq, worker_threads) of this run. Every row was measured in this run.\n';
  if (notes.length) md += `\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
  const chartFiles = charts(stamp, rows);
  if (chartFiles.length)
    md += `\n## Charts\n\n${chartFiles.map((c) => `### ${c.question}\n\n![${c.question}](${c.file})\n`).join('\n')}`;
  for (const [key, rs] of groups) {
    const [area, metric] = key.split('|');
    md += `\n## ${area}: ${(METRIC[metric] ?? { label: metric }).label}\n\n${table(rs)}`;
  }
  const json = JSON.stringify({ env, rows, notes }, null, 1);
  fs.writeFileSync(path.join(outDir, `${stamp}.json`), json);
  fs.writeFileSync(path.join(outDir, `${stamp}.md`), md);
  if (outDir === committed) {
    fs.copyFileSync(path.join(outDir, `${stamp}.json`), path.join(outDir, 'latest.json'));
    fs.writeFileSync(path.join(outDir, 'latest.md'), md.replaceAll(`(${stamp}-`, '(latest-'));
    for (const { file } of chartFiles) fs.copyFileSync(path.join(outDir, file), path.join(outDir, file.replace(stamp, 'latest')));
  }
  process.stdout.write(opt.json ? `${json}\n` : md);
  log(
    `\nwrote ${path.join(outDir, stamp)}.{json,md} and ${chartFiles.length} charts${outDir === committed ? ' (also as latest.*)' : ''}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
