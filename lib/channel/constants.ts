// The literals the channel part shares with the native layer: socket kinds and address families
// (native/core/channel/socket.hpp), the out-arrays and flags of sockRecv / sockRecvMany
// (native/binding/channel/channel_wrap.cc) and the FdWatcher event bits
// (native/binding/internal/fd_watcher_wrap.cc). Each is written here once, so that replacing them
// with generated ones (native/contract/contract.json) touches this file only.
import type { SocketKind } from './types';

/** Socket kinds as sockListen / sockConnect take them. */
export const KIND_CODE: Record<SocketKind, number> = { stream: 0, seqpacket: 1, datagram: 2 };

/** Address families as the native layer takes them. */
export const FAMILY_PATH = 0;
export const FAMILY_ABSTRACT = 1;
export const FAMILY_TCP = 2;
export type Family = typeof FAMILY_PATH | typeof FAMILY_ABSTRACT | typeof FAMILY_TCP;

/** sockRecv's out array: [0] bits, [1..3] pid, uid, gid, [4] fd count, [5..] the fds. */
export const OUT_BITS = 0;
export const OUT_FD_COUNT = 4;
export const OUT_FDS = 5;

/** The bits of out[OUT_BITS] and of a sockRecvMany record's REC_BITS. */
export const BIT_TRUNCATED = 1; // the message was larger than the buffer (packet kinds)
export const BIT_FDS_TRUNCATED = 2; // more fds were sent than maxFds (the rest were dropped or closed)
export const BIT_CREDENTIALS = 4; // SCM_CREDENTIALS present: pid, uid, gid are set

/** sockRecv / sockRecvMany flags. */
export const RECV_PACKET = 1;
export const RECV_WANT_ADDRESS = 2;

/**
 * sockRecvMany's out array: one record of MANY_RECORD int32 per message (the fields REC_*), for at
 * most MANY_MAX messages, then the fds of every message from MANY_FD_BASE; the sender address of
 * message i at addrOut[i * MANY_ADDR_SIZE].
 */
export const MANY_RECORD = 8;
export const REC_LENGTH = 0;
export const REC_BITS = 1;
export const REC_FD_COUNT = 2;
export const REC_FD_START = 3;
export const REC_PID = 4;
export const REC_UID = 5;
export const REC_GID = 6;
export const REC_ADDR_LENGTH = 7;
export const MANY_MAX = 64;
export const MANY_FD_BASE = MANY_RECORD * MANY_MAX;
export const MANY_ADDR_SIZE = 128;

/** FdWatcher events (libuv's UV_READABLE, UV_WRITABLE, UV_DISCONNECT). */
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;
export const POLL_DISCONNECT = 4;
