#!/usr/bin/env node
// Fault rounds (issue 16): runs each fault scenario of bench/faults/scenarios.cjs for N rounds, each
// round in fresh processes (a driver, bench/faults/<area>.cjs, and the children it starts), and
// prints per scenario the rounds, the outcomes counted by kind, and the time from the fault to its
// observed outcome (median, p90, max) where the scenario has one. See docs/benchmarks.md, "Fault rounds".
//
//   node bench/faults.cjs [--rounds N] [--only a,b] [--json] [--timeout MS]
//
// Guards: every round has a timeout (a round that does not end is "hung" and killed); each driver
// runs in its own process group, which is SIGKILLed when its round ends, so no child outlives its
// round; every shared-memory name carries this process's pid, and whatever a round leaves in /dev/shm
// is removed (and counted). Uses the compiled package (dist/): run `npm run build:ts` first.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { percentile, stats } = require('./lib/report.cjs');
const { scenarios, isGood } = require('./faults/scenarios.cjs');

const root = path.join(__dirname, '..');
const USAGE = `node bench/faults.cjs [options]
  --rounds N      rounds per scenario (default 20), each in fresh processes
  --only A,B      only the scenarios whose name starts with A or B, or of issue item A ("1", "10", "join")
  --json          print the results as JSON instead of Markdown
  --timeout MS    a round's time limit (default: the scenario's, 40000 for most)
  --list          list the scenarios (with --only, those) and exit; with --json as JSON`;
const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const rounds = Number(opt.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`--rounds must be a positive integer, got ${opt.rounds}\n${USAGE}\n`);
  process.exit(2);
}
const timeoutOverride = opt.timeout === undefined ? undefined : Number(opt.timeout);
const only = opt.only ? opt.only.split(',').map((s) => s.trim()) : null;
const chosen = scenarios.filter((s) => !only || only.some((o) => s.name.startsWith(o) || s.item === o));
if (opt.list) {
  const list = chosen.map((s) => ({ name: s.name, item: s.item, what: s.what, good: s.shown ?? String(s.good) }));
  if (opt.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  else for (const s of list) process.stdout.write(`${s.name.padEnd(28)} item ${s.item.padEnd(10)} ${s.what}\n`);
  process.exit(0);
}
if (chosen.length === 0) {
  process.stderr.write(`no scenario matches --only ${opt.only} (see --list)\n`);
  process.exit(2);
}
if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
  process.stderr.write('dist/ is missing: run `npm run build:ts` (or `npm run build`) first\n');
  process.exit(2);
}

const SHM_PREFIX = `interproc-faults-${process.pid}-`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `interproc-faults-${process.pid}-`));
const tty = process.stderr.isTTY;
let current = null; // the running round's driver, killed on the way out

const log = (line) => process.stderr.write(`${line}\n`);

/** SIGKILLs a driver's process group: the driver and every process it started. */
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/** Removes what this run left in /dev/shm; returns how many names there were. */
function sweepShm() {
  let n = 0;
  for (const f of fs.readdirSync('/dev/shm')) {
    if (!f.startsWith(SHM_PREFIX)) continue;
    fs.rmSync(path.join('/dev/shm', f), { force: true });
    n++;
  }
  return n;
}

function cleanupAll() {
  if (current) killGroup(current);
  sweepShm();
  fs.rmSync(tmp, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

/** Runs one round of `s`; resolves with { outcome, times, figures, ms, left } whatever happens to it. */
function runRound(s, index, round) {
  const dir = path.join(tmp, `${s.name}-${round}`);
  fs.mkdirSync(dir);
  const ctx = { prefix: `${SHM_PREFIX}${index}-${round}`, dir, round };
  const limit = timeoutOverride ?? s.timeoutMs ?? 40_000;
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(s.nodeArgs ?? []), s.file, s.name, JSON.stringify(ctx)], {
      cwd: root,
      detached: true, // its own process group: one kill takes it and all it started
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      if (stderr.length < 8000) stderr += d;
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      killGroup(child);
    }, limit);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      killGroup(child); // whatever the driver left running
      current = null;
      let result = null;
      for (const line of stdout.trim().split('\n').reverse()) {
        try {
          const r = JSON.parse(line);
          if (typeof r?.outcome === 'string') {
            result = r;
            break;
          }
        } catch {
          // not the result line
        }
      }
      if (!result) {
        const lines = stderr.split('\n').filter((l) => l.trim() && !/^Node\.js v/.test(l));
        const why = (lines.find((l) => /Error|FATAL|error:/.test(l)) ?? lines.pop() ?? '').trim();
        result = hung
          ? { outcome: 'hung' }
          : { outcome: 'crashed', detail: `driver ended with ${signal ?? `exit ${code}`}${why ? `: ${why.slice(0, 200)}` : ''}` };
      }
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ ...result, ms: Date.now() - started, left: sweepShm() });
    });
  });
}

/** Every value of a measure over the rounds (a round may give one value or a list). */
function values(results, kind, label) {
  return results.flatMap((r) => [r[kind]?.[label]].flat()).filter((v) => typeof v === 'number' && Number.isFinite(v));
}

function summarise(list) {
  if (list.length === 0) return null;
  const s = stats(list);
  return { n: list.length, median: s.median, p90: percentile(list, 90), min: s.min, max: s.max };
}

