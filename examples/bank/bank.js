// One bank: joins the clearing house's mailbox group as member BANK_ID and serves requests
// { id, amount } by applying them to its ledger (ledger.js), which lives in shared memory and so
// survives this process being SIGKILLed; a restarted bank takes the same member slot and goes on.
'use strict';
const { MailboxGroup, serve } = require('../../dist');
const { Ledger } = require('./ledger');

const { BANK_GROUP, BANK_ID, BANK_RUN } = process.env;
const ledger = Ledger.open(BANK_RUN, Number(BANK_ID));
const group = MailboxGroup.join(BANK_GROUP, { id: Number(BANK_ID) });
serve(group, (data) => {
  const { id, amount } = JSON.parse(data.toString());
  return ledger.apply(id, amount);
});
process.send?.('ready');
process.on('disconnect', () => process.exit(0));
