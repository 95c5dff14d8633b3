// What a group member can send, broadcast or reduce, and its bytes on the wire. A value keeps its
// kind across the trip: a Buffer arrives as a Buffer, a Float64Array as a Float64Array, a number as
// a number, a string as a string; anything else goes through v8.serialize (objects, arrays, bigints).
import { deserialize, serialize } from 'node:v8';

/** The numeric typed arrays, by their wire code (the index): the order of ElementType in native/contract/contract.json. */
export const TYPED_ARRAYS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

export type NumericArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** Anything a member may send: bytes, a typed array, a number, a string, or any structured-cloneable value. */
export type GroupData = unknown;

export const KIND_BYTES = 0;
export const KIND_TYPED = 1;
export const KIND_NUMBER = 2;
export const KIND_STRING = 3;
export const KIND_VALUE = 4;

/** A value ready for the wire: its kind, its typed-array code, its bytes. */
export interface Encoded {
  kind: number;
  dtype: number;
  bytes: Uint8Array;
}

/** The wire code of a numeric typed array, or -1. */
export function typedCode(value: unknown): number {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return -1;
  for (let i = 0; i < TYPED_ARRAYS.length; i++) if (value.constructor === TYPED_ARRAYS[i]) return i;
  return -1;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

export function encode(value: unknown): Encoded {
  if (Buffer.isBuffer(value)) return { kind: KIND_BYTES, dtype: 0, bytes: value };
  const code = typedCode(value);
  if (code >= 0) {
    const v = value as NumericArray;
    return { kind: KIND_TYPED, dtype: code, bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) };
  }
  if (typeof value === 'number') {
    f64[0] = value;
    return { kind: KIND_NUMBER, dtype: 0, bytes: Uint8Array.from(f64Bytes) };
  }
  if (typeof value === 'string') return { kind: KIND_STRING, dtype: 0, bytes: Buffer.from(value, 'utf8') };
  return { kind: KIND_VALUE, dtype: 0, bytes: serialize(value) };
}

/** The value back from its bytes; typed arrays are copied into memory of their own (aligned, the caller's to keep). */
export function decode(kind: number, dtype: number, bytes: Buffer): unknown {
  switch (kind) {
    case KIND_BYTES:
      return bytes;
    case KIND_TYPED: {
      const Ctor = TYPED_ARRAYS[dtype];
      if (Ctor === undefined || bytes.length % Ctor.BYTES_PER_ELEMENT !== 0) throw new RangeError('bad typed array on the wire');
      const out = new Ctor(bytes.length / Ctor.BYTES_PER_ELEMENT);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case KIND_NUMBER:
      if (bytes.length !== 8) throw new RangeError('bad number on the wire');
      f64Bytes.set(bytes);
      return f64[0];
    case KIND_STRING:
      return bytes.toString('utf8');
    case KIND_VALUE:
      return deserialize(bytes);
    default:
      throw new RangeError(`unknown value kind ${kind} on the wire`);
  }
}
