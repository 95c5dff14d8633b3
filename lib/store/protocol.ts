// The store's wire format (docs/protocol/store-requests.md): one message carries a batch of records
// of one kind behind a 4-byte header. The same bytes travel over mailboxes and over channels.
//   message  u8 kind | u8 version | u16 count | count records
//   request  u32 id | u8 op | u8 0 | u16 0 | u32 address low | u32 address high | u32 length | payload
//   reply    u32 id | u8 status | u8 0 | u16 0 | u32 length | payload
//   invalidate (owner to a holder of cached copies)  u32 token | u32 block low | u32 block high
//   ack        (the holder's answer)                  u32 token
// Everything is little-endian. Every field read from a peer is bounded here before anyone uses it.

export const VERSION = 1;
export const KIND_REQUESTS = 1;
export const KIND_REPLIES = 2;
export const KIND_HELLO = 3;
export const KIND_WELCOME = 4;
/** Owner to holder: drop your copies of these blocks (the read cache). */
export const KIND_INVALIDATE = 5;
/** Holder to owner: these invalidations are done. */
export const KIND_ACK = 6;

export const MESSAGE_HEADER = 4;
export const REQUEST_HEADER = 20;
export const REPLY_HEADER = 12;
export const HELLO_BYTES = MESSAGE_HEADER + 28;
export const HELLO_MAGIC = 0x52545349; // 'ISTR'
export const INVALIDATE_RECORD = 12;
export const ACK_RECORD = 4;

export const OP_READ = 1;
export const OP_WRITE = 2;
export const OP_LOAD = 3;
export const OP_STORE = 4;
export const OP_ADD = 5;
export const OP_SUB = 6;
export const OP_AND = 7;
export const OP_OR = 8;
export const OP_XOR = 9;
export const OP_EXCHANGE = 10;
export const OP_COMPARE_EXCHANGE = 11;
export const OP_WAIT = 12;
export const OP_NOTIFY = 13;
/** A whole block, for the read cache: the owner records the sender as a holder of a copy. */
export const OP_FETCH = 14;
export const OP_LAST = OP_FETCH;

export const STATUS_OK = 0;
/** The record is not well formed (unknown op, wrong length, reserved bits set, truncated). */
export const STATUS_BAD_REQUEST = 1;
/** Outside the address space, across a block boundary, or a cell not aligned to its width. */
export const STATUS_OUT_OF_RANGE = 2;
/** The address is in a block this member does not own. */
export const STATUS_NOT_OWNER = 3;
/** The owner is closing: a pending waitAsync ends with this. */
export const STATUS_CLOSING = 4;
/** A WAIT refused: the owner already keeps as many waits of this peer as it allows (maxWaiters). */
export const STATUS_TOO_MANY_WAITERS = 5;

/** waitAsync results, one byte in the reply: the strings of Atomics.wait. */
export const WAIT_RESULTS = ['ok', 'not-equal', 'timed-out'] as const;
export type WaitResult = (typeof WAIT_RESULTS)[number];

export const NOTIFY_ALL = 0xffffffff;

/** Payload bytes a request of `op` with `length` carries; -1 when that pair is not valid. */
export function requestPayload(op: number, length: number): number {
  switch (op) {
    case OP_READ:
    case OP_FETCH:
      return length > 0 ? 0 : -1;
    case OP_WRITE:
      return length > 0 ? length : -1;
    case OP_LOAD:
      return length === 4 || length === 8 ? 0 : -1;
    case OP_STORE:
    case OP_ADD:
    case OP_SUB:
    case OP_AND:
    case OP_OR:
    case OP_XOR:
    case OP_EXCHANGE:
      return length === 4 || length === 8 ? length : -1;
    case OP_COMPARE_EXCHANGE:
      return length === 4 || length === 8 ? 2 * length : -1;
    case OP_WAIT:
      return length === 4 || length === 8 ? length + 8 : -1;
    case OP_NOTIFY:
      return length === 4 || length === 8 ? 4 : -1;
    default:
      return -1;
  }
}

/** A batch being written: records appended into one buffer, taken as one message. */
export class BatchWriter {
  readonly kind: number;
  /** Largest message this batch may become. */
  readonly limit: number;
  buf: Buffer;
  /** Over `buf`: the header fields are written through it (a DataView store is cheaper than Buffer's checked writes). */
  view: DataView;
  pos = MESSAGE_HEADER;
  count = 0;

