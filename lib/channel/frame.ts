// Length-prefixed frames of stream channels (Unix stream and TCP). Wire format (docs/protocol/channel-frames.md):
//   offset 0  u32 big-endian  payload length in bytes (<= the receiver's maxMessageSize)
//   offset 4  u16 big-endian  number of fds passed with this frame (SCM_RIGHTS on its first byte)
//   offset 6  u16             reserved, must be 0
//   offset 8  payload
import { type ErrorCode, InterprocError } from '../internal/errors';

export const HEADER_SIZE = 8;

export function encodeHeader(length: number, fdCount: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER_SIZE);
  h.writeUInt32BE(length, 0);
  h.writeUInt16BE(fdCount, 4);
  h.writeUInt16BE(0, 6);
  return h;
}

export function frameError(code: ErrorCode, message: string): InterprocError {
  return new InterprocError(code, message);
}

/**
 * Splits a byte stream into frames, whatever the read boundaries: a frame may arrive in many reads
 * and one read may hold many frames. Throws an InterprocError on a bad header; the caller then ends
 * the connection (the stream cannot be resynchronised).
 */
export class FrameDecoder {
  readonly #maxMessageSize: number;
  readonly #maxFds: number;
  readonly #onFrame: (payload: Buffer, fdCount: number) => void;
  readonly #header = Buffer.alloc(HEADER_SIZE);
  #headerFill = 0;
  #body: Buffer | null = null;
  #bodyFill = 0;
  #bodyFds = 0;

  constructor(maxMessageSize: number, maxFds: number, onFrame: (payload: Buffer, fdCount: number) => void) {
    this.#maxMessageSize = maxMessageSize;
    this.#maxFds = maxFds;
    this.#onFrame = onFrame;
  }

  /** True when some bytes of an unfinished frame have arrived. */
  get partial(): boolean {
    return this.#headerFill > 0 || this.#body !== null;
  }

  /** The unfilled part of a large frame's body, for reading straight into it (saves a copy). */
  pendingBody(): [Buffer, number, number] | null {
    if (this.#body === null) return null;
    return [this.#body, this.#bodyFill, this.#body.length - this.#bodyFill];
  }

  /** Bytes were written into pendingBody() directly. */
  bodyFilled(n: number): void {
    this.#bodyFill += n;
    if (this.#body !== null && this.#bodyFill === this.#body.length) this.#finishBody();
  }

  feed(buf: Uint8Array, start: number, end: number): void {
    while (start < end) {
      if (this.#body === null) {
        let length: number, fds: number, reserved: number;
        if (this.#headerFill === 0 && end - start >= HEADER_SIZE) {
          length = ((buf[start] << 24) >>> 0) + (buf[start + 1] << 16) + (buf[start + 2] << 8) + buf[start + 3];
          fds = (buf[start + 4] << 8) | buf[start + 5];
          reserved = (buf[start + 6] << 8) | buf[start + 7];
          start += HEADER_SIZE;
        } else {
          const take = Math.min(HEADER_SIZE - this.#headerFill, end - start);
          this.#header.set(buf.subarray(start, start + take), this.#headerFill);
          this.#headerFill += take;
          start += take;
          if (this.#headerFill < HEADER_SIZE) return;
          this.#headerFill = 0;
          length = this.#header.readUInt32BE(0);
          fds = this.#header.readUInt16BE(4);
          reserved = this.#header.readUInt16BE(6);
        }
        if (reserved !== 0) throw frameError('ERR_INVALID_FRAME', `invalid frame header: reserved field is ${reserved}, not 0`);
        if (length > this.#maxMessageSize) {
          throw frameError('ERR_MESSAGE_TOO_LARGE', `frame of ${length} bytes exceeds maxMessageSize (${this.#maxMessageSize})`);
        }
        if (fds > this.#maxFds)
          throw frameError('ERR_TOO_MANY_FDS', `frame declares ${fds} fds, more than maxFds (${this.#maxFds})`);
        if (end - start >= length) {
          // Whole body in this read: copy it out (the read buffer is reused).
          const payload = Buffer.allocUnsafe(length);
          payload.set(buf.subarray(start, start + length));
          start += length;
          this.#onFrame(payload, fds);
          continue;
        }
        this.#body = Buffer.allocUnsafe(length);
        this.#bodyFill = 0;
        this.#bodyFds = fds;
      }
      const take = Math.min(this.#body.length - this.#bodyFill, end - start);
      this.#body.set(buf.subarray(start, start + take), this.#bodyFill);
      this.#bodyFill += take;
      start += take;
      if (this.#bodyFill === this.#body.length) this.#finishBody();
    }
  }

  #finishBody(): void {
    const body = this.#body as Buffer;
    const fds = this.#bodyFds;
    this.#body = null;
    this.#bodyFill = 0;
    this.#onFrame(body, fds);
  }
}
