// The public types of message channels (options, messages, credentials).
import type { SocketAddress } from './address';

export type { SocketAddress };
export type SocketKind = 'stream' | 'seqpacket' | 'datagram';
export type Codec = 'raw' | 'v8';

/** A received message: the bytes (or, with codec 'v8', the value) and the fds that came with it (yours to close). */
export interface Message<T = Buffer> {
  data: T;
  fds: number[];
}

/** Credentials of the peer process, as the kernel recorded them (SO_PEERCRED / SCM_CREDENTIALS). */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface ChannelOptions {
  /** 'stream' (default; length-prefixed frames), 'seqpacket' or 'datagram' (kernel message boundaries). TCP: stream only. */
  kind?: SocketKind;
  /** 'raw' (default): Buffers in, Buffers out. 'v8': any structured-cloneable value (v8.serialize). Both ends must agree. */
  codec?: Codec;
  /** Largest message accepted or sent, in bytes. Default 16 MiB for stream, 256 KiB for seqpacket and datagram. */
  maxMessageSize?: number;
  /** Most fds in one message (0-253, default 64; TCP: 0). A peer that sends more loses its connection. */
  maxFds?: number;
  /** send() returns false once this many bytes are queued (default 1 MiB); 'drain' follows when the queue empties. */
  highWaterMark?: number;
  /** Hard bound of queued bytes: send() beyond it throws ERR_SEND_QUEUE_FULL (default max(16 MiB, highWaterMark, maxMessageSize)). */
  maxQueuedBytes?: number;
  /** Received messages held for receive()/for-await before reading pauses (default 1024): the sender then feels back-pressure. */
  maxBufferedMessages?: number;
  /**
   * Microseconds (0-1 000 000, default 0) to poll the socket for the next message after each send and
   * each delivery, before the event loop may sleep: the polling mode, as a Mailbox's `spin`. A reply
   * that comes within it is read without a wake-up of this process (a round trip then costs system
   * calls, not two sleeps); meanwhile the loop runs nothing else. For request/response and
   * ping-pong between processes on different CPUs; leave it 0 for a channel that is mostly idle.
   */
  spin?: number;
}

export interface ConnectOptions extends ChannelOptions {
  /** Milliseconds to wait for a TCP connect. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface ListenOptions extends ChannelOptions {
  /** Permissions of a socket file (default 0o600), exact: not narrowed by the umask. */
  mode?: number;
  backlog?: number;
  /** Replace a socket file nobody listens on (a dead server's), default true. A live one gives EADDRINUSE. */
  replaceStale?: boolean;
  /** Accept only peers whose uid is listed, or whose gid is in allowGids (kernel credentials). Unix sockets only. */
  allowUids?: number[];
  /** Accept only peers whose gid is listed, or whose uid is in allowUids. Unix sockets only. */
  allowGids?: number[];
}

export interface ReceiveOptions {
  timeout?: number;
  signal?: AbortSignal;
}
