// The rows of the measured table: for each, how a column's results become a cell (its figure, the
// seed's word for the column's model, and whether the figure bears the word out against the
// reference column of the other model, taking the spreads into account).
import type { Column } from './column';
import type { FaultResult } from './fault';
import type { RttResult, Spread, TputResult } from './measure';
import type { SecurityResult } from './security';
import { type Axis, seedWords } from './seed';

/** Everything measured for one column (a field is a string when that measurement was skipped or failed). */
export interface ColumnResults {
  rtt?: RttResult | string;
  tput64?: TputResult | string;
  tput64k?: TputResult | string;
  scale?: Record<number, TputResult | string>;
  tcp?: { rtt: RttResult; tput: TputResult } | string;
  syncCost?: { ns: number; what: string } | string;
  fault?: FaultResult | string;
  security?: SecurityResult | string;
  loc?: { lines: number; file: string } | string;
}

export type Verdict = 'agrees' | 'disagrees' | 'no difference' | 'undecided' | 'n/a';

export interface Cell {
  text: string;
  word: string;
  verdict: Verdict;
  /** The figure the verdict compares (with its spread), when there is one. */
  score?: number;
  lo?: number;
  hi?: number;
}

interface Figure {
  text: string;
  score?: number;
  lo?: number;
  hi?: number;
  /** For the mechanism rows: the column's own trait, compared with the word directly. */
  trait?: string;
}

export interface RowDef {
  id: string;
  axis: Axis;
  label: string;
  /** 'more': the seed's "High" means a larger figure (overhead, lines); 'less': a smaller one (latency). */
  highMeans?: 'more' | 'less';
  figure(r: ColumnResults, col: Column): Figure | string;
}

const fmt = (v: number): string =>
  !Number.isFinite(v)
    ? '—'
    : v >= 1e6
      ? `${(v / 1e6).toPrecision(3)} M`
      : v >= 1e4
        ? `${(v / 1e3).toPrecision(3)} k`
        : v >= 100
          ? Math.round(v).toString()
          : v.toPrecision(3);
const range = (s: Spread) => `[${fmt(s.min)}–${fmt(s.max)}]`;

function ok<T>(v: T | string | undefined): T | string {
  return v === undefined ? 'not measured' : v;
}

// A column of operations (the store) says what its figures count: operations, not messages.
function rate(t: TputResult | string | undefined, unit: 'msgs' | 'MB', col: Column, size: number): Figure | string {
  const v = ok(t);
  if (typeof v === 'string') return v;
  const s = unit === 'msgs' ? v.msgsPerS : v.MBPerS;
  const units = unit === 'MB' ? 'MB/s' : col.operations ? 'ops/s' : 'msgs/s';
  const text = `${fmt(s.median)} ${units} ${range(s)}`;
  return { text: col.operations ? `${text} (${col.operations.what.stream(size)})` : text, score: s.median, lo: s.min, hi: s.max };
}

function scaled(n: number): RowDef['figure'] {
  return (r, col) => {
    const one = r.scale?.[1] ?? r.tput64;
    const v = ok(r.scale?.[n]);
    if (typeof v === 'string') return v;
    const units = col.operations ? 'ops/s' : 'msgs/s';
    if (n === 1) return { text: `${fmt(v.msgsPerS.median)} ${units} ${range(v.msgsPerS)}` };
    if (one === undefined || typeof one === 'string') return `${fmt(v.msgsPerS.median)} ${units}`;
    const g = v.msgsPerS.median / one.msgsPerS.median;
    return {
      text: `${fmt(v.msgsPerS.median)} ${units} ${range(v.msgsPerS)}, ×${Number.isFinite(g) ? g.toFixed(2) : '—'} of 1 pair`,
      score: g,
      lo: v.msgsPerS.min / one.msgsPerS.max,
      hi: v.msgsPerS.max / one.msgsPerS.min,
    };
  };
}

