// A counter service in the shared-memory model: the counter is a word in a shared segment, guarded
// by a process-shared robust Mutex; clients lock, add, read the new value and unlock. The same
// service is written in each model (socket.cjs, shm.cjs, mailbox.cjs, store.cjs); `interproc
// compare` counts their lines.
// Usage: node examples/counter/shm.cjs [clients] [adds]   prints {"count": clients × adds}
'use strict';
const { fork } = require('node:child_process');
const { SharedMemory, Mutex, OwnerDeadError } = require('../../dist');

const COUNT = 16; // the counter: Int32 word 16 (byte 64), after the Mutex at byte 0

async function service(clients, adds) {
  const name = `/interproc-counter-${process.pid}`;
  const shm = SharedMemory.create(name, { size: 4096 });
  Mutex.initAt(shm, 0);
  const children = Array.from({ length: clients }, () => fork(__filename, ['client', name, adds]));
  await Promise.all(children.map((c) => new Promise((resolve) => c.on('exit', resolve))));
  console.log(JSON.stringify({ count: new Int32Array(shm.buffer)[COUNT] }));
  shm.close();
  SharedMemory.unlink(name);
}

function client(name, adds) {
  const shm = SharedMemory.open(name);
  const mutex = Mutex.openAt(shm, 0);
  const words = new Int32Array(shm.buffer);
  for (let i = 0; i < adds; i++) {
    let guard;
    try {
      guard = mutex.lockSync();
    } catch (err) {
      if (!(err instanceof OwnerDeadError)) throw err;
      guard = err.guard; // a client died holding the lock: the add it was making is whole or not made
      guard.markConsistent();
    }
    words[COUNT] += 1;
    const _newValue = words[COUNT];
    guard.unlock();
  }
  shm.close();
}

const [role, a, b] = process.argv.slice(2);
if (role === 'client') client(a, Number(b));
else service(Number(role ?? 2), Number(a ?? 1000));
