// The reader of a packet channel (seqpacket, datagram): one recvmmsg takes every message already
// queued, and each is checked (its size, its fds) before it is delivered. A datagram server's
// channels do not read: their hub (datagram-hub.ts) reads the shared socket and hands each
// datagram to accept().
import { native } from '../internal/binding';
import { InterprocError } from '../internal/errors';
import { BIT_FDS_TRUNCATED, BIT_TRUNCATED, MANY_RECORD, REC_BITS, REC_LENGTH } from './constants';
import { decode } from './codec';
import { allocReceived } from './frame';
import { batchFor, closeFds, MANY, manyCredentials, manyFds, scratchOf } from './io';
import type { Reader, ReaderHost } from './readers';
import type { Settings } from './settings';

export class PacketReader<T> implements Reader {
  readonly #fd: number;
  readonly #s: Settings;
  readonly #host: ReaderHost<T>;

  constructor(fd: number, settings: Settings, host: ReaderHost<T>) {
    this.#fd = fd;
    this.#s = settings;
    this.#host = host;
  }

  read(): void {
    const host = this.#host;
    const cap = this.#s.maxMessageSize;
    const batch = batchFor(cap);
    const buf = scratchOf(cap * batch);
    for (let round = 0; round < 8 && host.reading; round++) {
      let n: number;
      try {
        // One recvmmsg takes every message already queued (up to `batch`): one syscall and one
        // N-API call for many messages.
        n = native.sockRecvMany(this.#fd, buf, cap, batch, this.#s.maxFds, 0, MANY);
      } catch (err) {
        host.fail(err as Error);
        return;
      }
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        // Messages already taken from the kernel are delivered even if the inbox fills meanwhile
        // (at most one batch over maxBufferedMessages); the channel drops them only after close().
        const fds = manyFds(i);
        const length = MANY[i * MANY_RECORD + REC_LENGTH];
        if (length === 0 && this.#s.kind === 'seqpacket' && fds.length === 0) {
          for (let k = i + 1; k < n; k++) closeFds(manyFds(k));
          host.end();
          return;
        }
        const creds = manyCredentials(i);
        if (creds) host.credentials(creds);
        if (!this.accept(buf, i * cap, length, fds, MANY[i * MANY_RECORD + REC_BITS])) {
          for (let k = i + 1; k < n; k++) closeFds(manyFds(k));
          return;
        }
      }
      if (n < batch) return;
    }
  }

  stop(): void {}

  /** Checks and delivers one received packet; false when the channel ended because of it. */
  accept(buf: Buffer, offset: number, n: number, fds: number[], bits: number): boolean {
    let err: Error | null = null;
    if (bits & BIT_FDS_TRUNCATED) {
      err = new InterprocError('ERR_TOO_MANY_FDS', `The peer sent more than maxFds (${this.#s.maxFds}) fds in one message`);
    } else if (bits & BIT_TRUNCATED || n > this.#s.maxMessageSize) {
      err = new InterprocError(
        'ERR_MESSAGE_TOO_LARGE',
        `A message of ${n} bytes exceeds maxMessageSize (${this.#s.maxMessageSize})`,
      );
    }
    if (err === null) {
      const view = buf.subarray(offset, offset + n);
      let payload: Buffer | null = view;
      if (this.#s.codec !== 'v8') {
        try {
          payload = allocReceived(n); // the read buffer is reused: copy the message out
          payload.set(view);
        } catch (e) {
          err = e as Error;
          payload = null;
          closeFds(fds);
        }
      }
      if (payload !== null) {
        try {
          this.#host.deliver(decode<T>(this.#s.codec, payload, fds), fds);
          return true;
        } catch (e) {
          err = e as Error;
        }
      }
    } else {
      closeFds(fds);
    }
    this.#host.fail(err as Error);
    return false;
  }
}