  constructor(kind: number, limit: number) {
    this.kind = kind;
    this.limit = limit;
    this.buf = Buffer.allocUnsafe(Math.min(limit, 4096));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Whether a record of `bytes` more fits under the limit (a batch always takes its first record). */
  fits(bytes: number): boolean {
    return this.count === 0 || (this.pos + bytes <= this.limit && this.count < 0xffff);
  }

  /** Makes room for `bytes` more; returns where they start. */
  reserve(bytes: number): number {
    const at = this.pos;
    const need = at + bytes;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(this.buf.length * 2, Math.max(this.limit, need))));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
      this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
    }
    this.pos = need;
    return at;
  }

  /**
   * The message so far, and an empty batch again. `owned`: a copy, for a transport that may hold
   * the bytes after send() returns (a channel queues them); otherwise a view of the batch's buffer,
   * valid until the next record is appended, for a transport that copies in send() (a mailbox).
   */
  take(owned: boolean): Buffer {
    const b = this.buf;
    b[0] = this.kind;
    b[1] = VERSION;
    this.view.setUint16(2, this.count, true);
    const n = this.pos;
    this.pos = MESSAGE_HEADER;
    this.count = 0;
    if (!owned) return b.subarray(0, n);
    const out = Buffer.allocUnsafe(n);
    b.copy(out, 0, 0, n);
    return out;
  }

  /** Drops what was appended. */
  clear(): void {
    this.pos = MESSAGE_HEADER;
    this.count = 0;
  }

  /** Appends a request header; the caller writes `payload` bytes after it. Returns the payload's offset. */
  request(id: number, op: number, address: number, length: number, payload: number): number {
    const at = this.reserve(REQUEST_HEADER + payload);
    const v = this.view;
    v.setUint32(at, id, true);
    v.setUint32(at + 4, op, true); // op, then the reserved u8 and u16 (0)
    v.setUint32(at + 8, address % 0x100000000, true);
    v.setUint32(at + 12, Math.floor(address / 0x100000000), true);
    v.setUint32(at + 16, length, true);
    this.count++;
    return at + REQUEST_HEADER;
  }

  /** Appends a reply header; the caller writes `length` payload bytes after it. Returns the payload's offset. */
  reply(id: number, status: number, length: number): number {
    const at = this.reserve(REPLY_HEADER + length);
    const v = this.view;
    v.setUint32(at, id, true);
    v.setUint32(at + 4, status, true); // status, then the reserved 3 bytes (0)
    v.setUint32(at + 8, length, true);
    this.count++;
    return at + REPLY_HEADER;
  }
}

/** One request as parsed (reused from record to record: copy what must outlive the call). */
export interface RequestRecord {
  id: number;
  op: number;
  address: number;
  length: number;
  /** Offset of the payload in the message. */
  payload: number;
}

/** The kind of a message, or -1 when its header is not one this version reads. */
export function messageKind(data: Buffer): number {
  if (data.length < MESSAGE_HEADER || data[1] !== VERSION) return -1;
  const kind = data[0] as number;
  return kind >= KIND_REQUESTS && kind <= KIND_ACK ? kind : -1;
}

/**
 * Parses the request at `pos` into `out`. Returns the offset of the next record, or -1 when the
 * record is malformed (then `out.id` is its id if 4 bytes of it could be read, else -1): the rest of
 * that message cannot be framed and is dropped.
 */
export function parseRequest(data: DataView, pos: number, out: RequestRecord): number {
  const end = data.byteLength;
  out.id = pos + 4 <= end ? data.getUint32(pos, true) : -1;
  if (pos + REQUEST_HEADER > end) return -1;
  const op = data.getUint8(pos + 4);
  if (data.getUint8(pos + 5) !== 0 || data.getUint16(pos + 6, true) !== 0) return -1;
  const high = data.getUint32(pos + 12, true);
  if (high >= 0x10000) return -1;
  const length = data.getUint32(pos + 16, true);
  const payload = requestPayload(op, length);
  if (payload < 0 || pos + REQUEST_HEADER + payload > end) return -1;
  out.op = op;
  out.address = high * 0x100000000 + data.getUint32(pos + 8, true);
  out.length = length;
  out.payload = pos + REQUEST_HEADER;
  return pos + REQUEST_HEADER + payload;
}

