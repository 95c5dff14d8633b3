// What a channel's reader (stream-reader.ts, packet-reader.ts) needs of the channel that owns it.
import type { PeerCredentials } from './types';

export interface ReaderHost<T> {
  /** False once reading must stop for now: the inbox is full, or the channel is closing or closed. */
  readonly reading: boolean;
  /** One message received (its fds are now the message's). */
  deliver(data: T, fds: number[]): void;
  /** The connection is broken (a bad frame, a hostile peer, a system error): the channel ends with `err`. */
  fail(err: Error): void;
  /** The peer closed its end cleanly. */
  end(): void;
  /** Credentials came with a datagram (a datagram client learns the server's from its first reply). */
  credentials(peer: PeerCredentials): void;
}

export interface Reader {
  /** The socket is readable: read what is there (a bounded number of reads, then back to the loop). */
  read(): void;
  /** The channel closed: close the fds received and not yet handed over. */
  stop(): void;
}
