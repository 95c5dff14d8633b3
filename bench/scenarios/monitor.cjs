// Death detection latency: from SIGKILL to the event that reports it, p50 and p99 over many kills.
//   monitor(pid), pidfd            a `sleep` child (its teardown is the cheapest: the detection itself)
//   monitor(member), pidfd         a Node child holding a mailbox member (a Node process's teardown)
//   mailbox receive rejects        the same, a receive(member) pending: the new pidfd path
//   liveness fallback              the same, INTERPROC_PIDFD=0: monitor's /proc check on an interval,
//                                  and the mailbox's old path (its 50 ms liveness tick)
//   Node child_process 'exit'      the same, SIGCHLD + waitpid in libuv (baseline)
//   Erlang monitor between nodes   where `erl` is installed; else skipped with a line saying so
// Target (issue 13): at most 0.5x Erlang's monitor between two nodes (ANCHORS.md: 170 us p50, measured here).
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

async function series(label, mode, make, arm, env) {
  const saved = process.env.INTERPROC_PIDFD;
  if (env !== undefined) process.env.INTERPROC_PIDFD = env;
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
    if (saved === undefined) delete process.env.INTERPROC_PIDFD;
    else process.env.INTERPROC_PIDFD = saved;
  }
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
    await series('interproc monitor(member)', 'pidfd, Node child', withMember, byMonitor);
    await series('interproc mailbox receive rejects', 'pidfd, Node child', withMember, byReceive);
    await series('interproc monitor(member)', 'liveness fallback (INTERPROC_PIDFD=0)', withMember, byMonitor, '0');
    await series(
      'interproc mailbox receive rejects',
      'old path: 50 ms liveness tick (INTERPROC_PIDFD=0)',
      withMember,
      byReceive,
      '0',
    );
    await series("Node child_process 'exit'", 'SIGCHLD, Node child', withMember, byExit);
    let erl = false;
    try {
      execFileSync('erl', ['-version'], { stdio: 'ignore' });
      erl = true;
    } catch {}
    if (!erl) {
      progress(
        `Erlang monitor between two nodes: skipped, 'erl' is not installed; ANCHORS.md quotes ${ERLANG_ANCHOR_US} us p50 measured on this machine`,
      );
    } else {
      progress('Erlang is installed, but this scenario has no Erlang side yet: compare with the ANCHORS.md figure');
    }
    progress(
      `monitor(pid) p50 / Erlang's ${ERLANG_ANCHOR_US} us (ANCHORS.md): ${(p50 / ERLANG_ANCHOR_US).toFixed(2)}x (target <= 0.5x)`,
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
