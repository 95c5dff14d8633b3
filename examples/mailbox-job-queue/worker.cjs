// A worker program of the job-queue example: joins the group named on its command line, takes
// jobs from the dispatcher (member 0), answers each with a result, until an empty message.
//   node examples/mailbox-job-queue/worker.cjs /interproc-jobs-<pid>
// Ending any other way costs no job (the dispatcher hands the unanswered ones to others): SIGTERM
// leaves the group cleanly, and so does ending without close(); a SIGKILL is a death.
'use strict';
const { MailboxGroup } = require('../..');

const fib = (n) => (n < 2 ? n : fib(n - 1) + fib(n - 2));

async function main() {
  const group = MailboxGroup.join(process.argv[2]); // the first free, left or dead slot
  process.once('SIGTERM', () => {
    group.close();
    process.exit(0);
  });
  try {
    for (;;) {
      const { data } = await group.receive(0); // rejects if the dispatcher dies or leaves
      if (data.length === 0) break;
      const { job, n } = JSON.parse(data.toString());
      await group.send(0, JSON.stringify({ job, n, result: fib(n), pid: process.pid }));
    }
  } finally {
    group.close();
  }
}

main().catch((err) => {
  if (err.code === 'ERR_MAILBOX_PEER_CLOSED' || err.code === 'ERR_MAILBOX_PEER_DEAD') return; // the dispatcher is gone
  console.error(`worker ${process.pid}:`, err.message);
  process.exitCode = 1;
});
