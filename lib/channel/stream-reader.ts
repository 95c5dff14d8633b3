// The reader of a stream channel (Unix stream, TCP): reads the byte stream into the frame decoder
// (frame.ts), pairs each frame with the fds that came for it, and ends the connection on anything a
// well-behaved peer does not send (a bad header, fds no frame claims, a close mid-frame).
import { native } from '../internal/binding';
import { InterprocError } from '../internal/errors';
import { BIT_FDS_TRUNCATED, OUT_BITS, OUT_FD_COUNT } from './constants';
import { decode } from './codec';
import { FrameDecoder } from './frame';
import { closeFds, NO_FDS, OUT, scratchOf, takeFds } from './io';
import type { Reader, ReaderHost } from './readers';
import type { Settings } from './settings';

const DIRECT_READ_MIN = 64 * 1024;

export class StreamReader<T> implements Reader {
  readonly #fd: number;
  readonly #s: Settings;
  readonly #host: ReaderHost<T>;
  readonly #decoder: FrameDecoder;
  #fdQueue: number[] = [];

  constructor(fd: number, settings: Settings, host: ReaderHost<T>) {
    this.#fd = fd;
    this.#s = settings;
    this.#host = host;
    this.#decoder = new FrameDecoder(settings.maxMessageSize, settings.maxFds, (payload, n) => this.#onFrame(payload, n));
  }

  read(): void {
    const decoder = this.#decoder;
    const host = this.#host;
    for (let i = 0; i < 32 && host.reading; i++) {
      let n: number;
      let body: [Buffer, number, number] | null;
      try {
        body = decoder.pendingBody(); // may grow the body buffer: ERR_MEMORY_ALLOCATION_FAILED
      } catch (err) {
        host.fail(err as Error);
        return;
      }
      const direct = body !== null && body[2] >= DIRECT_READ_MIN ? body : null;
      const scratch = scratchOf(0);
      try {
        n = direct
          ? native.sockRecv(this.#fd, direct[0], direct[1], direct[2], this.#s.maxFds, 0, OUT)
          : native.sockRecv(this.#fd, scratch, 0, scratch.length, this.#s.maxFds, 0, OUT);
      } catch (err) {
        host.fail(err as Error);
        return;
      }
      if (n === -1) return;
      if (OUT[OUT_FD_COUNT] > 0) this.#fdQueue.push(...takeFds());
      if (OUT[OUT_BITS] & BIT_FDS_TRUNCATED) {
        host.fail(
          new InterprocError('ERR_TOO_MANY_FDS', `The peer sent more than maxFds (${this.#s.maxFds}) fds in one message`),
        );
        return;
      }
      if (n === 0) {
        if (decoder.partial) {
          host.fail(new InterprocError('ERR_TRUNCATED_FRAME', 'The peer closed the connection in the middle of a message'));
        } else {
          host.end();
        }
        return;
      }
      try {
        if (direct) decoder.bodyFilled(n);
        else decoder.feed(scratch, 0, n);
      } catch (err) {
        host.fail(err as Error);
        return;
      }
      // The kernel hands over fds with the first byte of the sendmsg that carried them, and a frame with
      // fds starts its sendmsg, so after a read only the unfinished frame can own waiting fds. More
      // means a peer is piling up fds no frame claims: stop it before it exhausts our descriptors.
      if (this.#fdQueue.length > this.#s.maxFds) {
        host.fail(new InterprocError('ERR_TOO_MANY_FDS', `The peer sent ${this.#fdQueue.length} fds that no frame claims`));
        return;
      }
      // A short read drained the socket: skip the read that would only say EAGAIN (a system call is
      // microseconds here); the level-triggered poll calls again when more arrives.
      if (n < (direct ? direct[2] : scratch.length) && OUT[OUT_FD_COUNT] === 0) return;
    }
  }

  stop(): void {
    closeFds(this.#fdQueue);
    this.#fdQueue = [];
  }

  #onFrame(payload: Buffer, fdCount: number): void {
    if (fdCount > this.#fdQueue.length) {
      throw new InterprocError('ERR_INVALID_FRAME', `A frame declares ${fdCount} fds but ${this.#fdQueue.length} arrived`);
    }
    const fds = fdCount === 0 ? NO_FDS : this.#fdQueue.splice(0, fdCount);
    this.#host.deliver(decode<T>(this.#s.codec, payload, fds), fds);
  }
}
