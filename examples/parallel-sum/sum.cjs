// An MPI-style parallel sum: each member adds its block of 1..N, then reduce() brings the total to
// rank 0. Start it with the launcher of this folder (node examples/parallel-sum/run.cjs 4) or with
// Open MPI (mpirun -np 4 node examples/parallel-sum/sum.cjs): the code is the same.
'use strict';
const { joinGroup } = require('../..');

async function main() {
  const N = Number(process.argv[2] ?? 10_000_000);
  const g = await joinGroup();
  const per = Math.ceil(N / g.size);
  const from = g.rank * per + 1;
  const to = Math.min(N, from + per - 1);
  let part = 0;
  for (let i = from; i <= to; i++) part += i;
  const counts = await g.gather(to - from + 1); // every member did its share
  const total = await g.reduce(part, 'sum');
  if (g.rank === 0) console.log(JSON.stringify({ size: g.size, N, total, expected: (N * (N + 1)) / 2, counts }));
  g.close();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
