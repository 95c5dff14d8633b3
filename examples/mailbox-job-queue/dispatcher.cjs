// A job queue between separate Node programs over mailboxes.
//   node examples/mailbox-job-queue/dispatcher.cjs [workers=3] [jobs=20]
// The dispatcher creates a mailbox group (member 0) and starts worker programs, which join it on
// their own (any free slot). Jobs go round robin to live workers; results come back from any
// worker, fairly. A worker that dies loses nothing that was queued for it: the next process that
// joins its slot inherits the unread jobs.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { MailboxGroup } = require('../..');

const workers = Number(process.argv[2] ?? 3);
const jobs = Number(process.argv[3] ?? 20);
const name = `/interproc-jobs-${process.pid}`;

async function main() {
  const group = MailboxGroup.create(name, { members: workers + 1, ringSize: 1 << 16 });
  const procs = [];
  try {
    for (let i = 0; i < workers; i++) {
      procs.push(spawn(process.execPath, [path.join(__dirname, 'worker.cjs'), name], { stdio: 'inherit' }));
    }
    const live = () => [...Array(workers).keys()].map((i) => i + 1).filter((id) => group.memberInfo(id).state === 'alive');
    while (live().length < workers) await new Promise((r) => setTimeout(r, 10));

    let next = 0;
    for (let job = 0; job < jobs; job++) {
      const ids = live();
      const to = ids[next++ % ids.length];
      await group.send(to, JSON.stringify({ job, n: 25 + (job % 5) })); // waits if that worker's queue is full
    }
    for (let done = 0; done < jobs; done++) {
      const { from, data } = await group.receive(undefined, { timeout: 30_000 });
      const r = JSON.parse(data.toString());
      console.log(`job ${r.job} -> fib(${r.n}) = ${r.result} (worker ${from}, pid ${r.pid})`);
    }
    for (const id of live()) group.trySend(id, ''); // an empty message: stop
  } finally {
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)))));
    group.close();
    MailboxGroup.unlink(name);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
