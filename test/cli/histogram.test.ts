import { describe, expect, it } from 'vitest';
import { Histogram } from '../../lib/cli/compare/histogram';

describe('Histogram', () => {
  it('reports percentiles within 1.6 % of the true values over many orders of magnitude', () => {
    const h = new Histogram();
    const values: number[] = [];
    for (let i = 1; i <= 100_000; i++) {
      const v = Math.round(10 ** (1 + (i % 997) / 100)); // 10 ns .. ~1 s
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const truth = values[Math.ceil((p / 100) * values.length) - 1];
      expect(Math.abs(h.percentile(p) - truth) / truth).toBeLessThan(0.016);
    }
    expect(h.count).toBe(100_000);
    expect(h.min).toBe(values[0]);
    expect(h.max).toBe(values[values.length - 1]);
  });

  it('is exact below 64 ns, merges, and survives JSON between processes', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 50; i++) a.record(i);
    for (let i = 0; i < 50; i++) b.record(1e6 + i);
    expect(a.percentile(50)).toBe(24);
    const merged = Histogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON()))).add(b);
    expect(merged.count).toBe(100);
    expect(merged.percentile(25)).toBe(24);
    expect(Math.abs(merged.percentile(99) - 1e6) / 1e6).toBeLessThan(0.016);
    expect(new Histogram().percentile(50)).toBeNaN();
  });
});
