// Fault rounds of the synchronisation objects (issue 16 items 1, 2, 3 and 7): a writer SIGKILLed
// holding an RwLock with a reader and a writer asleep; a Semaphore's or Barrier's header rewritten by
// another process during a pending wait; worker.terminate() of a thread blocked in a Sync form;
// close() of an object with its own operation pending. See bench/faults/round.cjs for the protocol.
//
// Segment layout (8192 bytes), as test/sync/fixtures/sync-child.cjs has it where they overlap:
// 0 Mutex | 64 Condition | 128 Semaphore | 256 robust Semaphore | 2432 Barrier (2 parties) |
// 3072 the condition's own Mutex (terminate rounds) | 4096 RwLock.
'use strict';
const { Worker } = require('node:worker_threads');
const { main, report, done, dist, fixture, now, sleep, codeOf } = require('./round.cjs');

const { SharedMemory, Mutex, Semaphore, Condition, Barrier, RwLock, OwnerDeadError, BrokenBarrierError, futex } = dist();
const SIZE = 8192;
const AT = { mutex: 0, condition: 64, semaphore: 128, robust: 256, barrier: 2432, condMutex: 3072, rwlock: 4096 };
const WAIT_MS = 10_000; // a waiter still waiting after this long is reported as asleep (hung)

/** The settled state of a promise, stamped when it settled. */
function settle(p) {
  return p.then(
    (value) => ({ ok: true, value, at: now() }),
    (err) => ({ ok: false, code: codeOf(err), err, at: now() }),
  );
}

/** A segment with the objects of the layout, placed in it. */
function segment(round, tag) {
  const name = round.name(tag);
  const shm = SharedMemory.create(name, { size: SIZE });
  round.onEnd(() => shm.close());
  Mutex.initAt(shm, AT.mutex);
  Condition.initAt(shm, AT.condition);
  Semaphore.initAt(shm, AT.semaphore, { value: 0 });
  Semaphore.initAt(shm, AT.robust, { value: 0, robust: true });
  Barrier.initAt(shm, AT.barrier, { parties: 2 });
  Mutex.initAt(shm, AT.condMutex);
  RwLock.initAt(shm, AT.rwlock);
  return { name, shm };
}

// --- children ----------------------------------------------------------------------------------

const roles = {
  // Waits for the RwLock in `mode` ('read' or 'write'); reports its first outcome and, after an
  // owner-dead outcome, whether and when it then got the lock (a writer gets it with the error, and
  // repairs; a reader gets none with it, and tries again until the repair is done).
  async rwWait({ name, mode }) {
    const shm = SharedMemory.open(name);
    const l = RwLock.openAt(shm, AT.rwlock);
    const deadline = now() + WAIT_MS;
    const take = () =>
      mode === 'read'
        ? l.lockRead({ timeout: Math.max(1, deadline - now()) })
        : l.lockWrite({ timeout: Math.max(1, deadline - now()) });
    await report({ waiting: true });
    const first = await settle(take());
    let guard = first.ok ? first.value : undefined;
    let lockedAt = first.ok ? first.at : undefined;
    let outcome = first.ok ? 'acquired' : first.err instanceof OwnerDeadError ? 'owner-dead' : first.code;
    if (outcome === 'owner-dead' && first.err.guard) {
      guard = first.err.guard;
      guard.markConsistent();
      lockedAt = first.at;
    } else if (outcome === 'owner-dead') {
      for (;;) {
        const again = await settle(take());
        if (again.ok) {
          guard = again.value;
          lockedAt = again.at;
          break;
        }
        if (!(again.err instanceof OwnerDeadError)) {
          outcome = `owner-dead, then ${again.code}`;
          break;
        }
        await sleep(1); // not repaired yet
      }
    }
    guard?.unlock();
    done({ first: outcome, firstAt: first.at, locked: lockedAt !== undefined, lockedAt });
  },

  // Waits on the Semaphore or Barrier at `offset` in `form` while the driver rewrites its header.
  async headerWait({ name, kind, offset, form }) {
    const shm = SharedMemory.open(name);
    const o = kind === 'semaphore' ? Semaphore.openAt(shm, offset) : Barrier.openAt(shm, offset);
    await report({ waiting: true });
    let result;
    try {
      if (kind === 'semaphore') form === 'async' ? await o.acquire({ timeout: WAIT_MS }) : o.acquireSync({ timeout: WAIT_MS });
      else form === 'async' ? await o.wait({ timeout: WAIT_MS }) : o.waitSync({ timeout: WAIT_MS });
      result = 'passed';
    } catch (err) {
      result = err instanceof BrokenBarrierError ? 'broken' : codeOf(err);
    }
    done({ result, at: now() });
  },

  // Takes the object of `kind` once (a mutex or rwlock write lock, a semaphore permit, a barrier
  // wait); with `hold`, reports and keeps it until told, then gives it back.
  async take({ name, kind, hold }) {
    const shm = SharedMemory.open(name);
    const opts = { timeout: 5000 };
    let took;
    let give = () => {};
    try {
      let held;
      if (kind === 'mutex') held = await Mutex.openAt(shm, AT.mutex).lock(opts);
      else if (kind === 'rwlock') held = await RwLock.openAt(shm, AT.rwlock).lockWrite(opts);
      else if (kind === 'semaphore') held = await Semaphore.openAt(shm, AT.semaphore).acquire(opts);
      else await Barrier.openAt(shm, AT.barrier).wait(opts);
      if (held) give = () => held[Symbol.dispose]();
      took = 'took';
    } catch (err) {
      took = err instanceof BrokenBarrierError ? 'broken' : codeOf(err);
    }
    if (hold) {
      await report({ holding: took });
      await new Promise((r) => process.once('message', r));
    }
    give();
    done({ took });
  },
};

