// The values the channel part shares with the native layer, under the names the channel code uses:
// socket kinds and address families (native/core/channel/socket.hpp), the out-arrays and flags of
// sockRecv / sockRecvMany (native/binding/channel/channel_wrap.cc) and the FdWatcher event bits
// (native/binding/internal/fd_watcher_wrap.cc). Every value comes from native/contract/contract.json
// through lib/internal/contract.ts; none is written here.
import * as contract from '../internal/contract';

/** Socket kinds as sockListen / sockConnect take them (indexed by a SocketKind, so a missing one fails to compile). */
export const KIND_CODE = {
  stream: contract.SocketKind.Stream,
  seqpacket: contract.SocketKind.SeqPacket,
  datagram: contract.SocketKind.Datagram,
} as const;

/** Address families as the native layer takes them. */
export const FAMILY_PATH = contract.AddressFamily.Path;
export const FAMILY_ABSTRACT = contract.AddressFamily.Abstract;
export const FAMILY_TCP = contract.AddressFamily.Inet;
export type Family = contract.AddressFamily;

/** sockRecv's out array: [OUT_BITS] bits, then pid, uid, gid, [OUT_FD_COUNT] fd count, [OUT_FDS..] the fds. */
export const OUT_BITS = contract.SOCK_OUT_BITS;
export const OUT_FD_COUNT = contract.SOCK_OUT_FD_COUNT;
export const OUT_FDS = contract.SOCK_OUT_FDS;

/** The bits of out[OUT_BITS] and of a sockRecvMany record's REC_BITS. */
export const BIT_TRUNCATED = contract.SOCK_BIT_TRUNCATED; // the message was larger than the buffer (packet kinds)
export const BIT_FDS_TRUNCATED = contract.SOCK_BIT_FDS_TRUNCATED; // more fds were sent than maxFds (the rest were closed)
export const BIT_CREDENTIALS = contract.SOCK_BIT_CREDENTIALS; // SCM_CREDENTIALS present: pid, uid, gid are set

/** sockRecv / sockRecvMany flags. */
export const RECV_PACKET = contract.SOCK_RECV_PACKET;
export const RECV_WANT_ADDRESS = contract.SOCK_RECV_WANT_ADDRESS;

/**
 * sockRecvMany's out array: one record of MANY_RECORD int32 per message (the fields REC_*), for at
 * most MANY_MAX messages, then the fds of every message from MANY_FD_BASE; the sender address of
 * message i at addrOut[i * MANY_ADDR_SIZE].
 */
export const MANY_RECORD = contract.SOCK_MANY_RECORD;
export const REC_LENGTH = contract.SOCK_MANY_LENGTH;
export const REC_BITS = contract.SOCK_MANY_BITS;
export const REC_FD_COUNT = contract.SOCK_MANY_FD_COUNT;
export const REC_FD_START = contract.SOCK_MANY_FD_START;
export const REC_PID = contract.SOCK_MANY_PID;
export const REC_UID = contract.SOCK_MANY_UID;
export const REC_GID = contract.SOCK_MANY_GID;
export const REC_ADDR_LENGTH = contract.SOCK_MANY_ADDR_LEN;
export const MANY_MAX = contract.SOCK_MANY_MAX;
export const MANY_FD_BASE = contract.SOCK_MANY_FD_BASE;
export const MANY_ADDR_SIZE = contract.SOCK_MANY_ADDR_BYTES;

/** The most fds one message may carry (maxFds' upper bound). */
export const MAX_FDS = contract.SOCK_MAX_FDS;

/** FdWatcher events (libuv's UV_READABLE, UV_WRITABLE, UV_DISCONNECT). */
export const POLL_READABLE = contract.POLL_READABLE;
export const POLL_WRITABLE = contract.POLL_WRITABLE;
export const POLL_DISCONNECT = contract.POLL_DISCONNECT;
