// Fast paths for Buffers and Uint8Arrays on the mailbox hot path.
//
// Buffer.prototype has so many methods that V8 keeps it as a dictionary: a method or getter looked up
// through it (buf.set, buf.byteLength, buf.buffer) stays an inline-cache call even in optimized code.
// Called through these constants instead, the optimizer calls the builtin directly (measured: ~6 ns
// less per send; docs/design/mailbox.md, "What the hot path avoids").

/** Uint8Array.prototype.set: `typedArraySet.call(target, source, offset)`. */
export const typedArraySet = Uint8Array.prototype.set;

const getter = (name: string) => Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), name)!.get!;
const byteLengthGetter = getter('byteLength');
const byteOffsetGetter = getter('byteOffset');
const bufferGetter = getter('buffer');

/** The byte length of a Uint8Array (Buffer included). */
export function byteLengthOf(bytes: Uint8Array): number {
  return byteLengthGetter.call(bytes) as number;
}

/** Where a Uint8Array starts in its ArrayBuffer. */
export function byteOffsetOf(bytes: Uint8Array): number {
  return byteOffsetGetter.call(bytes) as number;
}

/** A Uint8Array's ArrayBuffer. */
export function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return bufferGetter.call(bytes) as ArrayBuffer;
}

type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;
// Node's own Buffer class (FastBuffer) makes a view in ~10 ns; Buffer.from(ab, off, len) checks its
// arguments first (~25 ns). Fall back to that where the species is not a separate class.
const species = (Buffer as unknown as { [Symbol.species]?: unknown })[Symbol.species];
/** A Buffer over `len` bytes of `ab` at `off` (no copy). */
export const makeView: (ab: ArrayBufferLike, off: number, len: number) => Buffer =
  typeof species === 'function' && species !== Buffer
    ? (ab, off, len) => new (species as ViewConstructor)(ab, off, len)
    : (ab, off, len) => Buffer.from(ab as ArrayBuffer, off, len);