// --- drivers -----------------------------------------------------------------------------------

/** Item 1: a writer SIGKILLed holding the RwLock while a reader and then a writer sleep on it. */
async function rwlockWriterDeath(round) {
  const { name } = segment(round, 'rw');
  const holder = round.fork(fixture('sync', 'sync-child.cjs'), [JSON.stringify({ name, task: 'holdWrite' })]);
  await round.message(holder, (m) => m?.holding, 20_000, 'holding');
  const reader = round.role(__filename, 'rwWait', { name, mode: 'read' });
  await round.message(reader, (m) => m?.waiting);
  await sleep(100); // the reader sleeps first: the kernel's one wake-up at the death goes to it
  const writer = round.role(__filename, 'rwWait', { name, mode: 'write' });
  await round.message(writer, (m) => m?.waiting);
  await sleep(100);
  const ends = [reader, writer].map((c) => round.message(c, (m) => m?.done, WAIT_MS + 5000, 'its outcome').catch((e) => e));
  const t0 = now();
  holder.kill('SIGKILL');
  const [r, w] = await Promise.all(ends);
  for (const [who, x] of [
    ['reader', r],
    ['writer', w],
  ])
    if (x instanceof Error)
      return x.ended ? { outcome: `${who} crashed (${x.ended})`, crashed: true } : { outcome: `${who} hung`, hung: true };
  const asleep = [r.locked ? '' : 'reader', w.locked ? '' : 'writer'].filter(Boolean);
  const outcome = asleep.length
    ? `${asleep.join(' and ')} did not get the lock (reader: ${r.first}, writer: ${w.first})`
    : `both got the lock (reader first saw ${r.first === 'owner-dead' ? 'owner-dead' : 'the repaired lock'}, writer ${w.first})`;
  return {
    outcome,
    times: {
      'kill → reader outcome': r.firstAt - t0,
      'kill → writer outcome': w.firstAt - t0,
      'kill → reader has the lock': r.locked ? r.lockedAt - t0 : undefined,
      'kill → writer has the lock': w.locked ? w.lockedAt - t0 : undefined,
    },
  };
}

/** Item 2: a Semaphore's robust flag or a Barrier's parties rewritten by this process during a pending wait. */
function headerRewrite(kind, form) {
  return async (round) => {
    const PAGE = 4096; // the object sits in the last bytes of one page: a read past it leaves the mapping
    const name = round.name(`hdr-${kind}`);
    const shm = SharedMemory.create(name, { size: PAGE });
    round.onEnd(() => shm.close());
    const offset = kind === 'semaphore' ? PAGE - Semaphore.byteLength : PAGE - Barrier.byteLength(2);
    if (kind === 'semaphore') Semaphore.initAt(shm, offset, { value: 0 });
    else Barrier.initAt(shm, offset, { parties: 2 });
    const waiter = round.role(__filename, 'headerWait', { name, kind, offset, form });
    await round.message(waiter, (m) => m?.waiting);
    await sleep(100);
    const end = round.message(waiter, (m) => m?.done, WAIT_MS + 5000, 'its outcome').catch((e) => e);
    const words = new Int32Array(shm.buffer);
    const t0 = now();
    if (kind === 'semaphore') {
      new Uint8Array(shm.buffer)[offset + 7] |= 1; // flags: robust, which would put 32 holder slots past the page
      Atomics.store(words, (offset + 16) / 4, 1); // value 1, and wake the sleeper
      futex.wake(words, (offset + 16) / 4);
    } else {
      Atomics.store(words, (offset + 12) / 4, Barrier.maxParties); // parties: slots far past the page
      futex.wake(words, (offset + 28) / 4); // the joins word: waiters re-read the slots
      futex.wake(words, (offset + 20) / 4);
    }
    const r = await end;
    if (r instanceof Error)
      return r.ended ? { outcome: `waiter crashed (${r.ended})`, crashed: true } : { outcome: 'waiter hung', hung: true };
    const exit = await waiter.gone;
    return {
      outcome: exit === 'exit 0' ? r.result : `${r.result}, then the waiter ended with ${exit}`,
      crashed: exit !== 'exit 0',
      times: { 'rewrite → outcome': r.at - t0 },
    };
  };
}