/** Walks the replies of a message; stops at the first one that does not fit (a broken message). */
export function forEachReply(
  data: Buffer,
  onReply: (id: number, status: number, data: Buffer, offset: number, length: number) => void,
): void {
  const count = data.readUInt16LE(2);
  let pos = MESSAGE_HEADER;
  for (let i = 0; i < count; i++) {
    if (pos + REPLY_HEADER > data.length) return;
    const id = data.readUInt32LE(pos);
    const status = data[pos + 4] as number;
    const length = data.readUInt32LE(pos + 8);
    const at = pos + REPLY_HEADER;
    if (at + length > data.length) return;
    onReply(id, status, data, at, length);
    pos = at + length;
  }
}

/** One message of invalidation records (token, block), or of acknowledgements (token). */
export function encodeInvalidations(tokens: readonly number[], blocks: readonly number[] | undefined): Buffer {
  const kind = blocks === undefined ? KIND_ACK : KIND_INVALIDATE;
  const each = blocks === undefined ? ACK_RECORD : INVALIDATE_RECORD;
  const b = Buffer.alloc(MESSAGE_HEADER + tokens.length * each);
  b[0] = kind;
  b[1] = VERSION;
  b.writeUInt16LE(tokens.length, 2);
  for (let i = 0, at = MESSAGE_HEADER; i < tokens.length; i++, at += each) {
    b.writeUInt32LE(tokens[i] as number, at);
    if (blocks === undefined) continue;
    const block = blocks[i] as number;
    b.writeUInt32LE(block % 0x100000000, at + 4);
    b.writeUInt32LE(Math.floor(block / 0x100000000), at + 8);
  }
  return b;
}

/**
 * Walks the records of an INVALIDATE (with blocks) or ACK message; stops at the first record that
 * does not fit in the message (`count` is the sender's word: never trusted past the bytes).
 */
export function forEachInvalidation(data: Buffer, onRecord: (token: number, block: number) => void): void {
  if (data.length < MESSAGE_HEADER) return;
  const each = data[0] === KIND_INVALIDATE ? INVALIDATE_RECORD : ACK_RECORD;
  const count = data.readUInt16LE(2);
  for (let i = 0, at = MESSAGE_HEADER; i < count && at + each <= data.length; i++, at += each) {
    const token = data.readUInt32LE(at);
    if (each === ACK_RECORD) onRecord(token, -1);
    else onRecord(token, data.readUInt32LE(at + 8) * 0x100000000 + data.readUInt32LE(at + 4));
  }
}

/** What a channel peer says first (HELLO) and what the owner answers (WELCOME). */
export interface Hello {
  kind: typeof KIND_HELLO | typeof KIND_WELCOME;
  /** The sender's member id; -1 for a client that owns nothing. */
  member: number;
  members: number;
  blockSize: number;
  size: number;
  ownership: 'cyclic' | 'range';
  /** WELCOME only: false when the owner refused (another layout, or not the member asked for). */
  accepted: boolean;
}

export function encodeHello(h: Hello): Buffer {
  const b = Buffer.alloc(HELLO_BYTES);
  b[0] = h.kind;
  b[1] = VERSION;
  b.writeUInt16LE(1, 2);
  b.writeUInt32LE(HELLO_MAGIC, 4);
  b.writeInt32LE(h.member, 8);
  b.writeUInt32LE(h.members, 12);
  b.writeUInt32LE(h.blockSize, 16);
  b.writeUInt32LE(h.size % 0x100000000, 20);
  b.writeUInt32LE(Math.floor(h.size / 0x100000000), 24);
  b[28] = h.ownership === 'range' ? 1 : 0;
  b[29] = h.accepted ? 1 : 0;
  return b;
}

/** The hello in `data`, or undefined when it is not one. */
export function decodeHello(data: Buffer): Hello | undefined {
  const kind = messageKind(data);
  if ((kind !== KIND_HELLO && kind !== KIND_WELCOME) || data.length !== HELLO_BYTES) return undefined;
  if (data.readUInt32LE(4) !== HELLO_MAGIC || (data[28] as number) > 1) return undefined;
  const high = data.readUInt32LE(24);
  if (high >= 0x10000) return undefined;
  return {
    kind,
    member: data.readInt32LE(8),
    members: data.readUInt32LE(12),
    blockSize: data.readUInt32LE(16),
    size: high * 0x100000000 + data.readUInt32LE(20),
    ownership: data[28] === 1 ? 'range' : 'cyclic',
    accepted: data[29] === 1,
  };
}
