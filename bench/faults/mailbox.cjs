// Fault rounds of the mailboxes (issue 16 items 5, 6, 7, 8 and the join race): a zero-filled or
// garbage segment under a consumer; send() calls issued without awaiting through a full ring;
// close() with a receive and a send pending; members joined in worker threads that are terminated;
// two joiners against a slot whose generation is odd. See bench/faults/round.cjs for the protocol.
'use strict';
const { spawn } = require('node:child_process');
const { readdirSync, readlinkSync } = require('node:fs');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { main, report, done, dist, fixture, now, sleep, codeOf, root } = require('./round.cjs');

const { SharedMemory, MailboxGroup } = dist();
const { layout } = require(path.join(root, 'dist', 'mailbox', 'ring'));
const { makeMessage, checkMessage } = require(fixture('mailbox', 'mailbox-messages.cjs'));
const WAIT_MS = 10_000;

/** A seeded generator of 32-bit words (mulberry32), so a round's garbage can be made again. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Eventfds open in this process. */
function eventfds() {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]') n++;
    } catch {
      // the listing's own fd, closed meanwhile
    }
  }
  return n;
}

// --- children ----------------------------------------------------------------------------------

const roles = {
  // A hostile process of the same user: overwrites the whole segment with seeded random words.
  async scribble({ name, seed }) {
    const shm = SharedMemory.open(name);
    const u32 = new Uint32Array(shm.buffer);
    const next = random(seed);
    for (let i = 0; i < u32.length; i++) u32[i] = next();
    shm.close();
    done({});
  },

  // Issues send() of `count` messages of seeded sizes without awaiting any; then a trySend, which
  // must say no while earlier sends still wait for room; then waits for all.
  async burst({ name, count, seed }) {
    const g = MailboxGroup.join(name, { id: 1 });
    const next = random(seed);
    let settled = 0;
    const pending = [];
    for (let seq = 0; seq < count; seq++)
      pending.push(g.send(0, makeMessage(0, seq, 16 + (next() % 1500))).then(() => settled++));
    await new Promise((r) => setImmediate(r));
    const waited = count - settled;
    const tried = g.trySend(0, makeMessage(0, count, 16));
    await report({ issued: count, waited, tried });
    await Promise.all(pending);
    g.close();
    done({ sent: count + (tried ? 1 : 0) });
  },

  // Joins slot `id` and holds it until killed (stands for a member that is alive).
  async hold({ name, id }) {
    MailboxGroup.join(name, { id });
    await report({ ready: true });
    setInterval(() => {}, 1000);
  },

  // Joins slot `id` once and reports whether it could.
  async joinOnce({ name, id }) {
    try {
      MailboxGroup.join(name, { id }).close();
      done({ joined: 'joined' });
    } catch (err) {
      done({ joined: codeOf(err) });
    }
  },
};

// --- drivers -----------------------------------------------------------------------------------

/** Runs a hostile child to completion. */
async function hostile(round, file, args) {
  const c = round.fork(file, args);
  await round.message(c, (m) => m?.done, 20_000, 'the hostile writer');
  await c.gone;
}

/**
 * Item 5: a consumer whose group segment another process zero-filled (or filled with garbage):
 * CALLS tryReceive() calls from the sender whose ring was in use.
 */
function corruptSegment(kind) {
  return async (round) => {
    const CALLS = 10_000;
    const name = round.name('corrupt');
    const a = MailboxGroup.create(name, { members: 3, ringSize: 4096 });
    const b = MailboxGroup.join(name, { id: 1 });
    const c = MailboxGroup.join(name, { id: 2 });
    round.onEnd(() => {
      for (const g of [a, b, c]) g.close();
    });
    for (let i = 0; i < 100; i++) {
      b.trySend(0, Buffer.alloc(56, i)); // both indices of ring 1 -> 0 move to 6400: position 2304
      if (a.tryReceive(1)?.data[0] !== i) throw new Error('the ring did not work before the fault');
    }
    if (kind === 'zero') await hostile(round, fixture('mailbox', 'hostile.cjs'), [JSON.stringify({ name, zero: [[0, -1]] })]);
    else await hostile(round, __filename, ['role', 'scribble', JSON.stringify({ name, seed: 1000 + (round.ctx.round ?? 0) })]);
    const counts = { messages: 0, empty: 0, none: 0, corrupt: 0, other: 0 };
    let other;
    let firstErrorAfter = -1;
    const t0 = now();
    for (let i = 0; i < CALLS; i++) {
      try {
        const m = a.tryReceive(1);
        if (m === undefined) counts.none++;
        else if (m.data.length === 0) counts.empty++;
        else counts.messages++;
      } catch (err) {
        if (firstErrorAfter < 0) firstErrorAfter = i;
        if (err.code === 'ERR_MAILBOX_CORRUPT' && err.member === 1) counts.corrupt++;
        else {
          counts.other++;
          other ??= codeOf(err);
        }
      }
    }
    const us = ((now() - t0) * 1000) / CALLS;
    let outcome;
    if (counts.corrupt === CALLS) outcome = 'ERR_MAILBOX_CORRUPT on every call';
    else if (counts.corrupt > 0 && counts.corrupt + counts.messages === CALLS && counts.messages <= 4096 / 8)
      outcome = `ERR_MAILBOX_CORRUPT after ${counts.messages} messages`;
    else
      outcome = Object.entries({ ...counts, [other]: counts.other })
        .filter(([k, v]) => v > 0 && k !== 'other')
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    return {
      outcome,
      figures: {
        'tryReceive calls': CALLS,
        'empty messages': counts.empty,
        'calls before the first error': firstErrorAfter,
        'µs per call': us,
      },
    };
  };
}

