// A channel's send queue: what send() accepted and the kernel has not taken yet. Small stream frames
// are coalesced into slabs, the sends of one turn of the loop go out together (one sendmsg for many
// frames, one sendmmsg for many packets), a full socket waits for POLLOUT (or, for a datagram
// server's peer, retries with backoff), and the fds of each message are our duplicates until the
// kernel has taken them.
import { native } from '../internal/binding';
import { codeOf, InterprocError } from '../internal/errors';
import { encodeHeader, HEADER_SIZE } from './frame';
import { closeFds } from './io';
import type { Settings } from './settings';

const MIB = 1024 * 1024;
const SLAB_SIZE = 64 * 1024;
const COALESCE_MAX = 4096;

interface Pending {
  chunks: Uint8Array[];
  bytes: number;
  fds: number[] | undefined; // our duplicates, closed once the kernel has taken them
  slab?: Buffer; // small frames: bytes [start, start + bytes) of a shared slab instead of chunks
  start?: number;
  done?: boolean; // fully taken by the kernel
}

/** What the queue needs of the channel that owns it. */
export interface SendQueueHost {
  /** The queue's wish to hear of POLLOUT (waitingWritable) changed: update the socket's watch. */
  updateWatch(): void;
  /** Everything queued was taken by the kernel; `drain`: a send() returned false meanwhile. */
  emptied(drain: boolean): void;
  /** A send failed: the channel ends with this error. */
  failed(err: Error): void;
}

export class SendQueue {
  readonly #fd: number;
  readonly #packet: boolean;
  readonly #to: Buffer | undefined; // datagram server side: the peer's address
  readonly #backoff: boolean; // an unconnected datagram socket cannot poll for room in one peer's queue
  readonly #highWaterMark: number;
  readonly #maxQueuedBytes: number;
  readonly #host: SendQueueHost;
  #queue: Pending[] = [];
  #head = 0;
  #headSent = 0;
  #bytes = 0;
  #flushScheduled = false;
  #waitWritable = false;
  #needDrain = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #retryDelay = 1;
  #sentThisTurn = false;
  #slab: Buffer | null = null;
  #slabEntry: Pending | null = null;
  #slabUsed = 0;
  #stopped = false;

  constructor(fd: number, settings: Settings, to: Buffer | undefined, backoff: boolean, host: SendQueueHost) {
    this.#fd = fd;
    this.#packet = settings.kind !== 'stream';
    this.#to = to;
    this.#backoff = backoff;
    this.#highWaterMark = settings.highWaterMark;
    this.#maxQueuedBytes = settings.maxQueuedBytes;
    this.#host = host;
  }

  /** Bytes accepted and not yet taken by the kernel. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages (or slabs of small frames) not yet fully sent. */
  get unsent(): number {
    return this.#queue.length - this.#head;
  }

  /** The socket is full: the queue waits for POLLOUT. */
  get waitingWritable(): boolean {
    return this.#waitWritable;
  }

