// The owner side of the store benchmark: member 1 of a store, serving its blocks until its parent
// goes away. argv: mailbox NAME SPIN | unix PATH
'use strict';
const { Store } = require('../../dist');

async function main() {
  const [kind, where, spin] = process.argv.slice(2);
  let store;
  if (kind === 'mailbox') store = Store.join(where, { id: 1, spin: Number(spin) || 0 });
  else {
    const layout = JSON.parse(process.argv[4]);
    store = await Store.open({ ...layout, id: 1, listen: { path: where } });
  }
  process.send({ ready: true });
  process.on('disconnect', async () => {
    await store.close();
    process.exit(0);
  });
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
