// Runs every measurement of the comparison within a time budget, the columns taking turns inside
// each kind of measurement (so a noisy moment on a shared machine falls on all of them alike), and
// builds the table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Column } from './column';
import { columns as allColumns } from './columns';
import { faultRun } from './fault';
import { linesOfCode } from './loc';
import { roundTrips, stream, syncCost, type Env } from './measure';
import { netnsPair } from './netns';
import { placement } from './pin';
import { SidePool } from './pool';
import type { Table } from './render';
import { cells, type ColumnResults, rowDefs } from './rows';
import { axisTitle } from './seed';
import { security } from './security';

export interface CompareOptions {
  /** Seconds the whole run should take, roughly (spawning processes is counted). */
  budget: number;
  log(line: string): void;
  columns?: readonly Column[];
}

/** The shortest measuring period (ms) of a step, however late the run is: every row keeps a figure. */
const MIN_PERIOD = 100;

const errText = (err: unknown) => `failed: ${(err as Error)?.message ?? err}`.split('\n')[0];

export async function compare(opts: CompareOptions): Promise<{ table: Table; columns: readonly Column[] }> {
  const started = Date.now();
  const cols = opts.columns ?? allColumns;
  const live = cols.filter((c) => !c.unavailable);
  const place = placement();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-compare-'));
  const pool = new SidePool(place);
  const env: Env = { place, pool, dir, sliceMs: 0 };
  const results: Record<string, ColumnResults> = Object.fromEntries(cols.map((c) => [c.id, {}]));
  const notes: string[] = [place.how];
  for (const c of cols) if (c.unavailable) notes.push(`${c.title}: ${c.unavailable}`);

  // The plan: a label, the weight in measuring periods, the weight in set-up (a process the step
  // starts counts 1, a pair it connects 1: start-ups are most of a short step on a loaded machine),
  // and the run.
  type Step = { label: string; periods: number; setup: number; run: (ms: number) => Promise<void> };
  const steps: Step[] = [];
  const each = (label: string, periods: number, setup: number, run: (c: Column, ms: number) => Promise<void>) => {
    for (const c of live) steps.push({ label: `${c.id}: ${label}`, periods, setup, run: (ms) => run(c, ms) });
  };
  const guard = async (set: (v: string) => void, body: () => Promise<void>) => {
    try {
      await body();
    } catch (err) {
      set(errText(err));
    }
  };
  each('64 B round trips', 1, 3, (c, ms) =>
    guard(
      (v) => (results[c.id].rtt = v),
      async () => void (results[c.id].rtt = await roundTrips(c, env, 64, ms)),
    ),
  );
  each('64 B stream', 1, 1, (c, ms) =>
    guard(
      (v) => (results[c.id].tput64 = v),
      async () => {
        const r = await stream(c, env, 64, ms);
        results[c.id].tput64 = r;
        results[c.id].scale = { 1: r };
      },
    ),
  );
  each('64 KiB stream', 1, 1, (c, ms) =>
    guard(
      (v) => (results[c.id].tput64k = v),
      async () => void (results[c.id].tput64k = await stream(c, env, 65536, ms)),
    ),
  );
  for (const n of [2, 4])
    each(`${n} pairs, 64 B streams`, 1, n + n / 2, (c, ms) => {
      const scale = (results[c.id].scale ??= {});
      return guard(
        (v) => (scale[n] = v),
        async () => void (scale[n] = await stream(c, env, 64, ms, n)),
      );
    });
  each("the model's synchronisation", 0.2, 1, (c, ms) =>
    guard(
      (v) => (results[c.id].syncCost = v),
      async () => void (results[c.id].syncCost = await syncCost(c, env, ms)),
    ),
  );
  // two periods: one before the kill and one after
  each('a peer SIGKILLed mid-run', 2, 4, (c, ms) =>
    guard(
      (v) => (results[c.id].fault = v),
      async () => void (results[c.id].fault = c.fault ? await faultRun(c, env, ms / 2) : 'no fault scenario for this column'),
    ),
  );
  const tcpCols = live.filter((c) => c.crossesHosts);
  let tcpPool: SidePool | undefined;
  const ns = tcpCols.length ? netnsPair() : 'no column crosses hosts';
  if (typeof ns === 'string') {
    notes.push(`TCP across network namespaces: ${ns}`);
    for (const c of tcpCols) results[c.id].tcp = ns;
  } else {
    for (const c of tcpCols)
      steps.push({
        label: `${c.id}: TCP between two network namespaces`,
        periods: 2,
        setup: 4,
        run: (ms) =>
          guard(
            (v) => (results[c.id].tcp = v),
            async () => {
              tcpPool ??= new SidePool(place, ns.wrap);
              const tcpEnv: Env = { ...env, pool: tcpPool, wrap: ns.wrap };
              const rtt = await roundTrips(c, tcpEnv, 64, ms / 2, ns.addressA); // a period each
              const tput = await stream(c, tcpEnv, 64, ms / 2, 1, [ns.addressA]);
              results[c.id].tcp = { rtt, tput };
            },
          ),
      });
    notes.push('TCP row: two network namespaces joined by a veth pair (169.254.77.1 ↔ .2), removed afterwards');
  }

  // The measuring period is planned from the budget and re-planned after every step from what a
  // started process really costs here (a loaded machine costs more: seconds, for the 8 processes of 4
  // pairs), so that the run keeps to its budget by measuring for less, never by leaving a row out.
  let perSetup = 0.25; // seconds per unit of set-up, until measured
  let spent = 0; // seconds of set-up so far
  let setupDone = 0;
  const periods = steps.reduce((n, s) => n + s.periods, 0);
  const setup = steps.reduce((n, s) => n + s.setup, 0);
  const plan = (secondsLeft: number, setupLeft: number, periodsLeft: number) =>
    Math.max(MIN_PERIOD, Math.min(3000, ((secondsLeft - setupLeft * perSetup) * 1000) / Math.max(periodsLeft, 0.5)));
  let ms = plan(opts.budget - 2, setup, periods); // 2 s for the security probes and the report
  env.sliceMs = 100; // the longest slice; every step cuts its period into at least 8 (measure.ts)
  opts.log(`interproc compare: ${live.length} models, ${steps.length} measurements of ~${Math.round(ms)} ms; ${place.how}`);
  const periodsUsed: number[] = [];
  try {
    let periodsLeft = periods;
    let setupLeft = setup;
    for (const [i, s] of steps.entries()) {
      const elapsed = (Date.now() - started) / 1000;
      ms = plan(opts.budget - 2 - elapsed, setupLeft, periodsLeft);
      const left = setupLeft * perSetup + (periodsLeft * ms) / 1000;
      opts.log(`[${i + 1}/${steps.length}] ${s.label} (about ${Math.ceil(left)} s left)`);
      const stepMs = Math.round(ms * Math.max(s.periods, 0.5));
      const t0 = Date.now();
      await s.run(stepMs);
      periodsUsed.push(stepMs);
      const cost = (Date.now() - t0 - (s.periods >= 0.5 ? stepMs : 0)) / 1000;
      spent += Math.max(0, cost);
      setupDone += s.setup;
      perSetup = Math.max(0.02, spent / setupDone);
      periodsLeft -= s.periods;
      setupLeft -= s.setup;
    }
    for (const c of live) {
      await guard(
        (v) => (results[c.id].security = v),
        async () => {
          results[c.id].security = c.securityObject ? await securityIn(c) : 'creates nothing';
        },
      );
      const lines = c.example ? linesOfCode(c.example) : null;
      results[c.id].loc = c.example && lines !== null ? { lines, file: `examples/counter/${c.example}` } : 'no example shipped';
    }
  } finally {
    await pool.close();
    await tcpPool?.close(); // before the namespaces go
    if (typeof ns !== 'string') ns.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const table: Table = {
    env: {
      date: new Date().toISOString(),
      machine: `${cpu}, ${os.availableParallelism()} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
      pinning: place.how,
      user: process.getuid?.() === 0 ? 'root (other-user and namespace rows measured)' : `uid ${process.getuid?.()}`,
      budget_s: opts.budget,
      period_ms: periodsUsed.length ? `${Math.min(...periodsUsed)}–${Math.max(...periodsUsed)}` : '—',
      took_s: Math.round((Date.now() - started) / 100) / 10,
    },
    columns: cols.map((c) => ({ id: c.id, title: c.title, model: c.model, reference: c.reference, unavailable: c.unavailable })),
    rows: rowDefs.map((d) => ({
      id: d.id,
      axis: d.axis,
      group: ['communication', 'dataAccess', 'synchronisation'].includes(d.axis)
        ? 'communication, data access, synchronisation'
        : axisTitle[d.axis],
      label: d.label,
      cells: cells(d, cols, results),
    })),
    notes,
  };
  return { table, columns: cols };
}

// Sockets are made in a directory others may enter (as /tmp or /run/app would be), so the trial
// as another user meets the socket's own permissions, not a private directory's.
async function securityIn(c: Column) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-compare-sec-'));
  fs.chmodSync(dir, 0o755);
  try {
    return await security(c, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
