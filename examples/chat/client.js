// Chat client: reads lines from stdin and sends them; prints what the others say.
// Usage: node examples/chat/client.js [address]
'use strict';
const readline = require('node:readline');
const { connect } = require('../../dist');

async function main() {
  const ch = await connect(process.argv[2] || '@interproc-chat', { codec: 'v8' });
  console.log(`connected to the chat server, pid ${ch.peer.pid} (uid ${ch.peer.uid})`);
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (text) => ch.send({ text }));
  rl.on('close', () => ch.close());
  for await (const { data } of ch) console.log(`[${data.from}] ${data.text}`);
  console.log('chat closed');
  rl.close();
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