/** Item 6: `count` send() calls issued without awaiting through a 4 KiB ring: every message in call order. */
async function sendOrder(round) {
  const COUNT = 200;
  const name = round.name('order');
  const g = MailboxGroup.create(name, { members: 2, ringSize: 4096 });
  round.onEnd(() => g.close());
  const sender = round.role(__filename, 'burst', { name, count: COUNT, seed: 7 + (round.ctx.round ?? 0) });
  const issued = await round.message(sender, (m) => m?.issued !== undefined, 20_000, 'issued');
  await sleep(20); // anything that would overtake does so now
  const seqs = [];
  let torn = 0;
  const want = COUNT + (issued.tried ? 1 : 0);
  while (seqs.length < want) {
    let m;
    try {
      m = g.tryReceive(1) ?? (await g.receive(1, { timeout: WAIT_MS }));
    } catch (err) {
      return { outcome: `receive failed after ${seqs.length} messages: ${codeOf(err)}` };
    }
    const seq = m.data.length >= 16 ? m.data.readUInt32LE(4) : -1;
    if (checkMessage(m.data, 0, seq, m.data.length)) torn++;
    seqs.push(seq);
  }
  await round.message(sender, (m) => m?.done, 20_000, 'sent');
  let reorderings = 0;
  for (let i = 1; i < seqs.length; i++) if (seqs[i] < seqs[i - 1]) reorderings++;
  const inOrder = seqs.every((s, i) => s === i);
  const wrong = [];
  if (!inOrder) wrong.push(reorderings ? `${reorderings} reorderings` : 'lost or duplicated');
  if (torn) wrong.push(`${torn} torn`);
  if (issued.tried && issued.waited > 0) wrong.push('a trySend overtook waiting sends');
  if (issued.waited === 0) wrong.push('no send waited for room (nothing tested)');
  return {
    outcome: wrong.length ? wrong.join(', ') : 'every message in call order',
    figures: { reorderings, 'sends that waited for room': issued.waited, messages: seqs.length },
  };
}

/** Item 7 (mailbox): close() with a receive() and a send() of its own pending. */
async function closePending(round) {
  const name = round.name('close');
  const g = MailboxGroup.create(name, { members: 2, ringSize: 4096 });
  const peer = round.role(__filename, 'hold', { name, id: 1 });
  await round.message(peer, (m) => m?.ready, 20_000, 'peer ready');
  while (g.trySend(1, Buffer.alloc(512))) {} // the peer does not read: the next send waits for room
  const stamp = (p) =>
    p.then(
      () => ({ code: 'resolved', at: now() }),
      (err) => ({ code: codeOf(err), at: now() }),
    );
  const receiving = stamp(g.receive(1, { timeout: 2 * WAIT_MS }));
  const sending = stamp(g.send(1, Buffer.alloc(512), { timeout: 2 * WAIT_MS }));
  await sleep(50);
  const t0 = now();
  g.close();
  const timeout = sleep(WAIT_MS).then(() => ({ code: 'still pending', at: now() }));
  const [r, s] = await Promise.all([Promise.race([receiving, timeout]), Promise.race([sending, timeout])]);
  const again = round.role(__filename, 'joinOnce', { name, id: 0 });
  const { joined } = await round.message(again, (m) => m?.done, 20_000, 'the join');
  const codes = [...new Set([r.code, s.code])].join(' / ');
  return {
    outcome: `${codes}, ${joined === 'joined' ? 'its slot free for others' : `its slot: ${joined}`}`,
    times: { 'close() → receive() rejection': r.at - t0, 'close() → send() rejection': s.at - t0 },
  };
}