export const rowDefs: RowDef[] = [
  {
    id: 'performance.rtt64',
    axis: 'performance',
    label: '64 B round trip: p50 [spread of p50s] / p99',
    highMeans: 'less',
    figure(r, col) {
      const v = ok(r.rtt);
      if (typeof v === 'string') return v;
      const text = `${fmt(v.p50)} µs ${range(v.spread)} / p99 ${fmt(v.p99)} µs`;
      return {
        text: col.operations ? `${text} (${col.operations.what.roundTrip})` : text,
        score: v.p50,
        lo: v.spread.min,
        hi: v.spread.max,
      };
    },
  },
  {
    id: 'performance.tput64',
    axis: 'performance',
    label: '64 B throughput, one way',
    highMeans: 'more',
    figure: (r, col) => rate(r.tput64, 'msgs', col, 64),
  },
  {
    id: 'performance.tput64k',
    axis: 'performance',
    label: '64 KiB throughput, one way',
    highMeans: 'more',
    figure: (r, col) => rate(r.tput64k, 'MB', col, 65536),
  },
  { id: 'scalability.pairs1', axis: 'scalability', label: '1 process pair, 64 B stream', figure: scaled(1) },
  { id: 'scalability.pairs2', axis: 'scalability', label: '2 process pairs, aggregate', highMeans: 'more', figure: scaled(2) },
  { id: 'scalability.pairs4', axis: 'scalability', label: '4 process pairs, aggregate', highMeans: 'more', figure: scaled(4) },
  {
    id: 'scalability.tcp',
    axis: 'scalability',
    label: 'across a network link (TCP between two network namespaces)',
    highMeans: 'more',
    figure(r, col) {
      if (!col.crossesHosts) return { text: 'cannot: one host only', score: 0 };
      const v = ok(r.tcp);
      if (typeof v === 'string') return v;
      return {
        text: `round trip ${fmt(v.rtt.p50)} µs ${range(v.rtt.spread)}, ${fmt(v.tput.msgsPerS.median)} ${col.operations ? 'ops/s' : 'msgs/s'}`,
        score: 1,
      };
    },
  },
  {
    id: 'syncOverhead.cpu',
    axis: 'syncOverhead',
    label: 'CPU time per message, both sides (64 B stream)',
    highMeans: 'more',
    figure(r, col) {
      const v = ok(r.tput64);
      if (typeof v === 'string') return v;
      return { text: `${fmt(v.cpuUsPerMsg)} µs${col.operations ? ' per operation' : ''}`, score: v.cpuUsPerMsg };
    },
  },
  {
    id: 'syncOverhead.explicit',
    axis: 'syncOverhead',
    label: "the model's own synchronisation per message (uncontended)",
    highMeans: 'more',
    figure(r) {
      const v = ok(r.syncCost);
      if (typeof v === 'string') return v;
      return { text: `${v.ns === 0 ? '0 ns' : `${fmt(v.ns)} ns`}: ${v.what}`, score: v.ns };
    },
  },
  {
    id: 'faultTolerance.carryOn',
    axis: 'faultTolerance',
    label: 'peer SIGKILLed mid-run: did the others carry on',
    highMeans: 'more',
    figure(r) {
      const v = ok(r.fault);
      if (typeof v === 'string') return v;
      return {
        text: v.carriedOn
          ? `yes: ${v.afterKill} ${v.kind === 'queue' ? 'messages' : 'updates seen'} from the other peer after`
          : 'no',
        score: v.carriedOn ? 1 : 0,
      };
    },
  },
  {
    id: 'faultTolerance.damage',
    axis: 'faultTolerance',
    label: 'lost, torn or inconsistent',
    highMeans: 'less',
    figure(r) {
      const v = ok(r.fault);
      if (typeof v === 'string') return v;
      const bad = v.lost + v.torn + v.inconsistent;
      const text =
        v.kind === 'queue'
          ? `lost ${v.lost}, torn ${v.torn}`
          : v.kind === 'owned'
            ? `torn ${v.torn}; lost ${v.lost}: the dead owner's record went with its blocks (no replica)`
            : `torn ${v.torn}, inconsistent ${v.inconsistent}${v.inconsistent ? ' (repaired after EOWNERDEAD)' : ''}`;
      return { text, score: bad };
    },
  },
  {
    id: 'faultTolerance.reported',
    axis: 'faultTolerance',
    label: 'time until the death was reported',
    highMeans: 'less',
    figure(r) {
      const v = ok(r.fault);
      if (typeof v === 'string') return v;
      if (v.reportedMs === null) return { text: `never: ${v.how.replace(/^never: /, '')}`, score: Number.POSITIVE_INFINITY };
      return { text: `${fmt(v.reportedMs)} ms: ${v.how}`, score: v.reportedMs };
    },
  },
  {
    id: 'security.mode',
    axis: 'security',
    label: 'default permissions of what it creates',
    highMeans: 'less',
    figure(r) {
      const v = ok(r.security);
      if (typeof v === 'string') return v;
      return { text: v.mode, score: v.openBits };
    },
  },
  {
    id: 'security.otherUser',
    axis: 'security',
    label: "another user's process can open / connect",
    highMeans: 'less',
    figure(r) {
      const v = ok(r.security);
      if (typeof v === 'string') return v;
      if (v.otherUser === 'not tried') return `not tried: ${v.detail}`;
      return { text: `${v.otherUser === 'allowed' ? 'yes' : 'no'} (${v.detail})`, score: v.otherUser === 'allowed' ? 1 : 0 };
    },
  },
  {
    id: 'complexity.loc',
    axis: 'complexity',
    label: 'lines of code of the counter service (examples/counter/)',
    highMeans: 'more',
    figure(r) {
      const v = ok(r.loc);
      if (typeof v === 'string') return v;
      return { text: `${v.lines} lines (${v.file})`, score: v.lines };
    },
  },
  { id: 'mechanism.communication', axis: 'communication', label: 'communication', figure: (_r, c) => mech(c, 'communication') },
  { id: 'mechanism.dataAccess', axis: 'dataAccess', label: 'data access', figure: (_r, c) => mech(c, 'dataAccess') },
  {
    id: 'mechanism.synchronisation',
    axis: 'synchronisation',
    label: 'synchronisation',
    figure: (_r, c) => mech(c, 'synchronisation'),
  },
];

