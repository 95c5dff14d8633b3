// Runs a scripted chat: a server and three clients, each a separate Node program, talking over an
// abstract Unix socket. Usage: node examples/chat/run.js
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const address = `@interproc-chat-example-${process.pid}`;
const node = (file) => spawn(process.execPath, [path.join(__dirname, file), address], { stdio: ['pipe', 'pipe', 'inherit'] });

// Prefixes a program's lines with its name, and resolves waitFor(text) once it has printed a line containing text.
function follow(child, name) {
  let seen = '';
  const waiting = [];
  child.stdout.on('data', (d) => {
    seen += d;
    process.stdout.write(d.toString().replace(/^(?=.)/gm, `${name}> `));
    for (const w of waiting.splice(0)) {
      if (seen.includes(w.text)) w.resolve();
      else waiting.push(w);
    }
  });
  return (text) => (seen.includes(text) ? Promise.resolve() : new Promise((resolve) => waiting.push({ text, resolve })));
}

async function main() {
  const server = node('server.js');
  await follow(server, 'server')('chat server on');
  const names = ['alice', 'bob', 'carol'];
  const clients = names.map(() => node('client.js'));
  const waitFor = clients.map((c, i) => follow(c, names[i]));
  await Promise.all(waitFor.map((w) => w('connected')));
  clients[0].stdin.write('hello everyone\n');
  await Promise.all([waitFor[1]('hello everyone'), waitFor[2]('hello everyone')]);
  clients[1].stdin.write('hi alice\n');
  await Promise.all([waitFor[0]('hi alice'), waitFor[2]('hi alice')]);
  clients[2].stdin.end('bye\n'); // carol leaves
  await Promise.all([waitFor[0]('left'), waitFor[1]('left')]);
  for (const c of [...clients, server]) c.kill();
}

main();