// Item 3: what a worker thread runs; it blocks on the last statement (on what the driver's main thread holds).
const BLOCKING = {
  lockSync: `Mutex.openAt(shm, ${AT.mutex}).lockSync();`,
  acquireSync: `Semaphore.openAt(shm, ${AT.semaphore}).acquireSync();`,
  robustAcquireSync: `Semaphore.openAt(shm, ${AT.robust}).acquireSync();`,
  conditionWaitSync: `const wm = Mutex.openAt(shm, ${AT.condMutex}); wm.lockSync(); Condition.openAt(shm, ${AT.condition}).waitSync(wm);`,
  barrierWaitSync: `Barrier.openAt(shm, ${AT.barrier}).waitSync();`,
  lockWriteSync: `RwLock.openAt(shm, ${AT.rwlock}).lockWriteSync();`,
  lockReadSync: `RwLock.openAt(shm, ${AT.rwlock}).lockReadSync();`,
};

/** Item 3: worker.terminate() of a worker blocked in a Sync form; what it waited for is left as it was. */
function terminateBlocked(form) {
  return async (round) => {
    const { name, shm } = segment(round, 'term');
    const m = Mutex.openAt(shm, AT.mutex);
    const rw = RwLock.openAt(shm, AT.rwlock);
    const g = m.lockSync();
    const wg = rw.lockWriteSync();
    const w = new Worker(
      `const { SharedMemory, Mutex, Semaphore, Condition, Barrier, RwLock } = require(${JSON.stringify(require.resolve('../..'))});
       const shm = SharedMemory.open(${JSON.stringify(name)});
       require('node:worker_threads').parentPort.postMessage('blocking');
       ${BLOCKING[form]}
       require('node:worker_threads').parentPort.postMessage('returned');`,
      { eval: true },
    );
    let returned = false;
    w.on('message', (msg) => {
      if (msg === 'returned') returned = true;
    });
    await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await sleep(150); // in the native sleep by now
    const t0 = now();
    const ended = await Promise.race([
      w.terminate().then(() => now()),
      new Promise((r) => setTimeout(() => r(null), WAIT_MS).unref()),
    ]);
    if (ended === null) {
      // Report before anything else: exiting may hang on the worker too (the runner kills the round).
      process.stdout.write(`${JSON.stringify({ outcome: 'hung', times: {} })}\n`);
      process.exit(0);
    }
    // What the terminated wait left: the locks are still this thread's, and free once released; the
    // barrier the terminated party arrived at is broken; no permit was taken.
    g.unlock();
    wg.unlock();
    const wrong = [];
    if (!m.tryLock()) wrong.push('mutex not free');
    if (!rw.tryLockWrite()) wrong.push('rwlock not free');
    if (form === 'barrierWaitSync' && !Barrier.openAt(shm, AT.barrier).broken) wrong.push('barrier not broken');
    if (Semaphore.openAt(shm, AT.semaphore).value !== 0) wrong.push('semaphore value changed');
    m.unlock();
    rw.unlockWrite();
    const outcome = returned ? 'the wait returned' : wrong.length ? `terminated, but ${wrong.join(', ')}` : 'terminated';
    return { outcome, times: { 'terminate() → resolved': ended - t0 } };
  };
}

/** The pending call must still be pending before close() (else the round measures nothing). */
async function closePending(p, close) {
  let early = false;
  p.then(() => (early = true));
  await sleep(50);
  if (early) return { early: true };
  const t0 = now();
  close();
  const r = await Promise.race([p, sleep(WAIT_MS).then(() => ({ ok: true, pending: true, at: now() }))]);
  return { ...r, ms: r.at - t0 };
}

const rejection = (r) => (r.early ? 'settled before close()' : r.pending ? 'still pending' : r.ok ? 'resolved' : r.code);

/** A fresh process takes the object once: 'took', 'broken' or a code. */
async function other(round, name, kind) {
  const c = round.role(__filename, 'take', { name, kind });
  const r = await round.message(c, (m) => m?.done, 15_000, 'take').catch((e) => ({ took: `crashed (${e.ended ?? e.message})` }));
  return r.took;
}

