// A worker: connects to the service's socket (WORKER_SOCKET) and answers requests { n } with n * n,
// after a short random delay so that replies come back out of order.
'use strict';
const { connect, serve } = require('../../dist');

async function main() {
  const channel = await connect({ path: process.env.WORKER_SOCKET });
  serve(channel, async (data) => {
    const { n } = JSON.parse(data.toString());
    await new Promise((r) => setTimeout(r, Math.random() * 3));
    return JSON.stringify({ n, square: n * n, pid: process.pid });
  });
  channel.on('close', () => process.exit(0));
}
main();
