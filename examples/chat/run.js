// Runs a scripted chat: a server and three clients, each a separate Node program, talking over an
// abstract Unix socket. Usage: node examples/chat/run.js
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const address = `@interproc-chat-example-${process.pid}`;
const node = (file) => spawn(process.execPath, [path.join(__dirname, file), address], { stdio: ['pipe', 'pipe', 'inherit'] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const server = node('server.js');
  server.stdout.pipe(process.stdout);
  await new Promise((r) => server.stdout.once('data', r));
  const clients = ['alice', 'bob', 'carol'].map((name) => {
    const c = node('client.js');
    c.stdout.on('data', (d) => process.stdout.write(d.toString().replace(/^(?=.)/gm, `${name}> `)));
    return c;
  });
  await sleep(500);
  clients[0].stdin.write('hello everyone\n');
  await sleep(200);
  clients[1].stdin.write('hi alice\n');
  await sleep(200);
  clients[2].stdin.end('bye\n'); // carol leaves
  await sleep(300);
  for (const c of clients) c.kill();
  server.kill();
}

main();
