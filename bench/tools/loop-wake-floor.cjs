// The floor of any round trip between two Node event loops that sleep: two processes (pinned to CPUs
// 0 and 1) ping-pong an eventfd each, watched by a libuv poll handle (the addon's FdWatcher in
// doorbell mode), with no payload, no ring and no JS beyond the callback that rings the other side.
// Every sleeping transport between two Node programs (a Mailbox, a socket, the store over either)
// pays at least this per round trip; beside it the same ping-pong in C (build-native/ring_bench's
// "eventfd + epoll" row) is the kernel's share. Redis one in flight from Node pays one such Node wake
// and one C one.
//   node bench/tools/loop-wake-floor.cjs [--n=20000] [--rounds=5]
// Prints each round's p50 and mean round trip in µs, then the median over rounds.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const path = require('node:path');
const { native } = require(path.join(__dirname, '..', '..', 'dist', 'internal', 'binding'));

const opt = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const N = opt('n', 20000);
const ROUNDS = opt('rounds', 5);

function pin(cpu) {
  try {
    execFileSync('taskset', ['-a', '-pc', String(cpu), String(process.pid)], { stdio: 'ignore' });
  } catch {}
}

if (process.argv[2] === '--echo') {
  // The echoer: rings the pinger's eventfd each time its own is rung.
  pin(1);
  const mine = native.doorbellCreate();
  process.send({ pid: process.pid, fd: mine });
  process.once('message', ({ pid, fd }) => {
    const theirs = native.doorbellFetch(pid, fd);
    const w = new native.FdWatcher(mine, () => native.doorbellRing(theirs), { eventfd: true });
    w.start(1);
    process.send('ready');
  });
  process.on('disconnect', () => process.exit(0));
} else {
  pin(0);
  const child = spawn(process.execPath, [__filename, '--echo'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const mine = native.doorbellCreate();
  child.once('message', ({ pid, fd }) => {
    const theirs = native.doorbellFetch(pid, fd);
    child.send({ pid: process.pid, fd: mine });
    child.once('message', async () => {
      const medians = [];
      const means = [];
      for (let r = -1; r < ROUNDS; r++) {
        const us = await round(theirs, mine);
        us.sort((a, b) => a - b);
        const p50 = us[us.length >> 1];
        const mean = us.reduce((a, b) => a + b, 0) / us.length;
        if (r < 0) continue; // warm-up
        medians.push(p50);
        means.push(mean);
        console.log(`round ${r + 1}: p50 ${p50.toFixed(2)} µs, mean ${mean.toFixed(2)} µs over ${N} round trips`);
      }
      const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
      console.log(
        `Node loop <-> Node loop eventfd round trip (pinned CPUs 0/1): p50 ${med(medians).toFixed(2)} µs [${Math.min(...medians).toFixed(2)}–${Math.max(...medians).toFixed(2)}], mean ${med(means).toFixed(2)} µs`,
      );
      child.kill();
      process.exit(0);
    });
  });
}

/** N round trips: ring the echoer, wait (asleep in the loop) for its ring; each one's µs. */
function round(theirs, mine) {
  return new Promise((resolve) => {
    const us = [];
    let t0 = 0;
    const w = new native.FdWatcher(
      mine,
      () => {
        us.push(Number(process.hrtime.bigint() - t0) / 1000);
        if (us.length === N) {
          w.close();
          resolve(us);
          return;
        }
        t0 = process.hrtime.bigint();
        native.doorbellRing(theirs);
      },
      { eventfd: true },
    );
    w.start(1);
    t0 = process.hrtime.bigint();
    native.doorbellRing(theirs);
  });
}
