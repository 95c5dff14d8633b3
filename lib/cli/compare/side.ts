// A child side of `interproc compare`, pinned by the orchestrator (spawn-side.ts): `node side.js
// '<json>'` runs one role of one column and exits; `node side.js` (a pooled side, pool.ts) runs the
// tasks {"task": <json>} it reads on stdin one after the other, ending each with {"taskEnd": true},
// until stdin closes. Both read control lines on stdin and print JSON lines on stdout.
// Roles: rtt-ping / rtt-pong (round trips), tput-send / tput-recv (a one-way stream), fault-hub /
// fault-peer (a peer SIGKILLed mid-run), sync-cost; for a column of operations (the store) op-serve
// (the owner) with op-rtt, op-stream or op-sync (the user, timed). Every loop checks the data it gets
// (wire.ts).
import readline from 'node:readline';
import { columnById } from './columns';
import type { Column } from './column';
import { Histogram } from './histogram';
import { STOP, absNow, check, cpuMicros, fill } from './wire';

interface Args {
  column: string;
  role: string;
  name: string;
  size: number;
  ms: number;
  sliceMs: number;
  peerId?: number;
}

const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Lines from the orchestrator: tasks (pooled sides) and the control lines of the task under way.
class Lines<T> {
  readonly #lines: T[] = [];
  #go: ((o: T) => void) | undefined;
  push(o: T): void {
    const go = this.#go;
    this.#go = undefined;
    if (go) go(o);
    else this.#lines.push(o);
  }
  next(): Promise<T> {
    const o = this.#lines.shift();
    if (o !== undefined) return Promise.resolve(o);
    return new Promise((resolve) => (this.#go = resolve));
  }
}
const control = new Lines<Record<string, number>>();
const tasks = new Lines<Args | null>();
const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  const o = JSON.parse(line) as Record<string, number> & { task?: Args };
  if (o.task) tasks.push(o.task);
  else control.push(o);
});
input.on('close', () => tasks.push(null));
const nextControl = () => control.next();

// Every pair of a stream stops at the orchestrator's end time, so that their slices overlap; one
// whose control line came late (a loaded machine) still streams for a quarter of the period.
function streamEnd(a: Args, control: Record<string, number>): number {
  return Math.max(control.end, absNow() + a.ms / 4);
}

function fail(what: string): never {
  throw new Error(`data check failed: ${what}`);
}

// Round trips for the period after a warm-up, each timed into the histogram, per slice as well.
// The warm-up is up to a second (half the period): a fresh pair's first hops run several times
// slower on this VM (the store's for about two seconds), and the round trip is each column's first
// measurement.
async function timedRoundTrips(a: Args, once: (seq: number) => Promise<void>) {
  const all = new Histogram();
  const slices: number[] = [];
  let seq = 0;
  const warmEnd = performance.now() + Math.min(1000, a.ms / 2);
  while (performance.now() < warmEnd) await once(seq++);
  const c0 = cpuMicros();
  const end = performance.now() + a.ms;
  while (performance.now() < end) {
    const h = new Histogram();
    const sliceEnd = Math.min(end, performance.now() + a.sliceMs);
    for (let now = performance.now(); now < sliceEnd; ) {
      await once(seq++);
      const after = performance.now();
      h.record((after - now) * 1e6);
      now = after;
    }
    all.add(h);
    if (h.count) slices.push(h.percentile(50));
  }
  return { histogram: all.toJSON(), sliceP50: slices, cpu: cpuMicros() - c0, count: all.count };
}

async function rttPing(col: Column, a: Args) {
  const t = await col.pair!({ name: a.name, size: a.size, role: 'a' });
  const msg = Buffer.alloc(a.size, 0x5a);
  const result = await timedRoundTrips(a, async (seq) => {
    fill(msg, seq);
    await t.send(msg);
    const r = await t.receive();
    if (check(r, a.size) !== seq) fail(`round trip ${seq} came back as ${check(r, a.size)}`);
  });
  fill(msg, STOP);
  await t.send(msg);
  await t.receive();
  await t.close();
  out(result);
}

// ---- a column of operations (the store): the owner serves, the user is timed ----

