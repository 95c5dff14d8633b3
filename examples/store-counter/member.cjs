// One program of the counter-and-histogram service: it handles simulated requests and records each
// one in the shared store (a request counter, a latency histogram, a latency sum), then, once every
// member is done, prints the report that all of them read from the same store.
//   node member.cjs create NAME MEMBERS        member 0 on this host: creates the store (mailboxes)
//   node member.cjs join NAME ID               another member on this host
//   node member.cjs tcp ID ADDRESSES           a member over TCP; ADDRESSES = host:port of every member, by id
// Environment: EVENTS (default 20000) simulated requests per member.
'use strict';
const { Store } = require('../../dist');

const EVENTS = Number(process.env.EVENTS || 20000);
const LAYOUT = { size: 64 * 1024, blockSize: 4096 };
// Where things live (Int32 indexes unless said): block 0 (member 0) the counters, block 1 the
// histogram, block 2 the sum; with the cyclic rule and 2+ members they are served by different members.
const REQUESTS = 0;
const DONE = 1;
const SEEN = 2;
const LEFT = 3;
const HIST = 4096 / 4; // 16 buckets: bucket b counts latencies in [2^b, 2^(b+1)) µs
const SUM = 8192 / 8; // BigInt64 index: the sum of every latency, µs

function latencyMicros(member, i) {
  // A made-up, repeatable latency: mostly ~100 µs to a few ms, a long tail.
  let x = (member * 7919 + i * 104729) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0x5bd1e995) >>> 0;
  const u = (x % 10000) / 10000;
  return Math.max(1, Math.round(50 * Math.exp(u * u * 8)));
}

async function open() {
  const [how, a, b] = process.argv.slice(2);
  if (how === 'create') return Store.create(a, { ...LAYOUT, members: Number(b) });
  if (how === 'join') return Store.join(a, { id: Number(b) });
  const id = Number(a);
  const peers = b.split(',').map((hp) => {
    const [host, port] = hp.split(':');
    return { host, port: Number(port) };
  });
  return Store.open({ ...LAYOUT, members: peers.length, id, listen: peers[id], peers });
}

async function until(view, index, value) {
  for (;;) {
    const now = await view.load(index);
    if (now >= value) return;
    await view.waitAsync(index, now, 1000);
  }
}

async function main() {
  const store = await open();
  console.log(JSON.stringify({ member: store.id, ready: true }));
  await store.ready({ timeout: 30000 });
  const counters = store.int32(0, 16);
  const hist = store.int32(HIST * 4, 16);
  const sum = store.bigInt64();
  let mine = 0;
  for (let i = 0; i < EVENTS; i += 500) {
    const p = store.pipeline(); // 500 requests' worth of updates travel together
    for (let k = i; k < Math.min(EVENTS, i + 500); k++) {
      const us = latencyMicros(store.id, k);
      mine += us;
      p.add(counters, REQUESTS, 1);
      p.add(hist, Math.min(15, Math.floor(Math.log2(us))), 1);
      p.add(sum, SUM, BigInt(us));
    }
    await p.exec();
  }
  await counters.add(DONE, 1);
  await counters.notify(DONE);
  await until(counters, DONE, store.members);
  // Every member reads the same report.
  const report = {
    member: store.id,
    mySum: mine,
    requests: await counters.load(REQUESTS),
    histogram: await Promise.all(Array.from({ length: 16 }, (_, b) => hist.load(b))),
    sum: String(await sum.load(SUM)),
  };
  console.log(JSON.stringify(report));
  // Nobody leaves before everyone has read (a member's blocks go with it).
  await counters.add(SEEN, 1);
  await counters.notify(SEEN);
  await until(counters, SEEN, store.members);
  // Leaving: member 0 owns the counters, so it goes last (a member's blocks go with it).
  if (store.id !== 0) {
    // (member 0 may be gone by the time the notify's answer would come: that is the point)
    await Promise.all([counters.add(LEFT, 1), counters.notify(LEFT)]).catch((err) => {
      if (err.code !== 'ERR_STORE_OWNER_DEAD') throw err;
    });
  } else await until(counters, LEFT, store.members - 1);
  await store.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