/** Item 7: close() of a sync object with its own operation pending rejects it and releases what it took. */
const closeDrivers = {
  async mutex(round) {
    const { name, shm } = segment(round, 'close');
    const holder = round.fork(fixture('sync', 'sync-child.cjs'), [JSON.stringify({ name, task: 'holdUntilTold' })]);
    await round.message(holder, (m) => m?.holding, 20_000, 'holding');
    const closing = Mutex.openAt(shm, AT.mutex);
    const r = await closePending(settle(closing.lock({ timeout: 2 * WAIT_MS })), () => closing.close());
    if (r.ok && !r.pending) r.value.unlock?.();
    holder.send('release');
    await round.message(holder, (m) => m?.done);
    const took = await other(round, name, 'mutex');
    return outcome([rejection(r)], took === 'took' ? 'others can lock' : `others: ${took}`, { 'close() → rejection': r.ms });
  },
  async semaphore(round) {
    const { name, shm } = segment(round, 'close');
    const closing = Semaphore.openAt(shm, AT.semaphore);
    const r = await closePending(settle(closing.acquire({ timeout: 2 * WAIT_MS })), () => closing.close());
    Semaphore.openAt(shm, AT.semaphore).release(); // one permit: the closed acquire must not take it
    await sleep(20);
    const took = await other(round, name, 'semaphore');
    return outcome([rejection(r)], took === 'took' ? 'others can acquire' : `others: ${took}`, { 'close() → rejection': r.ms });
  },
  async condition(round) {
    const { name, shm } = segment(round, 'close');
    const m = Mutex.openAt(shm, AT.mutex);
    const c = Condition.openAt(shm, AT.condition);
    const g = await m.lock();
    const r = await closePending(settle(c.wait(g, { timeout: 2 * WAIT_MS })), () => c.close());
    const relocked = m.isHeld; // every wait ends with its mutex locked again
    g.unlock();
    const took = await other(round, name, 'mutex');
    const then = !relocked ? 'its mutex not re-locked' : took === 'took' ? 'others can lock' : `others: ${took}`;
    return outcome([rejection(r)], then, { 'close() → rejection': r.ms });
  },
  async barrier(round) {
    const { name, shm } = segment(round, 'close');
    const b = Barrier.openAt(shm, AT.barrier);
    const r = await closePending(settle(b.wait({ timeout: 2 * WAIT_MS })), () => b.close());
    const took = await other(round, name, 'barrier'); // the other party: its arrival cannot complete a generation any more
    return outcome([rejection(r)], took === 'broken' ? 'others see it broken' : `others: ${took}`, {
      'close() → rejection': r.ms,
    });
  },
  async rwlock(round) {
    const { name, shm } = segment(round, 'close');
    const holder = round.role(__filename, 'take', { name, kind: 'rwlock', hold: true });
    await round.message(holder, (m) => m?.holding === 'took', 20_000, 'holding');
    const reader = RwLock.openAt(shm, AT.rwlock);
    const rr = await closePending(settle(reader.lockRead({ timeout: 2 * WAIT_MS })), () => reader.close());
    const writer = RwLock.openAt(shm, AT.rwlock);
    const rw = await closePending(settle(writer.lockWrite({ timeout: 2 * WAIT_MS })), () => writer.close());
    holder.send('release');
    await round.message(holder, (m) => m?.done);
    const took = await other(round, name, 'rwlock');
    return outcome([rejection(rr), rejection(rw)], took === 'took' ? 'others can lock' : `others: ${took}`, {
      'close() → lockRead rejection': rr.ms,
      'close() → lockWrite rejection': rw.ms,
    });
  },
};

/** 'ERR_INVALID_STATE, others can lock' (or what happened instead), with the times. */
function outcome(rejections, then, times) {
  const first = [...new Set(rejections)];
  return { outcome: `${first.length === 1 ? first[0] : rejections.join(' / ')}, ${then}`, times };
}

const drivers = {
  'rwlock-writer-death': rwlockWriterDeath,
  'header-semaphore-async': headerRewrite('semaphore', 'async'),
  'header-semaphore-sync': headerRewrite('semaphore', 'sync'),
  'header-barrier-async': headerRewrite('barrier', 'async'),
  'header-barrier-sync': headerRewrite('barrier', 'sync'),
};
for (const form of Object.keys(BLOCKING)) drivers[`terminate-${form}`] = terminateBlocked(form);
for (const [kind, fn] of Object.entries(closeDrivers)) drivers[`close-${kind}`] = fn;

if (require.main === module) main(drivers, roles);
