// The counter-and-histogram service on one host: MEMBERS separate Node programs share one store
// over mailboxes (member 0 creates it, the others join by name); each prints the report it read.
// Usage: node examples/store-counter/run.js [MEMBERS=3]
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { Store } = require('../../dist');

const members = Number(process.argv[2] || 3);
const name = `/interproc-example-store-${process.pid}`;

function start(args) {
  const child = spawn(process.execPath, [path.join(__dirname, 'member.cjs'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let buf = '';
  const ready = new Promise((resolve) =>
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (line.ready) resolve();
        else lines.push(line);
      }
    }),
  );
  const done = new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(lines) : reject(new Error(`member exited ${code}`)))),
  );
  return { ready, done };
}

async function main() {
  try {
    const first = start(['create', name, String(members)]);
    await first.ready;
    const rest = Array.from({ length: members - 1 }, (_, i) => start(['join', name, String(i + 1)]));
    const reports = (await Promise.all([first, ...rest].map((m) => m.done))).flat();
    for (const r of reports) console.log(JSON.stringify(r));
  } finally {
    Store.unlink(name);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