async function opServe(col: Column, a: Args) {
  const cpu = await col.operations!.serve({ name: a.name, size: a.size, role: 'a' });
  out({ sent: 0, cpu });
}

async function opRtt(col: Column, a: Args) {
  const u = await col.operations!.use({ name: a.name, size: a.size, role: 'b' });
  await u.start();
  const result = await timedRoundTrips(a, async (seq) => {
    const got = await u.roundTrip(seq);
    if (got !== seq) fail(`operation ${seq} answered ${got}`);
  });
  await u.close();
  out(result);
}

// The user's side of a stream: batches of checked operations until the orchestrator's end time,
// counted per slice as a receiver counts messages.
async function opStream(col: Column, a: Args) {
  const u = await col.operations!.use({ name: a.name, size: a.size, role: 'b' });
  out({ ready: true });
  const end = streamEnd(a, await nextControl());
  await u.start();
  const counts: Record<string, number> = {};
  let received = 0;
  const c0 = cpuMicros();
  while (absNow() < end) {
    const n = await u.batch();
    const slice = Math.floor(absNow() / a.sliceMs);
    counts[slice] = (counts[slice] ?? 0) + n;
    received += n;
  }
  const cpu = cpuMicros() - c0;
  await u.close();
  out({ received, counts, cpu });
}

// Cross-process, a lock cycle waits for three replies: on a shared machine a few of them wait for
// a descheduled owner, so the figure is the median cycle, not the mean (which those few would make).
async function opSync(col: Column, a: Args) {
  const u = await col.operations!.use({ name: a.name, size: a.size, role: 'b' });
  await u.start();
  // A warm-up of 200 cycles (the first few hundred run several times slower: the requests' code is
  // not compiled yet, the vCPUs not yet used to the hops), within half the period.
  const w0 = performance.now();
  for (let i = 0; (i < 200 && performance.now() < w0 + a.ms / 2) || performance.now() < w0 + Math.min(300, a.ms / 4); i++)
    await u.syncOnce();
  const cycles: number[] = [];
  for (const end = performance.now() + a.ms; cycles.length < 2000 && performance.now() < end; ) {
    const t0 = performance.now();
    await u.syncOnce();
    cycles.push((performance.now() - t0) * 1e6);
  }
  cycles.sort((x, y) => x - y);
  await u.close();
  out({ ns: cycles[cycles.length >> 1] ?? Number.NaN, what: col.operations!.what.sync });
}

async function rttPong(col: Column, a: Args) {
  const t = await col.pair!({ name: a.name, size: a.size, role: 'b' });
  for (;;) {
    const m = await t.receive();
    const seq = check(m, a.size);
    if (seq < 0) fail('torn round-trip message');
    await t.send(m);
    if (seq === STOP) break;
  }
  await t.close();
  out({ done: true });
}

async function tputSend(col: Column, a: Args) {
  const t = await col.pair!({ name: a.name, size: a.size, role: 'a' });
  out({ ready: true });
  const end = streamEnd(a, await nextControl());
  const msg = Buffer.alloc(a.size, 0x5a);
  const c0 = cpuMicros();
  let seq = 0;
  while (absNow() < end) {
    for (let i = 0; i < 64; i++) {
      const p = t.send(fill(msg, seq++));
      if (p) await p;
    }
  }
  const p = t.send(fill(msg, STOP));
  if (p) await p;
  const ack = await t.receive();
  if (check(ack, a.size) !== seq) fail(`the receiver counted ${check(ack, a.size)} of ${seq}`);
  const cpu = cpuMicros() - c0;
  await t.close();
  out({ sent: seq, cpu });
}