async function runScenario(s, index) {
  const results = [];
  const t0 = Date.now();
  const head = `[${index + 1}/${chosen.length}] ${s.name}`;
  for (let round = 1; round <= rounds; round++) {
    if (tty) process.stderr.write(`\r${head}: round ${round}/${rounds}…`);
    const r = await runRound(s, index, round);
    results.push(r);
    if (!isGood(s, r.outcome) && r.skipped !== true) {
      if (tty) process.stderr.write('\n');
      log(`    round ${round}: ${r.outcome}${r.detail ? ` (${String(r.detail).split('\n')[0].slice(0, 200)})` : ''}`);
    }
  }
  const outcomes = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const good = results.filter((r) => isGood(s, r.outcome)).length;
  const labels = (kind) => [...new Set(results.flatMap((r) => Object.keys(r[kind] ?? {})))];
  const summary = {
    name: s.name,
    item: s.item,
    what: s.what,
    good: s.shown ?? String(s.good),
    rounds: results.length,
    goodRounds: good,
    hung: results.filter((r) => r.outcome === 'hung' || r.hung === true).length,
    crashed: results.filter((r) => r.outcome === 'crashed' || r.crashed === true).length,
    skipped: results.filter((r) => r.skipped === true).length,
    allGood: results.every((r) => r.skipped === true || isGood(s, r.outcome)),
    outcomes,
    times: Object.fromEntries(labels('times').map((l) => [l, summarise(values(results, 'times', l))])),
    figures: Object.fromEntries(labels('figures').map((l) => [l, summarise(values(results, 'figures', l))])),
    leftInShm: results.reduce((n, r) => n + r.left, 0),
    details: [...new Set(results.map((r) => r.detail).filter(Boolean))].slice(0, 3),
    took_s: (Date.now() - t0) / 1000,
  };
  if (tty) process.stderr.write('\r');
  log(`${head}: ${results.length}/${rounds} rounds, ${outcomeText(summary)} (${summary.took_s.toFixed(1)} s)`);
  return summary;
}

const fmt = (v) =>
  Number.isInteger(v) || Math.abs(v) >= 100
    ? Math.round(v).toLocaleString('en-US')
    : Math.abs(v) >= 10
      ? v.toFixed(1)
      : v.toPrecision(2);

/** "every process lived, ERR_SHM_TRUNCATED 20/20, hung 0, crashed 0" (and any other outcome with its count). */
function outcomeText(s) {
  const kinds = Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]);
  const goodKinds = kinds.filter(([k]) => isGood(scenarioOf(s), k)).map(([k, n]) => `${k} ${n}/${s.rounds}`);
  const bad = kinds.filter(([k]) => !isGood(scenarioOf(s), k) && k !== 'hung' && k !== 'crashed').map(([k, n]) => `${k}: ${n}`);
  if (goodKinds.length === 0) goodKinds.push(`${s.good} 0/${s.rounds}`);
  return [...goodKinds, ...bad, `hung ${s.hung}`, `crashed ${s.crashed}`].join(', ');
}

const scenarioOf = (summary) => scenarios.find((x) => x.name === summary.name);

function markdown(report) {
  const lines = [
    `## Fault rounds (\`${report.command}\`)`,
    '',
    `${report.date} · ${report.machine.cpu} · ${report.machine.cpus} CPUs · Linux ${report.machine.kernel} · Node ${report.machine.node} · load average ${report.machine.loadStart.join(' ')} at the start, ${report.machine.loadEnd.join(' ')} at the end · ${report.took_s.toFixed(0)} s`,
    '',
    '| item | scenario | rounds | outcomes | time from the fault to the outcome, ms: median / p90 / max | other figures: median [min–max] |',
    '|---|---|---|---|---|---|',
  ];
  for (const s of report.scenarios) {
    const times = Object.entries(s.times)
      .filter(([, v]) => v)
      .map(([l, v]) => `${l}: ${fmt(v.median)} / ${fmt(v.p90)} / ${fmt(v.max)}`)
      .join('<br>');
    const figures = Object.entries(s.figures)
      .filter(([, v]) => v)
      .map(([l, v]) => `${l}: ${fmt(v.median)}${v.min !== v.max ? ` [${fmt(v.min)}–${fmt(v.max)}]` : ''}`)
      .join('<br>');
    const mark = s.allGood ? '✓' : '✗';
    lines.push(`| ${s.item} | ${s.name} | ${s.rounds} | ${mark} ${outcomeText(s)} | ${times || '—'} | ${figures || '—'} |`);
  }
  lines.push('', 'What each round does:', '');
  for (const s of report.scenarios) lines.push(`- **${s.name}** (item ${s.item}): ${s.what}. Good outcome: ${s.good}.`);
  const left = report.scenarios.reduce((n, s) => n + s.leftInShm, 0);
  lines.push(
    '',
    `${report.allGood ? 'Every round ended with its good outcome.' : 'Some rounds did not end with their good outcome (✗ rows).'} Names the rounds left in /dev/shm (removed by the runner): ${left}.`,
  );
  return `${lines.join('\n')}\n`;
}

async function main() {
  const started = Date.now();
  const loadStart = os.loadavg().map((v) => v.toFixed(2));
  log(`fault rounds: ${chosen.length} scenarios × ${rounds} rounds, each round in fresh processes (Node ${process.version})`);
  const results = [];
  for (const [i, s] of chosen.entries()) results.push(await runScenario(s, i));
  const report = {
    command: `node bench/faults.cjs ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown CPU',
      cpus: os.cpus().length,
      kernel: os.release(),
      node: process.version,
      loadStart,
      loadEnd: os.loadavg().map((v) => v.toFixed(2)),
    },
    rounds,
    shmPrefix: SHM_PREFIX,
    took_s: (Date.now() - started) / 1000,
    allGood: results.every((s) => s.allGood),
    scenarios: results,
  };
  process.stdout.write(opt.json ? `${JSON.stringify(report, null, 2)}\n` : markdown(report));
  cleanupAll();
  process.exitCode = report.allGood ? 0 : 1;
}

main().catch((err) => {
  log(String(err?.stack ?? err));
  cleanupAll();
  process.exit(2);
});
