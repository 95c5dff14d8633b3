// How long after a truncate (ftruncate of /dev/shm/NAME by this process) a child's pending wait ends with
// ERR_SHM_TRUNCATED: a futex.wait (sync), a Mutex.lock() (async), a mailbox receive(). Time to the child's report
// over IPC. Usage: node scripts/truncation-times.cjs [rounds] (after npx tsc -p .). Figures: docs/design/shm.md.
const { fork } = require('node:child_process');
const fs = require('node:fs');
const { SharedMemory, Mutex, MailboxGroup } = require('../dist');
const fixture = require('node:path').join(__dirname, '..', 'test', 'shm', 'fixtures', 'truncate-child.cjs');
const rounds = Number(process.argv[2] || 10);
function start(task) {
  const c = fork(fixture, [JSON.stringify(task)], { stdio: 'inherit' });
  return new Promise((res) => c.on('message', (m) => m.ready && res(c))).then((c) => c);
}
const done = (c) => new Promise((res) => c.on('message', (m) => m.done && res(m)));
const trunc = (n, size) => {
  const fd = fs.openSync(`/dev/shm${n}`, 'r+');
  fs.ftruncateSync(fd, size);
  fs.closeSync(fd);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  for (const kind of ['futex-sync', 'mutex-async', 'mailbox-receive']) {
    const times = [];
    const codes = {};
    for (let i = 0; i < rounds; i++) {
      const n = `/interproc-measure-${process.pid}-${i}`;
      let keep, c;
      if (kind === 'futex-sync') {
        keep = SharedMemory.create(n, { size: 16384 });
        c = await start({ role: 'futexWait', name: n, form: 'sync', index: 0 });
      } else if (kind === 'mutex-async') {
        keep = Mutex.create(n);
        keep.lockSync();
        c = await start({ role: 'mutexWait', name: n, form: 'async' });
      } else {
        keep = MailboxGroup.create(n, { members: 2, id: 0, ringSize: 4096 });
        c = await start({ role: 'mailbox', name: n, id: 1, peer: 0, send: false });
      }
      await sleep(100);
      const d = done(c);
      const t0 = process.hrtime.bigint();
      trunc(n, 0);
      const r = await d;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      codes[r.code] = (codes[r.code] || 0) + 1;
      await new Promise((res) => c.on('exit', res));
      try {
        keep.close();
      } catch {}
      SharedMemory.unlink(n);
    }
    times.sort((a, b) => a - b);
    console.log(
      kind,
      'rounds',
      rounds,
      'codes',
      JSON.stringify(codes),
      'ms median',
      times[rounds >> 1].toFixed(1),
      'max',
      times[rounds - 1].toFixed(1),
    );
  }
})();