function mech(c: Column, k: 'communication' | 'dataAccess' | 'synchronisation'): Figure {
  return { text: c.mechanism[k], trait: c.traits[k] };
}

/** The cells of one row for every column; `columns` that cannot run get their line and 'n/a'. */
export function cells(def: RowDef, columns: readonly Column[], results: Record<string, ColumnResults>): Record<string, Cell> {
  const figures = new Map<string, Figure | string>();
  for (const c of columns) figures.set(c.id, c.unavailable ? c.unavailable : def.figure(results[c.id] ?? {}, c));
  const out: Record<string, Cell> = {};
  for (const c of columns) {
    const f = figures.get(c.id)!;
    const word = seedWords[def.axis][c.model];
    if (typeof f === 'string') {
      out[c.id] = { text: f, word, verdict: 'n/a' };
      continue;
    }
    const cell: Cell = { text: f.text, word, verdict: 'n/a' };
    if (f.score !== undefined) {
      cell.score = f.score;
      cell.lo = f.lo ?? f.score;
      cell.hi = f.hi ?? f.score;
    }
    if (f.trait !== undefined) cell.verdict = f.trait === word.toLowerCase() ? 'agrees' : 'disagrees';
    else
      cell.verdict = judge(
        def,
        c,
        cell,
        figures.get(c.reference),
        columns.find((k) => k.id === c.reference),
      );
    out[c.id] = cell;
  }
  return out;
}

function judge(def: RowDef, c: Column, cell: Cell, refFigure: Figure | string | undefined, ref: Column | undefined): Verdict {
  if (!def.highMeans || cell.score === undefined || !ref || typeof refFigure !== 'object' || refFigure.score === undefined)
    return 'n/a';
  const word = seedWords[def.axis][c.model];
  const refWord = seedWords[def.axis][ref.model];
  if (word === refWord || !['High', 'Low'].includes(word)) return 'n/a';
  const rLo = refFigure.lo ?? refFigure.score;
  const rHi = refFigure.hi ?? refFigure.score;
  // "High" on an axis whose figure grows with it: this column's figure should be the larger.
  const expectLarger = (word === 'High') === (def.highMeans === 'more');
  if (cell.lo! > rHi) return expectLarger ? 'agrees' : 'disagrees';
  if (cell.hi! < rLo) return expectLarger ? 'disagrees' : 'agrees';
  // Exact figures (yes/no, counts, permissions) that are equal: the difference the seed claims is not there.
  if (cell.lo === cell.hi && rLo === rHi && cell.score === refFigure.score) return 'no difference';
  return 'undecided';
}
