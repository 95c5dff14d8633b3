// A service of worker processes kept alive by a one-for-one supervisor while workers are SIGKILLed.
//   node examples/supervisor/run.js [workers=3] [requests=600] [kills=4]  (at least `requests`: callers go on until `kills` were made)
// Requests go round robin to the workers over Unix-socket channels (rpc). A request pending on a
// worker that is killed rejects at once with ERR_RPC_PEER_DOWN; the caller sends it again to the
// next worker that is up, and the supervisor has meanwhile started a new worker in the dead one's
// place. Every request is answered, exactly the workers that died were restarted.
'use strict';
const { fork } = require('node:child_process');
const { rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { listen, rpcClient } = require('../../dist');
const { Supervisor } = require('./supervisor');

const workers = Number(process.argv[2] ?? 3);
const requests = Number(process.argv[3] ?? 600);
const kills = Number(process.argv[4] ?? 4);
const socket = path.join(os.tmpdir(), `interproc-example-supervisor-${process.pid}.sock`);
const say = (o) => console.log(JSON.stringify(o));

async function main() {
  const server = await listen({ path: socket });
  const clients = new Map(); // worker pid -> RpcClient
  const waiters = [];
  server.on('connection', (channel) => {
    const c = rpcClient(channel);
    clients.set(channel.peer.pid, c);
    channel.once('close', () => clients.delete(channel.peer.pid));
    for (const w of waiters.splice(0)) w();
  });
  const sup = new Supervisor(
    Array.from({ length: workers }, (_, i) => ({
      id: `worker-${i}`,
      start: () => fork(path.join(__dirname, 'worker.js'), [], { env: { ...process.env, WORKER_SOCKET: socket } }),
    })),
  );
  let restarts = 0;
  let onRestart = () => {};
  sup.on('down', (id, info) => {
    restarts++;
    say({ event: 'restart', id, why: info.description });
    onRestart();
  });
  sup.start();
  while (clients.size < workers) await new Promise((r) => waiters.push(r));

  let turn = 0;
  let retried = 0;
  const pids = new Set();
  async function ask(n) {
    for (;;) {
      const live = [...clients.values()];
      if (live.length === 0) {
        await new Promise((r) => waiters.push(r));
        continue;
      }
      const c = live[turn++ % live.length];
      try {
        const r = JSON.parse((await c.request(JSON.stringify({ n }), { timeout: 10_000 })).toString());
        pids.add(r.pid);
        return r.square;
      } catch (err) {
        if (err.code !== 'ERR_RPC_PEER_DOWN' && err.code !== 'ERR_INVALID_STATE') throw err;
        retried++;
      }
    }
  }
  let killed = 0;
  const chaos = setInterval(() => {
    if (killed >= kills) return;
    // Not one already killed: a process may take a while to die (and to close its channel).
    const victims = [...sup.children.values()].filter(
      ({ proc }) => !proc.killed && proc.exitCode === null && proc.signalCode === null,
    );
    const v = victims[Math.floor(Math.random() * victims.length)];
    if (!v || !clients.has(v.proc.pid)) return; // not connected yet: wait for the next round
    killed++;
    v.proc.kill('SIGKILL');
  }, 30);
  // Eight callers, each one request at a time, until `requests` are answered and `kills` were made.
  let next = 0;
  let answered = 0;
  let wrong = 0;
  const caller = async () => {
    while (next < requests || killed < kills) {
      const n = next++;
      if ((await ask(n)) !== n * n) wrong++;
      answered++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, caller));
  clearInterval(chaos);
  // The last kills may not be reported yet: the kernel tells once the process is gone.
  while (restarts < killed) await new Promise((r) => (onRestart = r));
  await sup.stop();
  for (const c of clients.values()) c.close();
  await server.close();
  rmSync(socket, { force: true });
  say({ event: 'summary', workers, requests, answered, wrong, kills: killed, restarts, retried, pids: pids.size });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