async function tputRecv(col: Column, a: Args) {
  const t = await col.pair!({ name: a.name, size: a.size, role: 'b' });
  const counts: Record<string, number> = {};
  let expect = 0;
  let c0 = 0;
  let slice = 0;
  let inSlice = 0;
  // How often the clock is read: every 32nd message while a slice holds thousands of them (so reading
  // it costs nothing that shows), every message otherwise (so no message is put in the wrong slice).
  let every = 0;
  for (;;) {
    const m = await t.receive();
    const seq = check(m, a.size);
    if (seq === STOP) break;
    if (seq !== expect) fail(`message ${expect} arrived as ${seq}`);
    if (expect++ === 0) {
      c0 = cpuMicros();
      slice = Math.floor(absNow() / a.sliceMs);
    }
    if ((++inSlice & every) === 0) {
      const s = Math.floor(absNow() / a.sliceMs);
      if (s !== slice) {
        counts[slice] = (counts[slice] ?? 0) + inSlice;
        every = inSlice > 4096 ? 31 : 0;
        inSlice = 0;
        slice = s;
      }
    }
  }
  if (inSlice) counts[slice] = (counts[slice] ?? 0) + inSlice;
  const cpu = cpuMicros() - c0;
  const ack = fill(Buffer.alloc(a.size), expect);
  await t.send(ack);
  await t.close();
  out({ received: expect, counts, cpu });
}

async function faultHub(col: Column, a: Args) {
  const sides = col.fault!;
  const peers = [1, 2].map(() => ({
    count: 0,
    lost: 0,
    torn: 0,
    regress: 0,
    gone: 0,
    next: sides.kind === 'queue' ? 0 : 1,
    last: 0,
  }));
  let death: { at: number; how: string } | null = null;
  let inconsistent = 0;
  const arrivals: number[] = []; // absolute times of peer 2's messages, in 5 ms steps
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const hub = {
    onMessage(peer: number, data: Buffer) {
      const p = peers[peer - 1];
      const seq = check(data, 64);
      if (seq < 0) {
        p.torn++;
        return;
      }
      if (sides.kind === 'queue') {
        if (seq > p.next) p.lost += seq - p.next;
        if (seq < p.next) p.regress++;
        p.next = seq + 1;
        p.count++;
      } else {
        if (seq < p.last) p.regress++;
        if (seq > p.last) p.count++;
        p.last = seq;
      }
      if (peer === 2) arrivals.push(absNow());
    },
    onDeath(_peer: number, how: string) {
      death ??= { at: absNow(), how };
    },
    onInconsistent() {
      inconsistent++;
    },
    onLost(peer: number) {
      peers[peer - 1].gone++;
    },
  };
  const serving = sides.hub(a.name, hub, stopped);
  out({ ready: true });
  const { killedAt } = await nextControl(); // after the kill
  const { sent2 } = await nextControl(); // peer 2 stopped and reported
  stop();
  await serving;
  const after = arrivals.filter((t) => t > killedAt).length;
  if (sides.kind === 'queue') peers[1].lost += Math.max(0, sent2 - peers[1].count - peers[1].lost);
  out({ kind: sides.kind, peers, death, inconsistent, after, sent2 });
}

async function faultPeer(col: Column, a: Args) {
  let stopped = false;
  let death: { at: number; how: string } | null = null;
  let inconsistent = 0;
  const msg = () => Buffer.alloc(64, 0x33);
  nextControl().then(() => (stopped = true));
  let first = true;
  const sent = await col.fault!.peer(
    a.name,
    a.peerId!,
    (seq) => {
      if (first) {
        first = false;
        out({ ready: true });
      }
      return fill(msg(), seq);
    },
    () => stopped,
    (how) => (death ??= { at: absNow(), how }),
    () => inconsistent++,
  );
  out({ sent, death, inconsistent });
}

function syncCost(col: Column) {
  out(col.syncCost!());
}

const roles: Record<string, (c: Column, a: Args) => unknown> = {
  'rtt-ping': rttPing,
  'rtt-pong': rttPong,
  'tput-send': tputSend,
  'tput-recv': tputRecv,
  'fault-hub': faultHub,
  'fault-peer': faultPeer,
  'sync-cost': syncCost,
  'op-serve': opServe,
  'op-rtt': opRtt,
  'op-stream': opStream,
  'op-sync': opSync,
};

async function main() {
  if (process.argv[2] !== undefined) {
    const a = JSON.parse(process.argv[2]) as Args;
    await roles[a.role](columnById(a.column), a);
  } else {
    // A pooled side: a failed task ends the process (the pool starts a fresh one), so no task
    // inherits another's half-closed state.
    for (let a = await tasks.next(); a !== null; a = await tasks.next()) {
      await roles[a.role](columnById(a.column), a);
      out({ taskEnd: true });
    }
  }
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`compare side: ${err?.stack ?? err}\n`);
  process.exit(1);
});
