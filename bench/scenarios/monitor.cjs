// Death detection latency: from SIGKILL to the event that reports it, p50 and p99 over many kills.
//   monitor(pid), pidfd            a `sleep` child (its teardown is the cheapest: the detection itself)
//   monitor(member), death word    a Node child holding a mailbox member: its death word, marked by the
//                                  kernel as the exit begins (native/core/mailbox/death_word.hpp)
//   monitor(member), pidfd alone   the same with INTERPROC_DEATH_WORD=0 (a Node process's teardown)
//   mailbox receive rejects        the same two, a receive(member) pending
//   liveness fallback              both off: monitor's /proc check on an interval, and the mailbox's
//                                  liveness tick
//   Node child_process 'exit'      the same, SIGCHLD + waitpid in libuv (baseline)
//   Erlang monitor between nodes   bench/peers/erlang_monitor.escript: node A monitors a process on
//                                  node B; this process SIGKILLs B's OS process and A stamps the 'DOWN'
//                                  with CLOCK_MONOTONIC. interproc monitor(pid) watches the same B in
//                                  the same kills (paired). Skipped with a line when escript is missing.
// Every figure is from the kill() call to the event. The C floor is native/bench/monitor_bench.cpp
// (pidfd vs a robust mutex's owner-dead, small and Node-sized victims). Target (issue 13): at most 0.5x Erlang's monitor
// between two nodes: monitor(member) of a Node member against Erlang's DOWN of an Erlang node, same run.
// Run: node bench/scenarios/monitor.cjs [--quick]
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const path = require('node:path');
const { row, progress, percentile, quick } = require('../lib/report.cjs');
const { MailboxGroup, monitor } = require(path.join(__dirname, '..', '..', 'dist'));

const KILLS = quick ? 8 : 30;
const ERLANG_ANCHOR_US = 170;

function member(name) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist'))}).MailboxGroup.join(process.argv[1], { id: 1 }); process.send('ready'); setInterval(() => {}, 1 << 30)`,
      name,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  return new Promise((resolve) => child.once('message', () => resolve(child)));
}

function sleeper() {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('spawn', () => resolve(child)));
}

const NO_WORD = { INTERPROC_DEATH_WORD: '0' };
const NEITHER = { INTERPROC_PIDFD: '0', INTERPROC_DEATH_WORD: '0' };
const settle = () => new Promise((r) => setTimeout(r, 20));

/** One kill: `arm(child)` returns a promise that resolves when the mechanism reports the death. */
async function sample(make, arm) {
  const child = await make();
  const reported = arm(child);
  await settle();
  const t0 = process.hrtime.bigint();
  child.kill('SIGKILL');
  await reported;
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  return us;
}

const SWITCHES = ['INTERPROC_PIDFD', 'INTERPROC_DEATH_WORD'];

/** `env`: switches set during the series ({ INTERPROC_PIDFD: '0' }, { INTERPROC_DEATH_WORD: '0' }). */
async function series(label, mode, make, arm, env = {}) {
  const saved = SWITCHES.map((k) => process.env[k]);
  Object.assign(process.env, env);
  try {
    const us = [];
    for (let i = 0; i < KILLS; i++) us.push(await sample(make, arm));
    const p50 = percentile(us, 50);
    const p99 = percentile(us, 99);
    progress(`${label} (${mode}): p50 ${p50.toFixed(0)} us, p99 ${p99.toFixed(0)} us over ${us.length} kills`);
    const base = { area: 'monitor', mechanism: label, mode, placement: 'unpinned', note: `${us.length} kills` };
    row({ ...base, metric: 'p50_us', runs: [p50], baseline: label.startsWith('Node') });
    row({ ...base, metric: 'p99_us', runs: [p99], baseline: label.startsWith('Node') });
    return p50;
  } finally {
    SWITCHES.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
  }
}

// ---- Erlang: a monitor between two nodes on this host (bench/peers/erlang_monitor.escript) -------

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function skip(what, why) {
  progress(`skipped ${what}: ${why}`);
  process.stdout.write(`${JSON.stringify({ skip: `${what}: ${why}` })}\n`);
}

