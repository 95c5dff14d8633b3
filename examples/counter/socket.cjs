// A counter service in the message-passing model: the service owns the counter; clients send
// "add" requests over a Unix socket channel and get the new value back. The same service is written
// in each model (socket.cjs, shm.cjs, mailbox.cjs, store.cjs); `interproc compare` counts their lines.
// Usage: node examples/counter/socket.cjs [clients] [adds]   prints {"count": clients × adds}
'use strict';
const { fork } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { listen, connect } = require('../../dist');

async function service(clients, adds) {
  const address = path.join(os.tmpdir(), `interproc-counter-${process.pid}.sock`);
  const server = await listen(address);
  let count = 0;
  server.on('connection', (ch) => {
    ch.on('message', ({ data }) => {
      count += data.readInt32LE(0);
      const reply = Buffer.alloc(4);
      reply.writeInt32LE(count, 0);
      ch.send(reply);
    });
  });
  const children = Array.from({ length: clients }, () => fork(__filename, ['client', address, adds]));
  await Promise.all(children.map((c) => new Promise((resolve) => c.on('exit', resolve))));
  await server.close();
  console.log(JSON.stringify({ count }));
}

async function client(address, adds) {
  const ch = await connect(address);
  const one = Buffer.alloc(4);
  one.writeInt32LE(1, 0);
  for (let i = 0; i < adds; i++) {
    ch.send(one);
    await ch.receive(); // the new value
  }
  await ch.close();
}

const [role, a, b] = process.argv.slice(2);
if (role === 'client') client(a, Number(b));
else service(Number(role ?? 2), Number(a ?? 1000));
