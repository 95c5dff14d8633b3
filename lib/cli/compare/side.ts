// A child side of `interproc compare`: node side.js '<json>' runs one role of one column, pinned by
// the orchestrator (spawn-side.ts), reads control lines on stdin and prints JSON lines on stdout.
// Roles: rtt-ping / rtt-pong (round trips), tput-send / tput-recv (a one-way stream), fault-hub /
// fault-peer (a peer SIGKILLed mid-run), sync-cost. Every loop checks the data it gets (wire.ts).
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

// Control lines from the orchestrator.
const control: { go?: (o: Record<string, number>) => void; lines: Record<string, number>[] } = { lines: [] };
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const o = JSON.parse(line) as Record<string, number>;
  control.lines.push(o);
  control.go?.(o);
});
function nextControl(): Promise<Record<string, number>> {
  const o = control.lines.shift();
  if (o) return Promise.resolve(o);
  return new Promise((resolve) => {
    control.go = (x) => {
      control.go = undefined;
      control.lines.shift();
      resolve(x);
    };
  });
}

function fail(what: string): never {
  throw new Error(`data check failed: ${what}`);
}

async function rttPing(col: Column, a: Args) {
  const t = await col.pair({ name: a.name, size: a.size, role: 'a' });
  const msg = Buffer.alloc(a.size, 0x5a);
  const all = new Histogram();
  const slices: number[] = [];
  let seq = 0;
  const round = async () => {
    fill(msg, seq);
    await t.send(msg);
    const r = await t.receive();
    if (check(r, a.size) !== seq) fail(`round trip ${seq} came back as ${check(r, a.size)}`);
    seq++;
  };
  const warmEnd = performance.now() + Math.min(300, a.ms / 4);
  while (performance.now() < warmEnd) await round();
  const c0 = cpuMicros();
  const end = performance.now() + a.ms;
  while (performance.now() < end) {
    const h = new Histogram();
    const sliceEnd = Math.min(end, performance.now() + a.sliceMs);
    for (let now = performance.now(); now < sliceEnd; ) {
      await round();
      const after = performance.now();
      h.record((after - now) * 1e6);
      now = after;
    }
    all.add(h);
    if (h.count) slices.push(h.percentile(50));
  }
  const cpu = cpuMicros() - c0;
  fill(msg, STOP);
  await t.send(msg);
  await t.receive();
  await t.close();
  out({ histogram: all.toJSON(), sliceP50: slices, cpu, count: all.count });
}

async function rttPong(col: Column, a: Args) {
  const t = await col.pair({ name: a.name, size: a.size, role: 'b' });
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
  const t = await col.pair({ name: a.name, size: a.size, role: 'a' });
  out({ ready: true });
  const { end } = await nextControl();
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
  const t = await col.pair({ name: a.name, size: a.size, role: 'b' });
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
  const peers = [1, 2].map(() => ({ count: 0, lost: 0, torn: 0, regress: 0, next: sides.kind === 'queue' ? 0 : 1, last: 0 }));
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
  out(col.syncCost());
}

async function main() {
  const a = JSON.parse(process.argv[2]) as Args;
  const col = columnById(a.column);
  const roles: Record<string, (c: Column, a: Args) => unknown> = {
    'rtt-ping': rttPing,
    'rtt-pong': rttPong,
    'tput-send': tputSend,
    'tput-recv': tputRecv,
    'fault-hub': faultHub,
    'fault-peer': faultPeer,
    'sync-cost': syncCost,
  };
  await roles[a.role](col, a);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`compare side: ${err?.stack ?? err}\n`);
  process.exit(1);
});