/** Whether an epmd (Erlang's name server, needed by distributed nodes) answers now. */
function epmdRunning() {
  try {
    execFileSync('epmd', ['-names'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Each round the escript (node A) starts node B and monitors a process on it; this process SIGKILLs
 * B's OS process, timing from its kill() call as for our own monitors; A stamps the 'DOWN' with
 * CLOCK_MONOTONIC (process.hrtime's clock). In the same rounds, interproc monitor(pid) watches the
 * same victim (B), so both are timed from one kill of one process: a paired comparison.
 */
async function erlangSeries() {
  if (!has('escript') || !has('epmd')) {
    skip(
      'Erlang monitor between two nodes',
      `'escript'/'epmd' not found (Debian: apt-get install erlang-base); ANCHORS.md quotes ${ERLANG_ANCHOR_US} us p50`,
    );
    return;
  }
  const startedEpmd = !epmdRunning();
  if (startedEpmd) execFileSync('epmd', ['-daemon'], { stdio: 'ignore' });
  const peer = spawn('escript', [path.join(__dirname, '..', 'peers', 'erlang_monitor.escript'), String(KILLS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = [];
  let wake = null;
  let ended = false;
  require('node:readline')
    .createInterface({ input: peer.stdout })
    .on('line', (l) => {
      lines.push(l);
      wake?.();
    });
  peer.on('exit', () => {
    ended = true;
    wake?.();
  });
  const next = async (word) => {
    for (;;) {
      const i = lines.findIndex((l) => l.startsWith(`${word} `));
      if (i >= 0) return lines.splice(i, 1)[0].slice(word.length + 1);
      if (ended) throw new Error(`the Erlang peer ended before '${word}' (${lines.join(' | ')})`);
      await new Promise((r) => (wake = r));
      wake = null;
    }
  };
  const erl = [];
  const ours = [];
  const exitKill = [];
  try {
    for (let i = 0; i < KILLS; i++) {
      exitKill.push(Number(await next('exit-kill')) / 1000);
      const victim = Number(await next('ready'));
      let tOurs = 0n;
      const mine = monitor(victim).down.then(() => (tOurs = process.hrtime.bigint()));
      await settle();
      const t0 = process.hrtime.bigint();
      process.kill(victim, 'SIGKILL');
      const down = await next('down');
      await mine;
      erl.push(Number(BigInt(down.split(' ')[0]) - t0) / 1000);
      ours.push(Number(tOurs - t0) / 1000);
      peer.stdin.write('go\n');
    }
  } finally {
    peer.stdin.end();
    if (!ended) await new Promise((r) => peer.once('exit', r));
    if (startedEpmd) {
      try {
        execFileSync('epmd', ['-kill'], { stdio: 'ignore' });
      } catch {}
    }
  }
  const report = (label, mode, us, baseline) => {
    const p50 = percentile(us, 50);
    const p99 = percentile(us, 99);
    progress(`${label} (${mode}): p50 ${p50.toFixed(0)} us, p99 ${p99.toFixed(0)} us over ${us.length} kills`);
    const base = { area: 'monitor', mechanism: label, mode, placement: 'unpinned', note: `${us.length} kills`, baseline };
    row({ ...base, metric: 'p50_us', runs: [p50] });
    row({ ...base, metric: 'p99_us', runs: [p99] });
    return p50;
  };
  const erlP50 = report("Erlang monitor 'DOWN' between two nodes", 'SIGKILL of the other node (an erl)', erl, true);
  const oursP50 = report('interproc monitor(pid)', 'pidfd, the same erl node, same kills', ours, false);
  report("Erlang monitor 'DOWN' between two nodes", 'exit(Pid, kill), the node lives on (reference)', exitKill, true);
  const ratio = oursP50 / erlP50;
  progress(`interproc monitor(pid) / Erlang monitor, same victim, same kills: ${ratio.toFixed(2)}x p50 (target <= 0.5x)`);
  row({
    area: 'monitor',
    mechanism: 'interproc monitor(pid)',
    mode: 'p50 / Erlang p50, same victim (target <= 0.5)',
    metric: 'ratio',
    runs: [ratio],
    placement: 'unpinned',
    note: `${erl.length} paired kills`,
  });
  return erlP50;
}

async function main() {
  const name = `/interproc-bench-monitor-${process.pid}`;
  const g = MailboxGroup.create(name, { members: 2 });
  const withMember = () => member(name);
  const byMonitor = () => monitor({ group: g, member: 1 }).down;
  const byReceive = () =>
    g.receive(1).then(
      () => {
        throw new Error('a message, not a death');
      },
      () => undefined,
    );
  const byExit = (child) => new Promise((r) => child.once('exit', r));
  try {
    const p50 = await series('interproc monitor(pid)', 'pidfd, sleep child', sleeper, (c) => monitor(c.pid).down);
    const memberP50 = await series('interproc monitor(member)', 'death word, Node child', withMember, byMonitor);
    await series('interproc monitor(member)', 'pidfd alone (INTERPROC_DEATH_WORD=0)', withMember, byMonitor, NO_WORD);
    await series('interproc mailbox receive rejects', 'death word, Node child', withMember, byReceive);
    await series('interproc mailbox receive rejects', 'pidfd alone (INTERPROC_DEATH_WORD=0)', withMember, byReceive, NO_WORD);
    await series('interproc monitor(member)', 'liveness fallback (both off)', withMember, byMonitor, NEITHER);
    await series('interproc mailbox receive rejects', 'liveness tick (both off)', withMember, byReceive, NEITHER);
    await series("Node child_process 'exit'", 'SIGCHLD, Node child', withMember, byExit);
    const erlP50 = await erlangSeries();
    if (erlP50 !== undefined) {
      // Each system's monitor between two of its own nodes on this host, the other node SIGKILLed:
      // a Node process holding a mailbox member here, an Erlang node there (same run, interleaved
      // series, different victims: each kind of node's own exit).
      const ratio = memberP50 / erlP50;
      progress(
        `interproc monitor(member) (death word) / Erlang monitor between nodes: ${ratio.toFixed(2)}x p50 (target <= 0.5x)`,
      );
      row({
        area: 'monitor',
        mechanism: 'interproc monitor(member)',
        mode: 'death word p50 / Erlang DOWN p50, each between two of its own nodes (target <= 0.5)',
        metric: 'ratio',
        runs: [ratio],
        placement: 'unpinned',
        note: `${KILLS} kills each`,
      });
    }
    progress(
      `monitor(pid) of a sleep child, p50 / Erlang's ${ERLANG_ANCHOR_US} us (the ANCHORS.md figure): ${(p50 / ERLANG_ANCHOR_US).toFixed(2)}x (target <= 0.5x)`,
    );
  } finally {
    g.close();
    MailboxGroup.unlink(name);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
