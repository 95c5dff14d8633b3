// A counter service in the model of message passing over shared memory: the service owns the
// counter; clients send "add" requests through a MailboxGroup (one shared-memory ring per pair of
// members) and get the new value back. The same service is written in each model (socket.cjs,
// shm.cjs, mailbox.cjs, store.cjs); `interproc compare` counts their lines.
// Usage: node examples/counter/mailbox.cjs [clients] [adds]   prints {"count": clients × adds}
'use strict';
const { fork } = require('node:child_process');
const { MailboxGroup } = require('../../dist');

async function service(clients, adds) {
  const name = `/interproc-counter-${process.pid}`;
  const group = MailboxGroup.create(name, { members: clients + 1 });
  const children = Array.from({ length: clients }, (_, i) => fork(__filename, ['client', name, adds, i + 1]));
  let count = 0;
  for (let done = 0; done < clients * adds; done++) {
    const { from, data } = await group.receive();
    count += data.readInt32LE(0);
    const reply = Buffer.alloc(4);
    reply.writeInt32LE(count, 0);
    await group.send(from, reply);
  }
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.on('exit', resolve)))));
  console.log(JSON.stringify({ count }));
  group.close();
  MailboxGroup.unlink(name);
}

async function client(name, adds, id) {
  const group = MailboxGroup.join(name, { id });
  const one = Buffer.alloc(4);
  one.writeInt32LE(1, 0);
  for (let i = 0; i < adds; i++) {
    await group.send(0, one);
    await group.receive(0); // the new value
  }
  group.close();
}

const [role, a, b, c] = process.argv.slice(2);
if (role === 'client') client(a, Number(b), Number(c));
else service(Number(role ?? 2), Number(a ?? 1000));
