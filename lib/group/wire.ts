// The group's messages over a transport: a 16-byte header, then the value's bytes. A value larger
// than one transport message goes as consecutive fragments; the transport keeps one sender's
// messages in order and `send` queues all of a value's fragments at once, so one sender's fragments
// are never interleaved with its other messages and reassembly needs one partial value per sender.
// Layout: docs/design/group.md#wire.
import type { Encoded } from './data';

export const HEADER = 16;

/** A point-to-point message (tag = the user's tag). */
export const T_POINT = 1;
/** A collective's message (tag = the collective's sequence number). */
export const T_COLLECTIVE = 2;
/** The member leaves: nothing more will come from it. */
export const T_BYE = 3;
/** Start-up: the member has joined and listens. */
export const T_HELLO = 4;
/** More bytes of the value whose first fragment came before. */
export const T_MORE = 5;

const F_MORE = 1;

/** Largest value a member accepts from a peer (a peer claiming more loses its messages, not our memory). */
export const MAX_VALUE = 2 ** 32 - 1;

export interface Frame {
  type: number;
  kind: number;
  dtype: number;
  tag: number;
  data: Buffer;
}

function header(buf: Uint8Array, type: number, kind: number, dtype: number, more: boolean, tag: number, total: number): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, HEADER);
  dv.setUint8(0, type);
  dv.setUint8(1, kind);
  dv.setUint8(2, dtype);
  dv.setUint8(3, more ? F_MORE : 0);
  dv.setInt32(4, tag, true);
  dv.setUint32(8, total, true);
  dv.setUint32(12, 0, true);
}

/** The transport messages that carry one value; `max` is the transport's largest message. */
export function frames(type: number, tag: number, value: Encoded, max: number): Uint8Array[] {
  const total = value.bytes.length;
  const room = max - HEADER;
  if (total <= room) {
    const one = Buffer.allocUnsafe(HEADER + total);
    header(one, type, value.kind, value.dtype, false, tag, total);
    one.set(value.bytes, HEADER);
    return [one];
  }
  const out: Uint8Array[] = [];
  for (let at = 0; at < total; at += room) {
    const end = Math.min(total, at + room);
    const f = Buffer.allocUnsafe(HEADER + end - at);
    header(f, at === 0 ? type : T_MORE, value.kind, value.dtype, end < total, tag, total);
    f.set(value.bytes.subarray(at, end), HEADER);
    out.push(f);
  }
  return out;
}

interface Partial {
  first: Frame;
  total: number;
  parts: Buffer[];
  got: number;
}

/** Reassembles each sender's values from its fragments. Input is untrusted: bad framing is reported, never trusted. */
export class Reassembler {
  readonly #partial = new Map<number, Partial>();

  /** The complete frame this message ends, undefined while a value is still partial; throws RangeError on bad framing. */
  push(from: number, msg: Buffer): Frame | undefined {
    if (msg.length < HEADER) throw new RangeError(`a message of ${msg.length} bytes is shorter than the group header`);
    const type = msg[0] as number;
    const more = ((msg[3] as number) & F_MORE) !== 0;
    const total = msg.readUInt32LE(8);
    const body = msg.subarray(HEADER);
    const partial = this.#partial.get(from);
    if (type === T_MORE) {
      if (partial === undefined) throw new RangeError('a continuation fragment without a first fragment');
      partial.parts.push(body);
      partial.got += body.length;
      if (partial.got > partial.total || (!more && partial.got !== partial.total))
        throw new RangeError('fragments do not add up to the announced length');
      if (more) return undefined;
      this.#partial.delete(from);
      partial.first.data = Buffer.concat(partial.parts, partial.total);
      return partial.first;
    }
    if (partial !== undefined) throw new RangeError('a new value began before the previous one ended');
    const frame: Frame = { type, kind: msg[1] as number, dtype: msg[2] as number, tag: msg.readInt32LE(4), data: body };
    if (!more) {
      if (body.length !== total) throw new RangeError('a value shorter or longer than its announced length');
      return frame;
    }
    if (body.length >= total) throw new RangeError('a first fragment as long as the whole value');
    this.#partial.set(from, { first: frame, total, parts: [body], got: body.length });
    return undefined;
  }

  /** Drops what a sender had in flight (it died or broke the framing). */
  forget(from: number): void {
    this.#partial.delete(from);
  }
}
