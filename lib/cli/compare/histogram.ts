// A small log-linear latency histogram in the spirit of HdrHistogram: values (nanoseconds, integers
// ≥ 0) fall into buckets whose width doubles every `subBuckets` buckets, so every recorded value is
// reported within ±1.6 % of its true value (32 buckets per doubling) from 1 ns to days, in 25 KiB,
// with O(1) record(). Shared by `interproc compare` and bench/ (which requires the compiled
// dist/cli/compare/histogram.js), so both print percentiles the same way.

const SUB_BITS = 6; // values below 64 ns are exact; above, 32 buckets per power of two
const SUB = 1 << SUB_BITS;
const MAX_EXP = 48; // 2^48 ns ≈ 3.3 days

export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export class Histogram {
  readonly counts = new Float64Array((MAX_EXP + 1) * SUB);
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  #sum = 0;

  /** Records one value (ns); negative values count as 0, fractions are truncated. */
  record(value: number): void {
    const v = value > 0 ? Math.floor(value) : 0;
    this.counts[indexOf(v)]++;
    this.count++;
    this.#sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Forgets every value (a warm-up's). */
  reset(): this {
    this.counts.fill(0);
    this.count = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
    this.#sum = 0;
    return this;
  }

  /** Adds every value of `other` to this histogram. */
  add(other: Histogram): this {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.#sum += other.#sum;
    if (other.count) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
    return this;
  }

  /** The value at percentile p (0..100): the middle of the bucket holding it, clamped to [min, max]. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, middleOf(i)));
    }
    return this.max;
  }

  get mean(): number {
    return this.count ? this.#sum / this.count : Number.NaN;
  }

  summary(): HistogramSummary {
    return {
      count: this.count,
      min: this.count ? this.min : Number.NaN,
      max: this.count ? this.max : Number.NaN,
      mean: this.mean,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }

  /** A compact form for JSON between processes: [index, count] pairs of the non-empty buckets. */
  toJSON(): { buckets: [number, number][]; count: number; min: number; max: number; sum: number } {
    const buckets: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]) buckets.push([i, this.counts[i]]);
    return { buckets, count: this.count, min: this.min, max: this.max, sum: this.#sum };
  }

  static fromJSON(o: { buckets: [number, number][]; count: number; min: number; max: number; sum: number }): Histogram {
    const h = new Histogram();
    for (const [i, c] of o.buckets) if (i >= 0 && i < h.counts.length) h.counts[i] = c;
    h.count = o.count;
    h.min = o.min ?? Number.POSITIVE_INFINITY;
    h.max = o.max ?? 0;
    h.#sum = o.sum ?? 0;
    return h;
  }
}

// Values below SUB map linearly (exact); above, bucket (exponent, top SUB_BITS bits below the leading one).
function indexOf(v: number): number {
  if (v < SUB) return v;
  const exp = Math.min(MAX_EXP, Math.floor(Math.log2(v)) - SUB_BITS + 1);
  const sub = Math.floor(v / 2 ** exp) - SUB / 2; // 0..SUB/2-1 after the shift keeps the leading bit
  return Math.min((MAX_EXP + 1) * SUB - 1, SUB + (exp - 1) * (SUB / 2) + sub);
}

function middleOf(i: number): number {
  if (i < SUB) return i;
  const exp = Math.floor((i - SUB) / (SUB / 2)) + 1;
  const sub = ((i - SUB) % (SUB / 2)) + SUB / 2;
  return (sub + 0.5) * 2 ** exp;
}
