#!/usr/bin/env node
// The benchmark runner: builds the native benchmarks, runs every scenario (bench/scenarios/*.cjs)
// and every native benchmark (build-native/*_bench) in a fresh process, and writes
//   bench/results/<stamp>.json  every row with all repetitions
//   bench/results/<stamp>.md    tables: median [min-max] per row, grouped by area and metric
//   bench/results/<stamp>-*.svg charts (metric against payload size, or bars per mechanism)
// and copies the latest to bench/results/latest.{json,md} and latest-*.svg.
//
// Usage: npm run bench [-- --quick] [-- --only socket,mailbox] [-- --no-native]
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { stats } = require('./lib/report.cjs');
const { lineChart, barChart, size } = require('./lib/chart.cjs');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',') : null;
const withNative = !args.includes('--no-native');
const outDir = path.join(__dirname, 'results');

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

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function runOne(label, cmd, cmdArgs) {
  return new Promise((resolve) => {
    const started = Date.now();
    log(`[${label}] ${cmd} ${cmdArgs.join(' ')}`);
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
          rows.push(r);
          const s = stats(r.runs);
          log(
            `    ${r.mechanism} ${r.mode ?? ''} ${r.payload != null ? size(r.payload) : ''}: ${r.metric} ${s.median.toPrecision(4)}`,
          );
        } catch {
          log(`    ${line}`);
        }
      }
    });
    child.stderr.on('data', (d) => process.stderr.write(String(d).replace(/^/gm, '    ')));
    child.on('exit', (code, signal) => {
      log(
        `[${label}] done in ${((Date.now() - started) / 1000).toFixed(1)} s${code ? ` (exit ${code})` : ''}${signal ? ` (${signal})` : ''}`,
      );
      resolve(rows);
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
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(3);
}

function table(rows) {
  let md = '| mechanism | mode | payload | median | min–max | placement | note |\n|---|---|---|---|---|---|---|\n';
  for (const r of rows) {
    const s = stats(r.runs);
    const name = r.baseline ? `${r.mechanism} *(baseline)*` : `**${r.mechanism}**`;
    md += `| ${name} | ${r.mode ?? ''} | ${r.payload != null ? size(r.payload) : '—'} | ${fmtVal(s.median)} | ${fmtVal(s.min)}–${fmtVal(s.max)} | ${r.placement ?? ''} | ${r.note ?? ''} |\n`;
  }
  return md;
}

function charts(stamp, groups) {
  const files = [];
  for (const [key, rows] of groups) {
    const [area, metric] = key.split('|');
    const m = METRIC[metric] ?? { label: metric };
    // A line against payload only when some series has several payloads; otherwise bars.
    const perSeries = new Map();
    for (const r of rows) {
      if (r.payload == null) continue;
      const k = `${r.mechanism}|${r.mode}`;
      perSeries.set(k, (perSeries.get(k) ?? new Set()).add(r.payload));
    }
    let svg;
    if ([...perSeries.values()].some((p) => p.size > 1)) {
      const bySeries = new Map();
      for (const r of rows) {
        if (r.payload == null) continue;
        const name = `${r.mechanism}${r.mode ? ` (${r.mode})` : ''}`;
        if (!bySeries.has(name)) bySeries.set(name, []);
        const s = stats(r.runs);
        bySeries.get(name).push({ x: r.payload, y: s.median, lo: s.min, hi: s.max });
      }
      svg = lineChart({
        title: `${area}: ${m.label} against payload`,
        yLabel: m.label,
        series: [...bySeries].map(([name, points]) => ({ name, points })),
      });
    } else {
      const bars = rows.map((r) => {
        const s = stats(r.runs);
        return {
          name: `${r.mechanism}${r.mode ? ` (${r.mode})` : ''}${r.payload != null ? ` ${size(r.payload)}` : ''}`,
          y: s.median,
          lo: s.min,
          hi: s.max,
          baseline: r.baseline,
        };
      });
      const seen = new Map();
      for (const b of bars) seen.set(b.name, (seen.get(b.name) ?? 0) + 1);
      bars.forEach((b, i) => {
        if (seen.get(b.name) > 1) b.name += `, ${rows[i].placement}`;
      });
      svg = barChart({
        title: `${area}: ${m.label}${m.lowerIsBetter ? ' (lower is better)' : ' (higher is better)'}`,
        xLabel: m.label,
        bars,
      });
    }
    const file = `${stamp}-${area}-${metric}.svg`;
    fs.writeFileSync(path.join(outDir, file), svg);
    files.push(file);
  }
  return files;
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  // --from FILE: no measuring; remake the tables and charts from a results JSON (e.g. latest.json).
  const fromArg = args.indexOf('--from');
  if (fromArg >= 0) {
    const saved = JSON.parse(fs.readFileSync(args[fromArg + 1], 'utf8'));
    return report(saved.env, saved.rows);
  }
  const scenarioDir = path.join(__dirname, 'scenarios');
  const scenarios = fs
    .readdirSync(scenarioDir)
    .filter((f) => f.endsWith('.cjs'))
    .sort()
    .filter((f) => !only || only.some((o) => f.startsWith(o)));
  let nativeBenches = [];
  if (withNative && buildNative()) {
    nativeBenches = fs
      .readdirSync(path.join(root, 'build-native'))
      .filter((f) => f.endsWith('_bench'))
      .sort()
      .filter((f) => !only || only.some((o) => f.startsWith(o)));
  }
  const total = scenarios.length + nativeBenches.length;
  log(
    `interproc benchmarks: ${total} programs, ${quick ? 'quick' : 'full'} mode, ${os.cpus().length} CPUs, Node ${process.version}`,
  );
  const rows = [];
  let k = 0;
  for (const b of nativeBenches)
    rows.push(...(await runOne(`${++k}/${total} native ${b}`, path.join(root, 'build-native', b), quick ? ['--quick'] : [])));
  for (const s of scenarios)
    rows.push(
      ...(await runOne(`${++k}/${total} ${s}`, process.execPath, [
        '--expose-gc',
        path.join(scenarioDir, s),
        ...(quick ? ['--quick'] : []),
      ])),
    );

  const env = {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model,
    cpus: os.cpus().length,
    kernel: os.release(),
    node: process.version,
    quick,
  };
  report(env, rows);
}

function report(env, rows) {
  const stamp = env.date.replace(/[:]/g, '-').replace(/\..*/, '');
  const groups = new Map();
  for (const r of rows) {
    const key = `${r.area}|${r.metric}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  let md = `# interproc benchmark results\n\n${env.date} · ${env.cpu} · ${env.cpus} CPUs · Linux ${env.kernel} · Node ${env.node}${env.quick ? ' · quick mode' : ''}\n\n`;
  md += 'Each figure is the median of the repetitions with their min–max; every row was measured in this run.\n';
  const chartFiles = charts(stamp, groups);
  for (const [key, rs] of groups) {
    const [area, metric] = key.split('|');
    md += `\n## ${area}: ${(METRIC[metric] ?? { label: metric }).label}\n\n${table(rs)}\n![${area} ${metric}](${stamp}-${area}-${metric}.svg)\n`;
  }
  fs.writeFileSync(path.join(outDir, `${stamp}.json`), JSON.stringify({ env, rows }, null, 1));
  fs.writeFileSync(path.join(outDir, `${stamp}.md`), md);
  fs.copyFileSync(path.join(outDir, `${stamp}.json`), path.join(outDir, 'latest.json'));
  fs.writeFileSync(path.join(outDir, 'latest.md'), md.replaceAll(`](${stamp}-`, '](latest-'));
  for (const f of chartFiles) fs.copyFileSync(path.join(outDir, f), path.join(outDir, f.replace(stamp, 'latest')));
  process.stdout.write(md);
  log(`\nwrote bench/results/${stamp}.{json,md} and ${chartFiles.length} charts (also as latest.*)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
