// The measured rows of the performance, scalability and overhead groups: round trips (a histogram of
// every round trip, p50/p99 and the spread of the per-slice p50s) and one-way streams with 1..N pairs
// (messages counted per time slice by every receiver; the figure is the median slice, the spread its
// min–max), with the CPU time of both sides per message.
import fs from 'node:fs';
import path from 'node:path';
import type { Column } from './column';
import { Histogram } from './histogram';
import type { Placement } from './pin';
import { spawnSide, type Side } from './spawn-side';
import { absNow } from './wire';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface RttResult {
  p50: number;
  p99: number;
  p999: number;
  spread: Spread;
  count: number;
}
export interface TputResult {
  msgsPerS: Spread;
  MBPerS: Spread;
  cpuUsPerMsg: number;
  received: number;
  pairs: number;
}

export interface Env {
  place: Placement;
  dir: string;
  sliceMs: number;
  /** Wraps the commands of side a / side b (ip netns exec ...), for the TCP row. */
  wrap?: { a: string[]; b: string[] };
}

let seq = 0;
export function pairName(col: Column, env: Env): string {
  const n = seq++;
  return col.names === 'socket' ? path.join(env.dir, `pair-${n}.sock`) : `/interproc-compare-${process.pid}-${n}`;
}

export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

export function cleanupName(name: string): void {
  if (name.startsWith('/interproc-')) fs.rmSync(`/dev/shm${name}`, { force: true });
  else fs.rmSync(name, { force: true });
}

async function settle(sides: Side[]): Promise<void> {
  await Promise.all(sides.map((s) => s.exited));
}

// Every measurement cuts its period into at least 8 slices, so each figure has a spread.
const sliceOf = (env: Env, ms: number) => Math.max(5, Math.min(env.sliceMs, ms / 8));

export async function roundTrips(col: Column, env: Env, size: number, ms: number, name = pairName(col, env)): Promise<RttResult> {
  const base = { column: col.id, name, size, ms, sliceMs: sliceOf(env, ms) };
  const deadlineMs = ms + 20_000;
  const ping = spawnSide(env.place, 0, { ...base, role: 'rtt-ping' }, { deadlineMs, wrap: env.wrap?.a });
  const pong = spawnSide(env.place, 1, { ...base, role: 'rtt-pong' }, { deadlineMs, wrap: env.wrap?.b });
  try {
    const r = (await ping.next()) as { histogram: Parameters<typeof Histogram.fromJSON>[0]; sliceP50: number[]; count: number };
    const h = Histogram.fromJSON(r.histogram);
    const us = (ns: number) => ns / 1000;
    const sp = spread(r.sliceP50.map(us));
    return { p50: us(h.percentile(50)), p99: us(h.percentile(99)), p999: us(h.percentile(99.9)), spread: sp, count: h.count };
  } finally {
    await Promise.race([settle([ping, pong]), new Promise((r) => setTimeout(r, 3000))]);
    for (const s of [ping, pong]) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    if (!env.wrap) cleanupName(name);
  }
}

export async function stream(col: Column, env: Env, size: number, ms: number, pairs = 1, names?: string[]): Promise<TputResult> {
  const deadlineMs = ms + 20_000;
  const list = names ?? Array.from({ length: pairs }, () => pairName(col, env));
  const sliceMs = sliceOf(env, ms);
  const sides = list.map((name) => {
    const base = { column: col.id, name, size, ms, sliceMs };
    return {
      name,
      send: spawnSide(env.place, 0, { ...base, role: 'tput-send' }, { deadlineMs, wrap: env.wrap?.a }),
      recv: spawnSide(env.place, 1, { ...base, role: 'tput-recv' }, { deadlineMs, wrap: env.wrap?.b }),
    };
  });
  try {
    await Promise.all(sides.map((s) => s.send.next())); // every pair connected
    const end = absNow() + ms;
    for (const s of sides) s.send.tell({ end });
    const sent = (await Promise.all(sides.map((s) => s.send.next()))) as { sent: number; cpu: number }[];
    const got = (await Promise.all(sides.map((s) => s.recv.next()))) as {
      received: number;
      counts: Record<string, number>;
      cpu: number;
    }[];
    const bySlice = new Map<number, number>();
    for (const g of got) for (const [k, v] of Object.entries(g.counts)) bySlice.set(+k, (bySlice.get(+k) ?? 0) + v);
    const keys = [...bySlice.keys()].sort((a, b) => a - b);
    // the first and the last slice are partial (the stream started or ended inside them); a slice
    // without a key between them is a stall (nothing arrived), a real zero
    const whole: number[] = [];
    for (let k = keys[0] + 1; k < keys[keys.length - 1]; k++) whole.push(k);
    if (whole.length === 0) whole.push(...keys);
    const rates = whole.map((k) => ((bySlice.get(k) ?? 0) * 1000) / sliceMs);
    const received = got.reduce((n, g) => n + g.received, 0);
    const cpu = sent.reduce((n, s) => n + s.cpu, 0) + got.reduce((n, g) => n + g.cpu, 0);
    const m = spread(rates);
    const mb = (v: number) => (v * size) / 1e6;
    return {
      msgsPerS: m,
      MBPerS: { median: mb(m.median), min: mb(m.min), max: mb(m.max) },
      cpuUsPerMsg: cpu / Math.max(1, received),
      received,
      pairs,
    };
  } finally {
    const all = sides.flatMap((s) => [s.send, s.recv]);
    await Promise.race([settle(all), new Promise((r) => setTimeout(r, 3000))]);
    for (const s of all) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    if (!env.wrap) for (const s of sides) cleanupName(s.name);
  }
}

export async function syncCost(col: Column, env: Env): Promise<{ ns: number; what: string }> {
  const side = spawnSide(
    env.place,
    0,
    { column: col.id, role: 'sync-cost', name: '', size: 0, ms: 0, sliceMs: 0 },
    { deadlineMs: 20_000 },
  );
  try {
    return (await side.next()) as { ns: number; what: string };
  } finally {
    await side.exited;
  }
}
