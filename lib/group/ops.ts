// Reduction operations: the four of MPI's that every numeric type has, or a function of two
// elements. Each kernel combines two arrays element by element into a third (which may be either
// input); a reduction over members applies it in rank order, so a function that is associative but
// not commutative still gives the same result on every member.
import { native } from '../internal/binding';
import { ReduceOp as Op } from '../internal/contract';
import { ArgValueError, invalidType } from '../internal/validate';
import { type NumericArray, typedCode } from './data';

export type ReduceOpName = 'sum' | 'min' | 'max' | 'product';
/** A built-in operation, or a function of two elements (numbers, or bigints for BigInt64/BigUint64 arrays). */
export type ReduceOp = ReduceOpName | ((a: number, b: number) => number) | ((a: bigint, b: bigint) => bigint);

/** dst[i] = op(a[i], b[i]) for i < n. */
export type Kernel = (dst: NumericArray, a: NumericArray, b: NumericArray, n: number) => void;

/**
 * From this many elements a kernel runs natively (native/core/group/reduce.hpp, the same results):
 * the call costs about what a JavaScript loop of this length does, and a long loop in JavaScript is
 * several times slower than the memory it reads.
 */
const NATIVE_FROM = 256;

// One function per operation keeps each loop monomorphic in its operation.
type Any = { [i: number]: number };
function sum(dst: NumericArray, a: NumericArray, b: NumericArray, n: number): void {
  if (n >= NATIVE_FROM) {
    native.groupReduce(Op.Sum, typedCode(dst), dst, a, b, n);
    return;
  }
  const d = dst as unknown as Any,
    x = a as unknown as Any,
    y = b as unknown as Any;
  for (let i = 0; i < n; i++) d[i] = (x[i] as number) + (y[i] as number);
}
function product(dst: NumericArray, a: NumericArray, b: NumericArray, n: number): void {
  if (n >= NATIVE_FROM) {
    native.groupReduce(Op.Product, typedCode(dst), dst, a, b, n);
    return;
  }
  const d = dst as unknown as Any,
    x = a as unknown as Any,
    y = b as unknown as Any;
  for (let i = 0; i < n; i++) d[i] = (x[i] as number) * (y[i] as number);
}
// NaN on either side gives NaN, as Math.min and Math.max do (Number.isNaN is false for bigints).
function min(dst: NumericArray, a: NumericArray, b: NumericArray, n: number): void {
  if (n >= NATIVE_FROM) {
    native.groupReduce(Op.Min, typedCode(dst), dst, a, b, n);
    return;
  }
  const d = dst as unknown as Any,
    x = a as unknown as Any,
    y = b as unknown as Any;
  for (let i = 0; i < n; i++) {
    const u = x[i] as number,
      v = y[i] as number;
    let m = u; // not Math.min: of 0 and -0 it must keep the first, as the native kernel does
    if (v < u) m = v;
    if (Number.isNaN(u) || Number.isNaN(v)) m = u + v;
    d[i] = m;
  }
}
function max(dst: NumericArray, a: NumericArray, b: NumericArray, n: number): void {
  if (n >= NATIVE_FROM) {
    native.groupReduce(Op.Max, typedCode(dst), dst, a, b, n);
    return;
  }
  const d = dst as unknown as Any,
    x = a as unknown as Any,
    y = b as unknown as Any;
  for (let i = 0; i < n; i++) {
    const u = x[i] as number,
      v = y[i] as number;
    let m = u;
    if (v > u) m = v;
    if (Number.isNaN(u) || Number.isNaN(v)) m = u + v;
    d[i] = m;
  }
}

const KERNELS: Record<ReduceOpName, Kernel> = { sum, min, max, product };

/** The wire code of an operation (all members must pass the same); functions are 255. */
export const OP_CODES: Record<ReduceOpName, number> = { sum: Op.Sum, min: Op.Min, max: Op.Max, product: Op.Product };

/** The built-in operations' kernelOf() results, made once (a reduction must not allocate for them). */
const BUILT_IN = new Map<string, { kernel: Kernel; code: number }>(
  Object.entries(KERNELS).map(([name, kernel]) => [name, Object.freeze({ kernel, code: OP_CODES[name as ReduceOpName] })]),
);

export function kernelOf(op: unknown): { kernel: Kernel; code: number } {
  const known = typeof op === 'string' ? BUILT_IN.get(op) : undefined;
  if (known !== undefined) return known;
  if (typeof op === 'function') {
    const fn = op as (a: unknown, b: unknown) => unknown;
    const kernel: Kernel = (dst, a, b, n) => {
      const d = dst as unknown as unknown[],
        x = a as unknown as unknown[],
        y = b as unknown as unknown[];
      for (let i = 0; i < n; i++) d[i] = fn(x[i], y[i]);
    };
    return { kernel, code: Op.Function };
  }
  if (typeof op !== 'string') throw invalidType('op', "'sum', 'min', 'max', 'product' or a function", op);
  const kernel = KERNELS[op as ReduceOpName];
  if (kernel === undefined || !Object.hasOwn(KERNELS, op))
    throw new ArgValueError(`The argument 'op' must be 'sum', 'min', 'max', 'product' or a function. Received '${op}'`);
  return { kernel, code: OP_CODES[op as ReduceOpName] };
}

/** Reduces `inputs` (in rank order) into `out`, every input of `n` elements. */
export function reduceInto(out: NumericArray, inputs: NumericArray[], kernel: Kernel, n: number): void {
  if (inputs.length === 1) {
    (out as Uint8Array).set(inputs[0] as Uint8Array);
    return;
  }
  kernel(out, inputs[0] as NumericArray, inputs[1] as NumericArray, n);
  for (let k = 2; k < inputs.length; k++) kernel(out, out, inputs[k] as NumericArray, n);
}
