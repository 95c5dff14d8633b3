// Length-prefixed frames of stream channels (Unix stream and TCP). Wire format (docs/protocol/channel-frames.md):
//   offset 0  u32 big-endian  payload length in bytes (<= the receiver's maxMessageSize)
//   offset 4  u16 big-endian  number of fds passed with this frame (SCM_RIGHTS on its first byte)
//   offset 6  u16             reserved, must be 0
//   offset 8  payload
import { type ErrorCode, InterprocError } from '../internal/errors';

export const HEADER_SIZE = 8;

/**
 * What an unfinished frame's body reserves before its bytes arrive. The buffer then doubles as bytes
 * come (up to the announced length), so a header alone costs this much, not the length it announces:
 * a peer that announces 16 MiB and sends nothing holds 64 KiB, and what it holds is at most twice what it
 * has sent (which the kernel would have buffered anyway).
 */
export const BODY_INITIAL = 64 * 1024;

/** A buffer for received bytes; an allocation failure is ERR_MEMORY_ALLOCATION_FAILED (the connection then ends). */
export function allocReceived(size: number): Buffer {
  try {
    return Buffer.allocUnsafe(size);
  } catch (err) {
    throw new InterprocError('ERR_MEMORY_ALLOCATION_FAILED', `Could not allocate ${size} bytes for a received message`, {
      cause: err,
    });
  }
}

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
  #body: Buffer | null = null; // grows towards #bodyLength as bytes arrive
  #bodyLength = 0;
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

  /**
   * The unfilled part of an unfinished frame's body buffer, for reading straight into it (saves a copy);
   * a full buffer grows first. Throws ERR_MEMORY_ALLOCATION_FAILED when it cannot.
   */
  pendingBody(): [Buffer, number, number] | null {
    if (this.#body === null) return null;
    if (this.#bodyFill === this.#body.length) this.#grow();
    return [this.#body, this.#bodyFill, this.#body.length - this.#bodyFill];
  }

  /** Bytes were written into pendingBody() directly. */
  bodyFilled(n: number): void {
    this.#bodyFill += n;
    if (this.#body !== null && this.#bodyFill === this.#bodyLength) this.#finishBody();
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
          const payload = allocReceived(length);
          payload.set(buf.subarray(start, start + length));
          start += length;
          this.#onFrame(payload, fds);
          continue;
        }
        // Reserve what has arrived (at least BODY_INITIAL), not what the header announces.
        this.#body = allocReceived(Math.min(length, Math.max(BODY_INITIAL, end - start)));
        this.#bodyLength = length;
        this.#bodyFill = 0;
        this.#bodyFds = fds;
      }
      if (this.#bodyFill === this.#body.length) this.#grow(end - start);
      const take = Math.min(this.#body.length - this.#bodyFill, end - start);
      this.#body.set(buf.subarray(start, start + take), this.#bodyFill);
      this.#bodyFill += take;
      start += take;
      if (this.#bodyFill === this.#bodyLength) this.#finishBody();
    }
  }

  // The body buffer is full and the frame is not: double it (at least `need` more), up to the length.
  #grow(need = 0): void {
    const body = this.#body as Buffer;
    const size = Math.min(this.#bodyLength, Math.max(body.length * 2, this.#bodyFill + need));
    const next = allocReceived(size);
    next.set(body.subarray(0, this.#bodyFill));
    this.#body = next;
  }

  #finishBody(): void {
    const body = this.#body as Buffer;
    const fds = this.#bodyFds;
    this.#body = null;
    this.#bodyFill = 0;
    this.#onFrame(body, fds);
  }
}
