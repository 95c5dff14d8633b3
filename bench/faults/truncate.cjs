// Fault rounds of truncation (issue 16 item 4): the driver, a process of the same user, ftruncates
// /dev/shm/NAME under processes that map it (the members of a mailbox group; the holder and waiters
// of a named Mutex; a plain segment's readers and futex waiters). Each of them must live (exit 0, no
// SIGBUS) and see ERR_SHM_TRUNCATED; the times run from the ftruncate to each one's error.
// See bench/faults/round.cjs for the protocol.
'use strict';
const { closeSync, ftruncateSync, openSync, statSync } = require('node:fs');
const { main, report, done, dist, now, sleep, codeOf } = require('./round.cjs');

const { SharedMemory, MailboxGroup, Mutex, futex } = dist();
const WAIT_MS = 10_000;
const tick = () => new Promise((r) => setImmediate(r));

function truncate(name, size) {
  const fd = openSync(`/dev/shm${name}`, 'r+');
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

// --- children ----------------------------------------------------------------------------------

const roles = {
  // A mailbox member that sends to `peer` (awaiting each send) or receives from it, until an error;
  // then one more operation, which must fail the same way.
  async member({ name, id, peer, send, doorbell }) {
    const g = MailboxGroup.join(name, { id, doorbell });
    const payload = Buffer.alloc(200, 1);
    await report({ ready: true });
    let rounds = 0;
    let code;
    try {
      for (;;) {
        if (send) await g.send(peer, payload, { timeout: WAIT_MS });
        else if ((await g.receive(peer, { timeout: WAIT_MS })).data.length !== 200) throw new Error('torn message');
        rounds++;
      }
    } catch (err) {
      code = codeOf(err);
    }
    const at = now();
    let again = 'ok';
    try {
      if (send) g.trySend(peer, payload);
      else g.tryReceive();
    } catch (err) {
      again = codeOf(err);
    }
    g.close();
    done({ code, again, rounds, at });
  },

  // Holds the named mutex until told; then tries to unlock it.
  async mutexHold({ name }) {
    const m = Mutex.open(name);
    const g = m.lockSync();
    await report({ ready: true });
    await new Promise((r) => process.once('message', r));
    let unlock = 'ok';
    try {
      g.unlock();
    } catch (err) {
      unlock = codeOf(err);
    }
    done({ code: unlock });
  },

  // Waits for the named mutex (held by another child) in `form`.
  async mutexWait({ name, form }) {
    const m = Mutex.open(name);
    await report({ ready: true });
    let code = 'locked';
    try {
      if (form === 'sync') m.lockSync({ timeout: WAIT_MS });
      else await m.lock({ timeout: WAIT_MS });
    } catch (err) {
      code = codeOf(err);
    }
    done({ code, at: now() });
  },

  // Reads every page of a plain segment from JS, turn after turn, until the library says it was truncated.
  async pageReader({ name }) {
    const shm = SharedMemory.open(name);
    const u8 = new Uint8Array(shm.buffer);
    await report({ ready: true });
    const deadline = now() + WAIT_MS;
    while (!shm.truncated && now() < deadline) {
      let sum = 0;
      for (let i = 0; i < u8.length; i += 4096) sum += u8[i];
      if (sum < 0) throw new Error('unreachable');
      await tick();
    }
    const at = now();
    done({ code: shm.truncated ? 'truncated' : 'never saw it', lost: u8[u8.length - 1], at });
  },

  // A futex.wait (the thread blocked) or futex.waitAsync on word `index`, pending at the truncate.
  async futexWait({ name, form, index }) {
    const shm = SharedMemory.open(name);
    const i32 = new Int32Array(shm.buffer);
    await report({ ready: true });
    let code;
    try {
      code = form === 'sync' ? futex.wait(i32, index, 0, WAIT_MS) : await futex.waitAsync(i32, index, 0, WAIT_MS);
    } catch (err) {
      code = codeOf(err);
    }
    done({ code, at: now() });
  },
};

// --- drivers -----------------------------------------------------------------------------------

/** Starts the children, truncates, and collects each one's report and how it ended. */
async function truncateUnder(round, name, kids, size) {
  for (const k of kids) await round.message(k.child, (m) => m?.ready, 20_000, `${k.who} ready`);
  await sleep(200); // messages flow, waiters are asleep
  const reports = kids.map((k) =>
    round
      .message(k.child, (m) => m?.done, WAIT_MS + 5000, `${k.who}'s report`)
      .then(
        async (r) => ({ ...r, end: await k.child.gone }),
        (e) => ({ code: 'no report', end: e.ended ?? 'hung' }),
      ),
  );
  const t0 = now();
  truncate(name, size(name));
  return { t0, got: await Promise.all(reports) };
}

/** 'every process lived, ERR_SHM_TRUNCATED' or what each one did instead; crashed when one ended otherwise than exit 0. */
function judge(kids, got, extra = []) {
  const wrong = [];
  got.forEach((r, i) => {
    const expected = kids[i].expect ?? 'ERR_SHM_TRUNCATED';
    if (r.end !== 'exit 0') wrong.push(`${kids[i].who} ended with ${r.end}`);
    else if (r.code !== expected) wrong.push(`${kids[i].who}: ${r.code}`);
    else if (r.again !== undefined && r.again !== expected) wrong.push(`${kids[i].who} again: ${r.again}`);
  });
  wrong.push(...extra);
  return {
    outcome: wrong.length ? wrong.join('; ') : 'every process lived, ERR_SHM_TRUNCATED',
    crashed: got.some((r) => r.end !== 'exit 0'),
  };
}

function mailboxTruncation(doorbell, half) {
  return async (round) => {
    const name = round.name('trunc-mb');
    const g = MailboxGroup.create(name, { members: 3, id: 2, ringSize: 4096, doorbell });
    round.onEnd(() => g.close());
    const kids = [
      { who: 'consumer', child: round.role(__filename, 'member', { name, id: 1, peer: 0, send: false, doorbell }) },
      { who: 'producer', child: round.role(__filename, 'member', { name, id: 0, peer: 1, send: true, doorbell }) },
    ];
    const { t0, got } = await truncateUnder(round, name, kids, (n) => (half ? Math.floor(statSync(`/dev/shm${n}`).size / 2) : 0));
    // This member, which did nothing meanwhile, finds out at its next operation.
    const extra = [];
    try {
      g.trySend(0, 'x');
      extra.push('the idle member could still send');
    } catch (err) {
      if (codeOf(err) !== 'ERR_SHM_TRUNCATED') extra.push(`the idle member: ${codeOf(err)}`);
    }
    return {
      ...judge(kids, got, extra),
      times: { 'truncate → consumer error': got[0].at - t0, 'truncate → producer error': got[1].at - t0 },
      figures: { 'messages before the truncate': got[1].rounds },
    };
  };
}

async function syncTruncation(round) {
  const name = round.name('trunc-mutex');
  const m = Mutex.create(name);
  round.onEnd(() => m.close());
  const holder = { who: 'holder', child: round.role(__filename, 'mutexHold', { name }) };
  await round.message(holder.child, (x) => x?.ready, 20_000, 'holder ready');
  const kids = [
    { who: 'async waiter', child: round.role(__filename, 'mutexWait', { name, form: 'async' }) },
    { who: 'sync waiter', child: round.role(__filename, 'mutexWait', { name, form: 'sync' }) },
  ];
  const { t0, got } = await truncateUnder(round, name, kids, () => 0);
  holder.child.send('unlock');
  const h = await round
    .message(holder.child, (x) => x?.done)
    .then(
      async (r) => ({ ...r, end: await holder.child.gone }),
      (e) => ({ code: 'no report', end: e.ended ?? 'hung' }),
    );
  return {
    ...judge([...kids, holder], [...got, h]),
    times: { 'truncate → async waiter error': got[0].at - t0, 'truncate → sync waiter error': got[1].at - t0 },
  };
}

async function shmTruncation(round) {
  const SIZE = 64 * 1024;
  const name = round.name('trunc-shm');
  const shm = SharedMemory.create(name, { size: SIZE });
  round.onEnd(() => shm.close());
  const lost = SIZE / 2 / 4; // a word in the half that goes
  const kids = [
    { who: 'page reader', expect: 'truncated', child: round.role(__filename, 'pageReader', { name }) },
    { who: 'futex.wait', child: round.role(__filename, 'futexWait', { name, form: 'sync', index: lost }) },
    { who: 'futex.waitAsync', child: round.role(__filename, 'futexWait', { name, form: 'async', index: 0 }) },
  ];
  const { t0, got } = await truncateUnder(round, name, kids, () => 8192);
  const extra = got[0].lost === 0 || got[0].lost === undefined ? [] : ['the page reader read old bytes past the end'];
  return {
    ...judge(kids, got, extra),
    times: {
      'truncate → reader sees it': got[0].at - t0,
      'truncate → futex.wait error': got[1].at - t0,
      'truncate → futex.waitAsync error': got[2].at - t0,
    },
  };
}

const drivers = {
  'truncate-mailbox': mailboxTruncation('eventfd', false),
  'truncate-mailbox-futex': mailboxTruncation('futex', true),
  'truncate-mutex': syncTruncation,
  'truncate-shm': shmTruncation,
};

if (require.main === module) main(drivers, roles);
