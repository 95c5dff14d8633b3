// Where should the mailbox hot path run? The same ring (native/core/mailbox/ring.hpp layout) driven two
// ways between two processes pinned to CPUs 0 and 1, both sides polling (no sleeping):
//   js        lib/mailbox/ring.ts over the mapped buffer (Atomics on the mapping, no native call per message),
//             one message at a time (tryWrite + publish, peek + copy + release)
//   js-batch  the same in batches of 64: one publication per 64 writes, takeMany(64) on the other side
//             (what cork()/uncork() and receiveMany() do)
//   c++       native ringWriteBatch/ringReadBatch, 64 messages per Node-API call
// Throughput at 64 B and 64 KiB; each receiver copies every message out of the ring once and makes
// a Buffer view of the copy. js and c++ copy into one reused scratch buffer; js-batch allocates a
// private block per run of records, as receiveMany() must (the messages are the caller's to keep):
// at 64 KiB that is a fresh, cache-cold 64 KiB block per message, which the other two do not pay.
//   node bench/scenarios/mailbox-hotpath.cjs [--quick]
'use strict';
const { spawn } = require('node:child_process');
const { row, progress, repetitions, quick } = require('../lib/report.cjs');

const BATCH = 64;

async function side() {
  const [, , role, name, sizeS, countS] = process.argv;
  const size = Number(sizeS);
  const count = Number(countS);
  const { SharedMemory } = require('../../dist');
  const { native } = require('../../dist/internal/binding');
  const { RingProducer, RingConsumer } = require('../../dist/mailbox/ring');
  const shm = SharedMemory.open(name);
  const handle = SharedMemory.handleOf(shm);
  const [, capacity, ringsOffset] = native.mailboxCheck(handle);
  const u32 = new Uint32Array(shm.buffer);
  const buf = Buffer.from(shm.buffer);
  const clock = new BigInt64Array(shm.buffer, shm.size - 64, 2); // [start, end] ns
  const msg = Buffer.alloc(size, 7);
  if (role === 'js-send') {
    const p = new RingProducer(u32, buf, ringsOffset, capacity);
    Atomics.store(clock, 0, process.hrtime.bigint());
    for (let i = 0; i < count; i++) while (p.tryWrite(msg, size) === false);
  } else if (role === 'js-batch-send') {
    const p = new RingProducer(u32, buf, ringsOffset, capacity);
    Atomics.store(clock, 0, process.hrtime.bigint());
    for (let i = 0; i < count; i++) {
      const last = (i + 1) % BATCH === 0 || i + 1 === count;
      // full: what is written must become visible, or the reader could never make room
      while (p.tryWrite(msg, size, last) === false) if (p.unpublished) p.publish();
    }
  } else if (role === 'cpp-send') {
    const batch = new Array(BATCH).fill(msg);
    Atomics.store(clock, 0, process.hrtime.bigint());
    for (let left = count; left > 0; ) {
      const list = left >= BATCH ? batch : batch.slice(0, left);
      left -= native.ringWriteBatch(handle, ringsOffset, list);
    }
  } else if (role === 'js-recv') {
    const c = new RingConsumer(u32, ringsOffset, capacity);
    const scratch = Buffer.allocUnsafe(1 << 17); // the same work as the C++ side: one copy out, then a view
    let _sum = 0;
    for (let i = 0; i < count; i++) {
      while (!c.peek());
      buf.copy(scratch, 0, c.at, c.at + c.length);
      const data = scratch.subarray(0, c.length);
      c.release();
      _sum += data.length;
    }
    Atomics.store(clock, 1, process.hrtime.bigint());
  } else if (role === 'js-batch-recv') {
    const c = new RingConsumer(u32, ringsOffset, capacity);
    let _sum = 0;
    for (let got = 0; got < count; ) {
      const batch = c.takeMany(buf, BATCH);
      for (let k = 0; k < batch.length; k++) _sum += batch[k].length;
      got += batch.length;
    }
    Atomics.store(clock, 1, process.hrtime.bigint());
  } else {
    const out = Buffer.allocUnsafe(Math.max(1 << 16, BATCH * (size + 8)) + 8);
    let _sum = 0;
    for (let got = 0; got < count; ) {
      const n = native.ringReadBatch(handle, ringsOffset, out);
      for (let k = 0, at = 0; k < n; k++) {
        const len = out.readUInt32LE(at);
        const data = out.subarray(at + 4, at + 4 + len);
        _sum += data.length;
        at += (4 + len + 3) & ~3;
      }
      got += n;
    }
    Atomics.store(clock, 1, process.hrtime.bigint());
  }
  shm.close();
}

function run(cpu, args) {
  return new Promise((resolve, reject) => {
    const c = spawn('taskset', ['-c', String(cpu), process.execPath, __filename, ...args], { stdio: 'inherit' });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]} exited ${code}`))));
  });
}

async function main() {
  const { SharedMemory } = require('../../dist');
  const { native } = require('../../dist/internal/binding');
  for (const [size, count] of [
    [64, quick ? 1_000_000 : 3_000_000],
    [65536, quick ? 10_000 : 30_000],
  ]) {
    for (const kind of ['js', 'js-batch', 'c++']) {
      progress(`hot path ${kind}, ${size} B`);
      const runs = [];
      for (let r = 0; r < repetitions; r++) {
        const name = `/interproc-bench-hotpath-${process.pid}-${r}`;
        const ring = 1 << 20;
        const shm = SharedMemory.create(name, { size: native.mailboxSize(2, ring) + 64 });
        try {
          native.mailboxInit(SharedMemory.handleOf(shm), 2, ring);
          const k = kind === 'c++' ? 'cpp' : kind;
          await Promise.all([run(1, [`${k}-recv`, name, size, count]), run(0, [`${k}-send`, name, size, count])]);
          const clock = new BigInt64Array(shm.buffer, shm.size - 64, 2);
          runs.push(count / (Number(clock[1] - clock[0]) / 1e9));
        } finally {
          shm.close();
          SharedMemory.unlink(name);
        }
      }
      const base = {
        area: 'mailbox',
        mechanism: 'ring hot path',
        mode: {
          js: 'JS over the mapping (lib/mailbox/ring.ts)',
          'js-batch': `JS over the mapping, batches of ${BATCH}`,
          'c++': `C++ via Node-API, batches of ${BATCH}`,
        }[kind],
        payload: size,
        placement: 'pinned CPUs 0/1',
        note: `1 MiB ring; both sides poll; each message copied out of the ring once, then a Buffer view of it${kind === 'js-batch' ? ' (copies are freshly allocated blocks, kept by the caller)' : ' (copies go to one reused scratch buffer)'}`,
      };
      row({ ...base, metric: 'msgs_per_s', runs });
      if (size > 64) row({ ...base, metric: 'MB_per_s', runs: runs.map((v) => (v * size) / 1e6) });
    }
  }
}

if (process.argv[2] && process.argv[2] !== '--quick')
  side().catch((e) => {
    console.error(e);
    process.exit(1);
  });
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
