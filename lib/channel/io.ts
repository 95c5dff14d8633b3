// What every socket of this thread shares: one scratch buffer for reads, the out-arrays the native
// receive calls fill instead of allocating per call, the accessors that read them, and the fd and
// poll-error helpers. Every read copies what it keeps before returning, so sharing is safe.
import { getSystemErrorName } from 'node:util';
import { native } from '../internal/binding';
import {
  BIT_CREDENTIALS,
  MANY_ADDR_SIZE,
  MANY_FD_BASE,
  MANY_MAX,
  MANY_RECORD,
  OUT_FD_COUNT,
  OUT_FDS,
  REC_BITS,
  REC_FD_COUNT,
  REC_FD_START,
  REC_GID,
  REC_PID,
  REC_UID,
} from './constants';
import type { PeerCredentials } from './types';

const MIB = 1024 * 1024;

/** The empty fd list of a message without fds (shared: never mutated). */
export const NO_FDS: number[] = [];

/** sockRecv's out array. */
export const OUT = new Int32Array(native.sockRecvOutLength);
/** sockRecvMany's out array and sender addresses. */
export const MANY = new Int32Array(native.sockRecvManyOutLength);
export const MANY_ADDR = Buffer.alloc(MANY_MAX * MANY_ADDR_SIZE);

let scratch = Buffer.allocUnsafe(256 * 1024);
/** The thread's read buffer, at least `size` bytes (0: as it is). */
export function scratchOf(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafe(size);
  return scratch;
}

/** Messages per recvmmsg for a given maximum size: the batch buffer stays within 4 MiB. */
export function batchFor(maxMessageSize: number): number {
  return Math.max(1, Math.min(MANY_MAX, Math.floor((4 * MIB) / maxMessageSize)));
}

/** The fds of the last sockRecv. */
export function takeFds(): number[] {
  const count = OUT[OUT_FD_COUNT];
  if (count === 0) return NO_FDS;
  return Array.from(OUT.subarray(OUT_FDS, OUT_FDS + count));
}

/** The fds of message i of the last sockRecvMany. */
export function manyFds(i: number): number[] {
  const count = MANY[i * MANY_RECORD + REC_FD_COUNT];
  if (count === 0) return NO_FDS;
  const start = MANY_FD_BASE + MANY[i * MANY_RECORD + REC_FD_START];
  return Array.from(MANY.subarray(start, start + count));
}

/** The sender's credentials of message i of the last sockRecvMany, when the kernel gave them. */
export function manyCredentials(i: number): PeerCredentials | null {
  const r = i * MANY_RECORD;
  return MANY[r + REC_BITS] & BIT_CREDENTIALS
    ? { pid: MANY[r + REC_PID], uid: MANY[r + REC_UID] >>> 0, gid: MANY[r + REC_GID] >>> 0 }
    : null;
}

/** Closes fds that nobody will own (ours, or received ones being dropped). */
export function closeFds(fds: readonly number[] | undefined): void {
  if (fds) for (const fd of fds) native.closeFd(fd);
}

// libuv reports a socket error (POLLERR) as UV_EBADF; the socket's own pending error (SO_ERROR)
// says what really happened (ECONNREFUSED, ECONNRESET, ...).
export function pollError(status: number, fd: number, where?: string): Error {
  try {
    native.sockConnectResult(fd, where);
  } catch (err) {
    return err as Error;
  }
  const code = getSystemErrorName(status);
  return Object.assign(new Error(`${code}: socket poll failed`), { code, errno: status, syscall: 'uv_poll' });
}
