// The reduction kernels: the native ones (long arrays) give exactly what the JavaScript loops (short
// arrays) give, for every element type and built-in operation, edge values included; both agree with
// a plain computation; the native entry point refuses what it cannot take, with a clear error.
import { describe, expect, it } from 'vitest';
import { TYPED_ARRAYS } from '../../dist/group/data';
import { kernelOf } from '../../dist/group/ops';
import { native } from '../../dist/internal/binding';
import { ElementType } from '../../dist/internal/contract';

type Numeric = InstanceType<(typeof TYPED_ARRAYS)[number]>;
type Ctor = new (n: number) => Numeric;

const N = 1000; // past the native threshold (256); an element at a time is JavaScript's loop

/** Values that probe each type's edges: its extremes, wrap-around, NaN and signed zeros, big 32-bit products. */
function edgeValues(ctor: Ctor): unknown[] {
  const name = ctor.name;
  if (name.startsWith('Big')) return [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n + 7n, 3n ** 39n];
  if (name.startsWith('Float'))
    return [0, -0, 1.5, -2.25, Number.NaN, Number.POSITIVE_INFINITY, -Infinity, 1e300, 3.4e38, 1e-310];
  return [0, 1, -1, 127, 128, 255, 256, 32767, -32768, 65535, 46341, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 123456789];
}

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s;
  };
}

function fill(ctor: Ctor, seed: number): Numeric {
  const a = new ctor(N);
  const edges = edgeValues(ctor);
  const next = seeded(seed);
  const big = ctor.name.startsWith('Big');
  for (let i = 0; i < N; i++) {
    const r = next();
    const v =
      r % 3 === 0 ? edges[r % edges.length] : big ? BigInt(r) * BigInt(next()) - 2n ** 62n : (r / 2 ** 32 - 0.5) * 2 ** (r % 40);
    (a as unknown as unknown[])[i] = v;
  }
  return a;
}

const same = (x: unknown, y: unknown) => Object.is(x, y);

describe('reduction kernels', () => {
  it("TYPED_ARRAYS is in the order of the contract's ElementType", () => {
    for (const [i, ctor] of TYPED_ARRAYS.entries()) expect(`${ElementType[i]}Array`).toBe(ctor.name);
  });

  for (const ctor of TYPED_ARRAYS as unknown as Ctor[]) {
    for (const op of ['sum', 'min', 'max', 'product'] as const) {
      it(`${ctor.name} ${op}: native and JavaScript give the same elements`, () => {
        const { kernel } = kernelOf(op);
        const a = fill(ctor, 1);
        const b = fill(ctor, 2);
        const long = new ctor(N);
        kernel(long as never, a as never, b as never, N);
        const short = new ctor(N);
        for (let i = 0; i < N; i++)
          kernel(short.subarray(i, i + 1) as never, a.subarray(i, i + 1) as never, b.subarray(i, i + 1) as never, 1);
        const bad: string[] = [];
        for (let i = 0; i < N; i++)
          if (!same(long[i], short[i])) bad.push(`${a[i]} ${op} ${b[i]}: native ${long[i]}, js ${short[i]}`);
        expect(bad.slice(0, 5)).toEqual([]);
        // In place (dst is the first input), as reductions over members run.
        const inPlace = a.slice();
        kernel(inPlace as never, inPlace as never, b as never, N);
        expect(Array.from(inPlace as ArrayLike<unknown>)).toEqual(Array.from(long as ArrayLike<unknown>));
      });
    }
  }

  it('agree with a plain computation: NaN propagates in min and max, integers wrap, Uint8Clamped saturates', () => {
    const f = new Float64Array(N).fill(1);
    const g = new Float64Array(N).fill(2);
    f[3] = Number.NaN;
    g[7] = Number.NaN;
    for (const op of ['min', 'max'] as const) {
      const out = new Float64Array(N);
      kernelOf(op).kernel(out, f, g, N);
      const plain = op === 'min' ? Math.min : Math.max;
      for (const i of [0, 3, 7]) expect(out[i]).toBe(plain(f[i] as number, g[i] as number));
    }
    const i32 = Int32Array.of(...new Array(N).fill(2 ** 31 - 1));
    const sum = new Int32Array(N);
    kernelOf('sum').kernel(sum, i32, i32, N);
    expect(sum[0]).toBe((2 ** 31 - 1 + 2 ** 31 - 1) | 0);
    const prod = new Int32Array(N);
    kernelOf('product').kernel(prod, i32, i32, N);
    expect(prod[0]).toBe(Int32Array.of((2 ** 31 - 1) * (2 ** 31 - 1))[0]);
    const c = new Uint8ClampedArray(N).fill(200);
    const cs = new Uint8ClampedArray(N);
    kernelOf('sum').kernel(cs, c, c, N);
    expect(cs[0]).toBe(255);
  });

  it('the native entry point refuses a wrong type, a short array and an operation it has no kernel for', () => {
    const a = new Float64Array(8);
    const i = new Int32Array(8);
    expect(() => native.groupReduce(1, ElementType.Float64, a, a, i, 8)).toThrow(TypeError);
    expect(() => native.groupReduce(1, ElementType.Float64, a, a, {} as never, 8)).toThrow(TypeError);
    expect(() => native.groupReduce(1, ElementType.Float64, a, a, a, 9)).toThrow(RangeError);
    expect(() => native.groupReduce(255, ElementType.Float64, a, a, a, 8)).toThrow(RangeError);
    expect(() => native.groupReduce(1, 99, a, a, a, 8)).toThrow(RangeError);
    a.fill(1);
    native.groupReduce(1, ElementType.Float64, a, a, a, 8);
    expect(Array.from(a)).toEqual(new Array(8).fill(2));
  });
});
