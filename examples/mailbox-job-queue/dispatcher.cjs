// A job queue between separate Node programs over mailboxes.
//   node examples/mailbox-job-queue/dispatcher.cjs [workers=3] [jobs=20]
// The dispatcher creates a mailbox group (member 0) and starts worker programs, which join it on
// their own (any free slot). Each live worker has at most IN_FLIGHT jobs outstanding; results come
// back from any worker, fairly, and each job's result is printed exactly once.
//
// What it promises, and how:
// - A worker that dies (or leaves) loses no job: the results it completed are still read from its
//   ring, and every job it had not answered goes back to the queue for the others. A new process in
//   its slot (another incarnation: a different pid) counts as the old one gone. A job can then be
//   done twice (the new holder of the slot inherits the unread jobs too); the second result is
//   ignored, so each result is printed once.
// - A worker that dies before joining blocks nothing: jobs go to whoever has joined; only when no
//   worker is alive and none is still starting does the dispatcher give up (exit code 1).
// - Nothing is left in /dev/shm: the name is removed as soon as every worker has joined or exited
//   (the members keep working), and on every way out before that, SIGINT and SIGTERM included
//   (workers are stopped too).
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { MailboxGroup } = require('../..');

const workers = Number(process.argv[2] ?? 3);
const jobs = Number(process.argv[3] ?? 20);
const name = `/interproc-jobs-${process.pid}`;
const IN_FLIGHT = 2;
const TICK_MS = 50; // how often liveness is checked while results are awaited

const procs = [];
let group; // made once the signal handlers are in place
const running = () => procs.filter((p) => p.exitCode === null && p.signalCode === null);
function stopWorkers(signal) {
  for (const p of running()) p.kill(signal);
}
let unlinked = false;
function unlinkName() {
  if (!unlinked) {
    unlinked = true;
    MailboxGroup.unlink(name);
  }
}
// Before anything exists that could be left behind.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopWorkers('SIGTERM');
    group?.close();
    if (group !== undefined) unlinkName();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

group = MailboxGroup.create(name, { members: workers + 1, ringSize: 1 << 16 });
for (let i = 0; i < workers; i++) {
  procs.push(spawn(process.execPath, [path.join(__dirname, 'worker.cjs'), name], { stdio: ['ignore', 'inherit', 'inherit'] }));
}

const queue = [...Array(jobs).keys()]; // job numbers not yet handed to a live worker
const done = new Set();
/** Per member id: the pid it had when jobs were handed to it, and those jobs. */
const assigned = new Map();

/** The jobs of a member that went away (died, left, or its slot has a new holder): back in the queue. */
function reclaim(id) {
  const a = assigned.get(id);
  if (a === undefined) return;
  assigned.delete(id);
  // Results it completed are still in its ring: take them first, so only unanswered jobs return.
  try {
    for (let m; (m = group.tryReceive(id)) !== undefined; ) record(id, m.data);
  } catch {
    // its ring is corrupt: whatever is in it is lost, the jobs are redone
  }
  for (const job of a.jobs) if (!done.has(job)) queue.unshift(job);
}

function record(from, data) {
  const r = JSON.parse(data.toString());
  assigned.get(from)?.jobs.delete(r.job);
  if (done.has(r.job)) return; // done twice (a job redone after its worker died): printed once
  done.add(r.job);
  console.log(`job ${r.job} -> fib(${r.n}) = ${r.result} (worker ${from}, pid ${r.pid})`);
}

/** Looks at every worker slot: reclaims the jobs of the gone, hands queued jobs to the live. */
function dispatch() {
  const live = [];
  for (let id = 1; id <= workers; id++) {
    const info = group.memberInfo(id);
    const a = assigned.get(id);
    if (a !== undefined && (info.state !== 'alive' || info.pid !== a.pid)) reclaim(id);
    if (info.state === 'alive') live.push(info);
  }
  const starting = running().filter((p) => !live.some((m) => m.pid === p.pid)).length;
  if (starting === 0) unlinkName(); // every worker has joined or is gone: nobody needs the name any more
  if (live.length === 0 && starting === 0 && done.size < jobs) {
    throw new Error(`no worker left: ${jobs - done.size} of ${jobs} jobs not done`);
  }
  for (const { id, pid } of live) {
    let a = assigned.get(id);
    if (a === undefined) assigned.set(id, (a = { pid, jobs: new Set() }));
    while (a.jobs.size < IN_FLIGHT && queue.length > 0) {
      const job = queue[0];
      if (!group.trySend(id, JSON.stringify({ job, n: 25 + (job % 5) }))) break; // its ring is full: later
      queue.shift();
      a.jobs.add(job);
    }
  }
}

async function main() {
  try {
    while (done.size < jobs) {
      dispatch();
      try {
        const { from, data } = await group.receive(undefined, { timeout: TICK_MS });
        record(from, data);
      } catch (err) {
        if (err.code !== 'ETIMEDOUT') throw err;
      }
    }
    for (let id = 1; id <= workers; id++) if (group.memberInfo(id).state === 'alive') group.trySend(id, ''); // stop
    await Promise.race([
      Promise.all(running().map((p) => new Promise((r) => p.once('exit', r)))),
      new Promise((r) => setTimeout(r, 10_000).unref()),
    ]);
  } finally {
    stopWorkers('SIGTERM'); // any that did not stop (or never joined)
    group.close();
    unlinkName();
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
