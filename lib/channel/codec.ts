// A channel's codec: what send() accepts and what a message's data is. 'raw': bytes (a string is
// sent as UTF-8); 'v8': any structured-cloneable value (v8.serialize).
import v8 from 'node:v8';
import { InterprocError } from '../internal/errors';
import { invalidType } from '../internal/validate';
import { closeFds } from './io';
import type { Codec } from './types';

/** The bytes to send for `data`; a TypeError for what the codec cannot send. */
export function encode(codec: Codec, data: unknown): Uint8Array {
  if (codec === 'v8') return v8.serialize(data);
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw invalidType('data', 'of type string or an instance of Buffer, TypedArray, DataView or ArrayBuffer', data);
}

/**
 * A received payload as the message's data. A payload the v8 codec cannot read closes the fds that
 * came with it and throws ERR_INVALID_FRAME (the connection then ends).
 */
export function decode<T>(codec: Codec, payload: Buffer, fds: number[]): T {
  if (codec === 'raw') return payload as T;
  try {
    return v8.deserialize(payload) as T;
  } catch {
    closeFds(fds);
    throw new InterprocError('ERR_INVALID_FRAME', 'A message is not a valid v8-serialized value');
  }
}
