// Inter-bank transfers by message passing: banks are processes, transfers are requests, and banks
// are SIGKILLed at random while the transfers run; the total money is checked to the unit.
//   node examples/bank/clearing-house.js [banks=4] [transfers=300] [kills=6]
//
// The clearing house (this process, member 0 of a mailbox group) moves money in two legs: a debit
// request to the paying bank, then a credit request to the receiving one. Each leg has its own
// operation id (2t and 2t + 1 for transfer t), so a request that is retried after its bank died
// is applied at most once (see ledger.js). A dead bank rejects its pending requests at once
// (ERR_RPC_PEER_DOWN, its pidfd); a monitor restarts it (one-for-one) and the legs are retried.
//
// Where the money is: in a bank (its ledger's balance), or in flight, between a transfer's debit and
// its credit (debited from one ledger, not yet credited to the other). At each kill the clearing
// house copies every ledger at that instant and checks: every applied word is a leg of a planned
// transfer with that leg's amount (nothing applied twice or made up), no credit was applied without
// its debit, and balances + money in flight = the opening total, to the unit. When every transfer
// has finished nothing is in flight, and the balances alone add up to the opening total.
'use strict';
const { fork } = require('node:child_process');
const path = require('node:path');
const { MailboxGroup, monitor, rpcClient } = require('../../dist');
const { Ledger } = require('./ledger');

const banks = Number(process.argv[2] ?? 4);
const transfers = Number(process.argv[3] ?? 300);
const kills = Number(process.argv[4] ?? 6);
const OPENING = 1000;
const run = String(process.pid);
const groupName = `/interproc-example-bank-${run}`;
const say = (o) => console.log(JSON.stringify(o));

async function main() {
  const group = MailboxGroup.create(groupName, { members: banks + 1, ringSize: 1 << 16 });
  const ledgers = [];
  for (let b = 1; b <= banks; b++) ledgers[b] = Ledger.create(run, b, OPENING);
  const procs = [];
  const monitors = [];
  let restarts = 0;
  let onRestart = () => {};
  let stopping = false;
  const start = (b) => {
    const p = fork(path.join(__dirname, 'bank.js'), [], {
      env: { ...process.env, BANK_GROUP: groupName, BANK_ID: String(b), BANK_RUN: run },
    });
    procs[b] = p;
    // One-for-one: the bank that died, and only it, is started again.
    monitors[b] = monitor(p).on('down', (info) => {
      if (stopping) return;
      restarts++;
      say({ event: 'bank down', bank: b, how: info.description });
      start(b);
      onRestart();
    });
    return new Promise((r) => p.once('message', r));
  };
  for (let b = 1; b <= banks; b++) await start(b);
  const clients = [];
  for (let b = 1; b <= banks; b++) clients[b] = rpcClient(group, b);
  const transport = clients[1].endpoint.transport;
  const up = (b) =>
    transport.isUp(b)
      ? undefined
      : new Promise((resolve) => {
          const onUp = (p) => {
            if (p !== b) return;
            transport.off('peer-up', onUp);
            resolve();
          };
          transport.on('peer-up', onUp);
        });

  /** One leg, retried until its bank answers (a dead bank is restarted meanwhile). */
  async function leg(b, id, amount) {
    for (;;) {
      await up(b);
      try {
        return (await clients[b].request(JSON.stringify({ id, amount }), { timeout: 10_000 })).toString();
      } catch (err) {
        if (err.code !== 'ERR_RPC_PEER_DOWN' && err.code !== 'ETIMEDOUT') throw err;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  // Transfer t: from bank 1 + t mod n to another bank, of 1..600 units (some are refused: too large).
  const plan = Array.from({ length: transfers }, (_, t) => {
    const from = 1 + (t % banks);
    const to = 1 + ((from + (t % (banks - 1))) % banks);
    return { t, from, to, amount: 1 + ((t * 37) % 600) };
  });
  /** The checks above, on one copy of every ledger. */
  const check = () => {
    const words = ledgers.map((l) => l?.snapshot());
    const applied = (b, id) => words[b][1 + id];
    let bad = 0;
    let inFlight = 0;
    const legs = new Map(); // `${bank}:${id}` -> amount, for every planned leg
    for (const { t, from, to, amount } of plan) {
      legs.set(`${from}:${2 * t}`, -amount);
      legs.set(`${to}:${2 * t + 1}`, amount);
      const debited = applied(from, 2 * t) !== 0;
      const credited = applied(to, 2 * t + 1) !== 0;
      if (credited && !debited) bad++;
      if (debited && !credited) inFlight += amount;
    }
    let balances = 0;
    for (let b = 1; b <= banks; b++) {
      balances += words[b][0];
      for (let id = 0; id < words[b].length - 1; id++) {
        const v = words[b][1 + id];
        if (v === 0) continue;
        if (legs.get(`${b}:${id}`) !== v) bad++;
        balances += v;
      }
    }
    return { total: balances + inFlight, inFlight, bad };
  };
  const checks = [];

  let done = 0;
  let refused = 0;
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const { t, from, to, amount } = plan[next++];
      if ((await leg(from, 2 * t, -amount)) === 'refused') {
        refused++;
        continue;
      }
      await leg(to, 2 * t + 1, amount);
      done++;
    }
  };
  let killed = 0;
  const chaos = setInterval(() => {
    if (killed >= kills) return;
    const b = 1 + Math.floor(Math.random() * banks);
    // Not one already killed: a process may take a while to die.
    if (procs[b].killed || procs[b].exitCode !== null || procs[b].signalCode !== null) return;
    killed++;
    procs[b].kill('SIGKILL');
    checks.push(check()); // at the moment of a kill
  }, 25);
  await Promise.all(Array.from({ length: 8 }, worker));
  clearInterval(chaos);
  // The last kills may not be reported yet: the kernel tells once the process is gone.
  while (restarts < killed) await new Promise((r) => (onRestart = r));
  stopping = true;
  checks.push(check());
  const balances = ledgers.slice(1).map((l) => l.balance());
  say({
    event: 'summary',
    banks,
    transfers,
    done,
    refused,
    kills: killed,
    restarts,
    expected: banks * OPENING,
    total: balances.reduce((a, b) => a + b, 0),
    inFlight: checks[checks.length - 1].inFlight,
    checks,
    balances,
  });
  for (const m of monitors) m?.demonitor();
  for (const c of clients.slice(1)) c.close();
  await Promise.all(
    procs
      .slice(1)
      .map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((r) => p.once('exit', r).kill()))),
  );
  group.close();
  MailboxGroup.unlink(groupName);
  for (let b = 1; b <= banks; b++) {
    ledgers[b].close();
    Ledger.unlink(run, b);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