/** Item 8: 7 members joined in worker threads, each terminated: slots and eventfds come back, 7 joins succeed. */
function workerMembers(doorbell) {
  return async (round) => {
    const name = round.name('workers');
    const g = MailboxGroup.create(name, { members: 8, ringSize: 4096 });
    round.onEnd(() => g.close());
    const before = eventfds();
    const hello = g.receive(undefined, { timeout: 2 * WAIT_MS }); // asleep: workers fetch member 0's eventfd to wake it
    const terminations = [];
    const wrong = [];
    for (let i = 0; i < 7; i++) {
      const w = new Worker(fixture('mailbox', 'worker-member.cjs'), { workerData: { name, doorbell } });
      const { joined } = await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      const t0 = now();
      await w.terminate();
      terminations.push(now() - t0);
      const state = g.memberInfo(joined).state;
      if (state !== 'left') wrong.push(`slot ${joined} ${state} after terminate()`);
    }
    await hello;
    while (g.tryReceive() !== undefined) {}
    const leaked = eventfds() - before;
    const joiners = [];
    let joinCode;
    try {
      for (let i = 0; i < 7; i++) joiners.push(MailboxGroup.join(name));
    } catch (err) {
      joinCode = codeOf(err);
    }
    for (const j of joiners) j.close();
    if (leaked) wrong.push(`${leaked} eventfds over the baseline`);
    if (joinCode) wrong.push(`join ${joiners.length + 1} failed: ${joinCode}`);
    return {
      outcome: wrong.length ? wrong.slice(0, 3).join(', ') : 'slots and eventfds released, 7 joins succeed',
      times: { 'terminate() → resolved': terminations },
      figures: { 'eventfds over the baseline': leaked },
    };
  };
}

/** A pid that no process has now (a child that already exited). */
function deadPid() {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    c.on('exit', () => resolve(c.pid));
  });
}

/** Writes slot `id`'s words as a joiner mid-join would leave them: gen, pid, start time. */
function writeSlot(name, id, gen, pid, start) {
  const raw = SharedMemory.open(name);
  const u32 = new Uint32Array(raw.buffer);
  const base = (layout.groupHeaderSize + id * layout.memberSlotSize) / 4;
  u32[base + layout.slotStartLo / 4] = start;
  u32[base + layout.slotStartHi / 4] = 0;
  u32[base + layout.slotPid / 4] = pid;
  Atomics.store(u32, base + layout.slotGen / 4, gen);
  raw.close();
}

/**
 * The join race: two processes join slot 1 at once while its generation is odd (a join in progress).
 * 'dead': the first joiner is gone (its pid dead): exactly one of the two takes the slot. 'live': the
 * first joiner is alive: neither takes it. Never two owners.
 */
function joinRace(firstJoiner) {
  return async (round) => {
    const name = round.name('join');
    const g = MailboxGroup.create(name, { members: 3 });
    round.onEnd(() => g.close());
    if (firstJoiner === 'dead') writeSlot(name, 1, 7, await deadPid(), 1);
    else {
      const first = round.role(__filename, 'hold', { name, id: 2 }); // a live process, standing for the first joiner
      await round.message(first, (m) => m?.ready, 20_000, 'first joiner');
      writeSlot(name, 1, 5, first.pid, 12345); // its CAS done, its start time not written yet
    }
    const racers = [0, 1].map(() =>
      round.fork(fixture('mailbox', 'mailbox-child.cjs'), [JSON.stringify({ role: 'raceJoin', name, id: 1 })]),
    );
    await Promise.all(racers.map((c) => round.message(c, (m) => m?.ready, 20_000, 'racer ready')));
    const answers = racers.map((c) => round.message(c, (m) => m?.took !== undefined, 20_000, 'the join'));
    for (const c of racers) c.send('go');
    const got = await Promise.all(answers);
    const owners = got.filter((a) => a.took).length;
    const refused = got.filter((a) => !a.took).map((a) => a.code);
    const info = g.memberInfo(1);
    let outcome;
    if (owners > 1) outcome = `${owners} owners`;
    else if (owners === 1)
      outcome = racers.some((c, i) => got[i].took && c.pid === info.pid) ? 'one owner' : 'one owner, not in the slot';
    else
      outcome = refused.every((c) => c === 'ERR_MAILBOX_MEMBER_TAKEN')
        ? 'not taken (the first joiner keeps it)'
        : `refused: ${refused.join(', ')}`;
    return { outcome, figures: { owners } };
  };
}

const drivers = {
  'corrupt-zero': corruptSegment('zero'),
  'corrupt-garbage': corruptSegment('garbage'),
  'send-order': sendOrder,
  'close-mailbox': closePending,
  'worker-members-eventfd': workerMembers('eventfd'),
  'worker-members-futex': workerMembers('futex'),
  'join-race-dead': joinRace('dead'),
  'join-race-live': joinRace('live'),
};

if (require.main === module) main(drivers, roles);
