// The fault scenarios of bench/faults.cjs, one or more per item of issue 16, in the order:
// the driver that runs a round (bench/faults/<area>.cjs), what the round does, and the outcome that
// says the library held (`good`: the exact outcome string, or a RegExp for a family of them, then
// `shown` says it in words).
'use strict';
const path = require('node:path');

const area = (name) => path.join(__dirname, `${name}.cjs`);
const TERMINATE_FORMS = [
  'lockSync',
  'acquireSync',
  'robustAcquireSync',
  'conditionWaitSync',
  'barrierWaitSync',
  'lockWriteSync',
  'lockReadSync',
];
const TRUNCATED = 'every process lived, ERR_SHM_TRUNCATED';

const scenarios = [
  {
    name: 'rwlock-writer-death',
    item: '1',
    file: area('sync'),
    what: 'a writer SIGKILLed holding an RwLock while a reader, then a writer, sleep on it (3 processes); both waiters must get the lock (the writer with owner-dead, then repairing; the reader after its owner-dead outcome or after the repair)',
    good: /^both got the lock/,
    shown: 'both got the lock (…)',
  },
  ...['semaphore', 'barrier'].flatMap((kind) =>
    ['async', 'sync'].map((form) => ({
      name: `header-${kind}-${form}`,
      item: '2',
      file: area('sync'),
      what:
        kind === 'semaphore'
          ? `a pending ${form} acquire() of a Semaphore placed at the end of a page while another process sets its robust flag (32 holder slots past the page) and wakes it`
          : `a pending ${form} wait() of a Barrier placed at the end of a page while another process rewrites its parties to the maximum and wakes it`,
      good: kind === 'semaphore' ? 'ERR_SYNC_LAYOUT_MISMATCH' : /^(ERR_SYNC_LAYOUT_MISMATCH|broken)$/,
      shown: kind === 'semaphore' ? undefined : 'ERR_SYNC_LAYOUT_MISMATCH or broken',
    })),
  ),
  ...TERMINATE_FORMS.map((form) => ({
    name: `terminate-${form}`,
    item: '3',
    file: area('sync'),
    what: `worker.terminate() of a worker thread blocked in ${form} on what the main thread holds; what it waited for is left as it was`,
    good: 'terminated',
    timeoutMs: 30_000,
  })),
  {
    name: 'truncate-mailbox',
    item: '4',
    file: area('truncate'),
    what: "ftruncate to 0 of a mailbox group's segment (eventfd doorbell) under a producer, a consumer and an idle member (3 processes)",
    good: TRUNCATED,
  },
  {
    name: 'truncate-mailbox-futex',
    item: '4',
    file: area('truncate'),
    what: 'the same with the futex doorbell, truncated to half its size',
    good: TRUNCATED,
  },
  {
    name: 'truncate-mutex',
    item: '4',
    file: area('truncate'),
    what: "ftruncate to 0 of a named Mutex's segment under its holder, an async and a sync waiter (4 processes)",
    good: TRUNCATED,
  },
  {
    name: 'truncate-shm',
    item: '4',
    file: area('truncate'),
    what: 'ftruncate of a plain 64 KiB segment to 8 KiB under a JS reader of every page, a futex.wait in the lost half and a futex.waitAsync in the half that stays',
    good: TRUNCATED,
  },
  {
    name: 'corrupt-zero',
    item: '5',
    file: area('mailbox'),
    what: "another process zero-fills a mailbox group's segment after 100 messages; 10 000 tryReceive() calls from the sender whose ring was in use",
    good: 'ERR_MAILBOX_CORRUPT on every call',
  },
  {
    name: 'corrupt-garbage',
    item: '5',
    file: area('mailbox'),
    what: 'the same with seeded random words over the whole segment',
    good: /^ERR_MAILBOX_CORRUPT (on every call|after \d+ messages)$/,
    shown: 'ERR_MAILBOX_CORRUPT on every call, or after at most 512 messages (a ring of them)',
  },
  {
    name: 'send-order',
    item: '6',
    file: area('mailbox'),
    what: '200 send() calls of 16–1515 B issued without awaiting any, through a 4 KiB ring that the receiver (another process) starts draining only after all were issued',
    good: 'every message in call order',
  },
  ...['mutex', 'semaphore', 'condition', 'barrier', 'rwlock'].map((kind) => ({
    name: `close-${kind}`,
    item: '7',
    file: area('sync'),
    what: {
      mutex: 'close() of a Mutex handle with its lock() pending on a lock another process holds; then a third process locks it',
      semaphore: 'close() of a Semaphore handle with its acquire() pending; one permit released after: another process takes it',
      condition: "close() of a Condition with its wait() pending; the wait's mutex re-locked, then another process locks it",
      barrier:
        'close() of a Barrier (2 parties) with its own wait() pending; the other party (another process) then finds it broken',
      rwlock:
        'close() of two RwLock handles with a lockRead() and a lockWrite() pending on a write lock another process holds; then a third process locks it',
    }[kind],
    good: {
      mutex: 'ERR_INVALID_STATE, others can lock',
      semaphore: 'ERR_INVALID_STATE, others can acquire',
      condition: 'ERR_INVALID_STATE, others can lock',
      barrier: 'ERR_INVALID_STATE, others see it broken',
      rwlock: 'ERR_INVALID_STATE, others can lock',
    }[kind],
  })),
  {
    name: 'close-mailbox',
    item: '7',
    file: area('mailbox'),
    what: "close() of a mailbox group member with a receive() and a send() (its ring full) pending; then another process joins the member's slot",
    good: 'ERR_INVALID_STATE, its slot free for others',
  },
  {
    name: 'close-channel',
    item: '7',
    file: area('channel'),
    what: 'close() of a stream channel with a receive() and a for-await pending while its peer (another process) is silent',
    good: 'receive() ERR_INVALID_STATE, for-await ended',
  },
  ...['eventfd', 'futex'].map((doorbell) => ({
    name: `worker-members-${doorbell}`,
    item: '8',
    file: area('mailbox'),
    what: `7 worker threads, one after another, join an 8-member group (${doorbell} doorbell), wake member 0 and are terminated while waiting in receive(); then 7 joins`,
    good: 'slots and eventfds released, 7 joins succeed',
  })),
  {
    name: 'server-gc',
    item: '9',
    file: area('channel'),
    nodeArgs: ['--expose-gc'],
    what: '1000 listen() + close() cycles (stream, seqpacket, datagram, TCP servers), then gc: Servers still alive, by a FinalizationRegistry',
    good: 'Servers collected after close()',
  },
  {
    name: 'frame-memory',
    item: '10',
    file: area('channel'),
    what: 'a stream server (its own process) and 200 peers that each announce a 16 MiB frame and send nothing more; bounded: under 200 × 128 KiB + 64 MiB of address space',
    good: 'bounded, every connection open, no error',
  },
  {
    name: 'frame-memory-limit',
    item: '10',
    file: area('channel'),
    what: 'the same server (maxMessageSize 512 MiB) with its address space capped (prlimit) at its size + 160 MiB: the 200 announcements must fit; then a peer announces 256 MiB and sends 64 MiB + 1 B, so its body buffer cannot grow to 128 MiB; then another peer sends a whole 1 MiB frame',
    good: 'ERR_MEMORY_ALLOCATION_FAILED for the frame that could not grow, the server lived, the next frame arrived',
    timeoutMs: 60_000,
  },
  {
    name: 'join-race-dead',
    item: 'join race',
    file: area('mailbox'),
    what: 'two processes join a slot at once whose generation is odd (a join in progress) and whose joiner is dead: one takes it',
    good: 'one owner',
  },
  {
    name: 'join-race-live',
    item: 'join race',
    file: area('mailbox'),
    what: 'the same while the first joiner is alive (its pid in the slot, a stale start time): neither takes it',
    good: 'not taken (the first joiner keeps it)',
  },
];

/** Whether `outcome` is the scenario's good one. */
function isGood(scenario, outcome) {
  return scenario.good instanceof RegExp ? scenario.good.test(outcome) : outcome === scenario.good;
}

module.exports = { scenarios, isGood };
