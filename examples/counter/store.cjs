// A counter service in the model of shared memory over message passing: the counter is a cell of a
// Store whose block the service owns; clients add to it with `await counter.add(0, 1)`, which is a
// request to the service and its reply (the value before the add). The same service is written in
// each model (socket.cjs, shm.cjs, mailbox.cjs, store.cjs); `interproc compare` counts their lines.
// Usage: node examples/counter/store.cjs [clients] [adds]   prints {"count": clients × adds}
'use strict';
const { fork } = require('node:child_process');
const { Store } = require('../../dist');

async function service(clients, adds) {
  const name = `/interproc-counter-${process.pid}`;
  const store = Store.create(name, { members: clients + 1, size: 4096 }); // one block: the service's
  const counter = store.int32(0, 1);
  const children = Array.from({ length: clients }, () => fork(__filename, ['client', name, adds]));
  await Promise.all(children.map((c) => new Promise((resolve) => c.on('exit', resolve))));
  console.log(JSON.stringify({ count: await counter.load(0) }));
  await store.close();
  Store.unlink(name);
}

async function client(name, adds) {
  const store = Store.join(name);
  const counter = store.int32(0, 1);
  for (let i = 0; i < adds; i++) {
    const _newValue = (await counter.add(0, 1)) + 1; // add() answers the value before
  }
  await store.close();
}

const [role, a, b] = process.argv.slice(2);
if (role === 'client') client(a, Number(b));
else service(Number(role ?? 2), Number(a ?? 1000));
