// The owner side of the store benchmark: member 1 of a store, serving its blocks until its parent
// goes away. argv: mailbox NAME SPIN | unix PATH LAYOUT | echo NAME SPIN
// 'echo' is the floor under a store round trip: member 1 of a bare mailbox group that sends every
// message straight back (receive, trySend), with nothing of the store in between.
'use strict';
const { MailboxGroup, Store } = require('../../dist');

async function echo(name, spin) {
  const group = MailboxGroup.join(name, { id: 1, spin });
  process.send({ ready: true });
  process.on('disconnect', () => {
    group.close();
    process.exit(0);
  });
  for (;;) {
    const m = await group.receive(0);
    group.trySend(0, m.data);
  }
}

async function main() {
  const [kind, where, spin] = process.argv.slice(2);
  if (kind === 'echo') return echo(where, Number(spin) || 0);
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
