// Starts the parallel sum on this host: node examples/parallel-sum/run.cjs [processes=4] [N=10000000]
'use strict';
const path = require('node:path');
const { spawnGroup } = require('../..');

async function main() {
  const size = Number(process.argv[2] ?? 4);
  const group = await spawnGroup(path.join(__dirname, 'sum.cjs'), { size, args: [process.argv[3] ?? '10000000'] });
  const exits = await group.exited;
  if (exits.some((e) => e.code !== 0)) process.exitCode = 1;
}
main();
