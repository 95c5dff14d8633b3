// Chat server: a separate Node program that relays every line to every other client, naming the
// sender by the pid the kernel reports for it (no login: the socket knows who is talking).
// Usage: node examples/chat/server.js [address]   (default @interproc-chat, an abstract name: no file)
'use strict';
const { listen } = require('../../dist');

async function main() {
  const address = process.argv[2] || '@interproc-chat';
  const server = await listen(address, { codec: 'v8', allowUids: [process.getuid()] }); // same user only
  const members = new Set();
  console.log(`chat server on ${JSON.stringify(server.address)}, pid ${process.pid}`);
  server.on('rejected', (err) => console.log(err.message));
  server.on('clientError', (err, ch) => console.log(`pid ${ch.peer?.pid} dropped: ${err.message}`));
  for await (const ch of server) {
    const who = `pid ${ch.peer.pid}`;
    members.add(ch);
    const broadcast = (msg) => {
      for (const m of members) if (m !== ch && !m.closed) m.send(msg);
    };
    broadcast({ from: 'server', text: `${who} joined` });
    ch.on('message', ({ data }) => broadcast({ from: who, text: String(data.text).slice(0, 1000) }));
    ch.on('close', () => {
      members.delete(ch);
      broadcast({ from: 'server', text: `${who} left` });
    });
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
