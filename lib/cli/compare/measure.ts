// The measured rows of the performance, scalability and overhead groups: round trips (a histogram of
// every round trip, p50/p99 and the spread of the per-slice p50s) and one-way streams with 1..N pairs
// (messages counted per time slice by every receiver; the figure is the median slice, the spread its
// min–max), with the CPU time of both sides per message. A column of operations (the store) is timed
// at its user, the side that sends the requests. The sides are pooled processes (pool.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { Column } from './column';
import { Histogram } from './histogram';
import type { Placement } from './pin';
import { finishAll, type SidePool } from './pool';
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
  /** The long-lived sides that measure (their processes are started once per column). */
  pool: SidePool;
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
  if (name.startsWith('/interproc-')) {
    fs.rmSync(`/dev/shm${name}`, { force: true });
    fs.rmSync(`/dev/shm${name}-store`, { force: true }); // a store's layout record
  } else fs.rmSync(name, { force: true });
}

// The roles of a pair: side a (CPU 0) and side b (CPU 1). For a column of operations side a is the
// owner that serves and side b the user that is timed; for messages side a is the pinger or sender.
const ROLES = {
  messages: { rtt: ['rtt-ping', 'rtt-pong'], stream: ['tput-send', 'tput-recv'], sync: ['sync-cost', ''] },
  operations: { rtt: ['op-serve', 'op-rtt'], stream: ['op-serve', 'op-stream'], sync: ['op-serve', 'op-sync'] },
} as const;
const rolesOf = (col: Column, what: 'rtt' | 'stream' | 'sync') => ROLES[col.operations ? 'operations' : 'messages'][what];

// Every measurement cuts its period into at least 8 slices, so each figure has a spread.
const sliceOf = (env: Env, ms: number) => Math.max(5, Math.min(env.sliceMs, ms / 8));

export async function roundTrips(col: Column, env: Env, size: number, ms: number, name = pairName(col, env)): Promise<RttResult> {
  const base = { column: col.id, name, size, ms, sliceMs: sliceOf(env, ms) };
  const deadlineMs = ms + 20_000;
  const [roleA, roleB] = rolesOf(col, 'rtt');
  const ping = env.pool.task(0, 'a', { ...base, role: roleA }, deadlineMs);
  const pong = env.pool.task(0, 'b', { ...base, role: roleB }, deadlineMs);
  try {
    const r = (await (col.operations ? pong : ping).next()) as {
      histogram: Parameters<typeof Histogram.fromJSON>[0];
      sliceP50: number[];
      count: number;
    };
    const h = Histogram.fromJSON(r.histogram);
    const us = (ns: number) => ns / 1000;
    const sp = spread(r.sliceP50.map(us));
    return { p50: us(h.percentile(50)), p99: us(h.percentile(99)), p999: us(h.percentile(99.9)), spread: sp, count: h.count };
  } finally {
    await finishAll([ping, pong]);
    if (!env.wrap) cleanupName(name);
  }
}

export async function stream(col: Column, env: Env, size: number, ms: number, pairs = 1, names?: string[]): Promise<TputResult> {
  const deadlineMs = ms + 20_000;
  const list = names ?? Array.from({ length: pairs }, () => pairName(col, env));
  const sliceMs = sliceOf(env, ms);
  const [roleA, roleB] = rolesOf(col, 'stream');
  const sides = list.map((name, k) => {
    const base = { column: col.id, name, size, ms, sliceMs };
    return {
      name,
      send: env.pool.task(k, 'a', { ...base, role: roleA }, deadlineMs),
      recv: env.pool.task(k, 'b', { ...base, role: roleB }, deadlineMs),
    };
  });
  try {
    // the side that drives the stream says when its pair is connected, and is told when to stop
    const drivers = sides.map((s) => (col.operations ? s.recv : s.send));
    await Promise.all(drivers.map((d) => d.next()));
    const end = absNow() + ms;
    for (const d of drivers) d.tell({ end });
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
    await finishAll(sides.flatMap((s) => [s.send, s.recv]));
    if (!env.wrap) for (const s of sides) cleanupName(s.name);
  }
}

/** The model's own synchronisation, uncontended: in one process, or (operations) against an owner process. */
export async function syncCost(col: Column, env: Env, ms = 200): Promise<{ ns: number; what: string }> {
  const [roleA, roleB] = rolesOf(col, 'sync');
  const name = col.operations ? pairName(col, env) : '';
  const base = { column: col.id, name, size: 64, ms, sliceMs: 0 };
  const tasks = [env.pool.task(0, 'a', { ...base, role: roleA }, ms + 20_000)];
  if (col.operations) tasks.push(env.pool.task(0, 'b', { ...base, role: roleB }, ms + 20_000));
  try {
    return (await tasks[tasks.length - 1].next()) as { ns: number; what: string };
  } finally {
    await finishAll(tasks);
    if (name) cleanupName(name);
  }
}
