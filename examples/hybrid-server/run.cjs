// Starts the hybrid server: node examples/hybrid-server/run.cjs [processes=3]
// Prints {"port": N} once rank 0 listens; try curl 'http://127.0.0.1:N/sum?n=1000', /stats, /quit.
'use strict';
const path = require('node:path');
const { spawnGroup } = require('../..');

async function main() {
  const group = await spawnGroup(path.join(__dirname, 'server.cjs'), { size: Number(process.argv[2] ?? 3) });
  group.processes[0].on('message', (m) => console.log(JSON.stringify(m)));
  const exits = await group.exited;
  if (exits.some((e) => e.code !== 0)) process.exitCode = 1;
}
main();