  /**
   * Queues one message (its payload, and fds that are duplicated now). Returns true while fewer than
   * highWaterMark bytes are queued. Throws ERR_SEND_QUEUE_FULL past maxQueuedBytes, EBADF for an fd
   * that is not open, or the error of an immediate packet send (EMSGSIZE): each queues nothing.
   */
  push(payload: Uint8Array, fds: readonly number[]): boolean {
    const size = payload.byteLength;
    const bytes = this.#packet ? size : size + HEADER_SIZE;
    if (this.#bytes + bytes > this.#maxQueuedBytes) {
      throw new InterprocError(
        'ERR_SEND_QUEUE_FULL',
        `The send queue holds ${this.#bytes} bytes; this message would exceed maxQueuedBytes (${this.#maxQueuedBytes})`,
      );
    }
    let dups: number[] | undefined;
    if (fds.length > 0) {
      dups = [];
      try {
        for (const fd of fds) dups.push(native.dupFd(fd));
      } catch (err) {
        closeFds(dups);
        throw err;
      }
    }
    let entry: Pending;
    if (!this.#packet && bytes <= COALESCE_MAX) {
      entry = this.#coalesce(payload, fds.length, dups);
    } else {
      entry = { chunks: this.#packet ? [payload] : [encodeHeader(size, fds.length), payload], bytes, fds: dups };
      this.#queue.push(entry);
    }
    this.#bytes += bytes;
    if (
      this.#packet &&
      !this.#sentThisTurn &&
      this.#queue.length - this.#head === 1 &&
      !this.#waitWritable &&
      this.#retryTimer === null
    ) {
      // The first packet of a turn goes out at once (lowest latency; EMSGSIZE throws here). Later ones
      // in the same turn are batched: the receiver then wakes once for many instead of once for each.
      this.#sentThisTurn = true;
      queueMicrotask(() => (this.#sentThisTurn = false));
      this.#sendNow(entry);
    } else if (!this.#flushScheduled && !this.#waitWritable && this.#retryTimer === null) {
      // Sends made in one turn of the loop go out together in one sendmsg (many frames, one syscall).
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
    if (this.#bytes < this.#highWaterMark) return true;
    this.#needDrain = true;
    return false;
  }

  /** POLLOUT came: send what fits now. */
  writable(): void {
    this.#waitWritable = false;
    this.#flush();
  }

  /** The channel closed: drop what is queued (closing our fd duplicates); nothing is sent any more. */
  stop(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    for (let i = this.#head; i < this.#queue.length; i++) closeFds(this.#queue[i].fds);
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  #sendNow(entry: Pending): void {
    try {
      this.#flushPackets();
    } catch (err) {
      if (this.#queue[this.#head] === entry) {
        // Not sent: undo, so a failed send changes nothing.
        this.#queue.pop();
        this.#bytes -= entry.bytes;
        closeFds(entry.fds);
      }
      if (codeOf(err) !== 'EMSGSIZE') this.#host.failed(err as Error);
      throw err;
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#stopped) return;
    try {
      if (this.#packet) this.#flushPackets();
      else this.#flushStream();
    } catch (err) {
      this.#host.failed(err as Error);
    }
  }

  #flushStream(): void {
    const q = this.#queue;
    while (this.#head < q.length) {
      const first = q[this.#head];
      const fds = this.#headSent === 0 ? first.fds : undefined;
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      for (let j = this.#head; j < q.length && chunks.length < 1000 && bytes < 4 * MIB; j++) {
        const e = q[j];
        if (j > this.#head && e.fds) break; // fds ride on the first byte of a sendmsg
        let skip = j === this.#head ? this.#headSent : 0;
        if (e.slab !== undefined) {
          const from = (e.start as number) + skip;
          const to = (e.start as number) + e.bytes;
          chunks.push(e.slab.subarray(from, to));
          bytes += to - from;
          continue;
        }
        for (const c of e.chunks) {
          if (skip >= c.length) {
            skip -= c.length;
            continue;
          }
          chunks.push(skip > 0 ? c.subarray(skip) : c);
          bytes += c.length - skip;
          skip = 0;
        }
      }
      let n = native.sockSend(this.#fd, chunks, fds);
      if (n === -1) {
        this.#waitWritable = true;
        this.#host.updateWatch();
        return;
      }
      if (fds) {
        closeFds(fds); // the kernel holds its own references now
        first.fds = undefined;
      }
      while (n > 0) {
        const e = q[this.#head];
        const rest = e.bytes - this.#headSent;
        if (n >= rest) {
          n -= rest;
          this.#bytes -= rest;
          this.#headSent = 0;
          e.done = true;
          this.#head++;
        } else {
          this.#headSent += n;
          this.#bytes -= n;
          n = 0;
        }
      }
    }
    this.#emptied();
  }

  #flushPackets(): void {
    const q = this.#queue;
    while (this.#head < q.length) {
      const count = Math.min(64, q.length - this.#head);
      let n: number;
      if (count === 1) {
        const e = q[this.#head];
        n = native.sockSend(this.#fd, e.chunks[0], e.fds, this.#to) === -1 ? 0 : 1;
      } else {
        // One sendmmsg for up to 64 queued messages (each with its own fds).
        const datas: Uint8Array[] = [];
        const fdsList: (number[] | undefined)[] = [];
        for (let k = this.#head; k < this.#head + count; k++) {
          datas.push(q[k].chunks[0]);
          fdsList.push(q[k].fds);
        }
        n = native.sockSendMany(this.#fd, datas, fdsList, this.#to);
      }
      if (n === 0) {
        if (this.#backoff) {
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = null;
            this.#flush();
          }, this.#retryDelay);
          this.#retryDelay = Math.min(this.#retryDelay * 2, 64);
        } else {
          this.#waitWritable = true;
          this.#host.updateWatch();
        }
        return;
      }
      this.#retryDelay = 1;
      for (let k = 0; k < n; k++) {
        const e = q[this.#head++];
        closeFds(e.fds); // the kernel holds its own references now
        e.fds = undefined;
        this.#bytes -= e.bytes;
      }
    }
    this.#emptied();
  }

  // Small frames are copied into one slab so a batch is one contiguous write: many frames per
  // sendmsg without an iovec (and a typed-array conversion) per frame.
  #coalesce(payload: Uint8Array, fdCount: number, dups: number[] | undefined): Pending {
    const length = payload.byteLength;
    const bytes = length + HEADER_SIZE;
    const q = this.#queue;
    let e = this.#slabEntry;
    if (e === null || e.done || dups !== undefined || q[q.length - 1] !== e || this.#slabUsed + bytes > SLAB_SIZE) {
      if (this.#slab !== null && (e === null || e.done)) {
        this.#slabUsed = 0; // everything in the slab was sent: reuse it from the start
      } else if (this.#slab === null || this.#slabUsed + bytes > SLAB_SIZE) {
        this.#slab = Buffer.allocUnsafe(SLAB_SIZE);
        this.#slabUsed = 0;
      }
      e = { chunks: [], bytes: 0, fds: dups, slab: this.#slab, start: this.#slabUsed };
      this.#slabEntry = e;
      q.push(e);
    }
    const s = this.#slab as Buffer;
    const at = this.#slabUsed;
    s[at] = length >>> 24;
    s[at + 1] = (length >>> 16) & 0xff;
    s[at + 2] = (length >>> 8) & 0xff;
    s[at + 3] = length & 0xff;
    s[at + 4] = fdCount >>> 8;
    s[at + 5] = fdCount & 0xff;
    s[at + 6] = 0;
    s[at + 7] = 0;
    s.set(payload, at + HEADER_SIZE);
    this.#slabUsed = at + bytes;
    e.bytes += bytes;
    return e;
  }

  #emptied(): void {
    this.#slabEntry = null; // everything was sent: the slab may be reused from its start
    this.#queue = [];
    this.#head = 0;
    this.#headSent = 0;
    const drain = this.#needDrain;
    this.#needDrain = false;
    this.#host.emptied(drain);
  }
}
