// The Store: shared memory over message passing. An address space of `size` bytes in blocks, each
// block owned by one member (lib/store/ownership.ts); an operation runs at its block's owner (locally,
// with no message, when that is this member). Members on one host meet in a mailbox group by name;
// across hosts they listen on and connect to sockets; one member can do both at once.
import { connect, listen } from '../channel/connect';
import type { Channel } from '../channel/channel';
import type { Server } from '../channel/server';
import type { SocketAddress } from '../channel/types';
import { Deferred } from '../internal/deferred';
import { closedError, InterprocError } from '../internal/errors';
import { TypedEmitter } from '../internal/typed-emitter';
import { invalidType, OutOfRangeError, validateInteger, validateOptionNames } from '../internal/validate';
import { MailboxGroup } from '../mailbox/group';
import { ChannelTransport } from '../rpc/channel-transport';
import { MailboxTransport } from '../rpc/mailbox-transport';
import type { PeerId, Transport } from '../rpc/transport';
import { BlockCache, type CacheStats } from './cache';
import { Client } from './client';
import { publishLayout, readLayout, unlinkLayout } from './directory';
import type { BlockSet, Layout, Ownership } from './ownership';
import {
  COMMON_OPTIONS,
  checkNames,
  commonOf,
  LAYOUT_OPTIONS,
  layoutOf,
  type StoreCreateOptions,
  type StoreJoinOptions,
  type StoreOpenOptions,
} from './options';
import { Owner } from './owner';
import { Pipeline } from './pipeline';
import {
  decodeHello,
  encodeHello,
  type Hello,
  KIND_ACK,
  KIND_HELLO,
  KIND_INVALIDATE,
  KIND_REPLIES,
  KIND_REQUESTS,
  KIND_WELCOME,
  MESSAGE_HEADER,
  messageKind,
  REQUEST_HEADER,
} from './protocol';
import { BigInt64View, Int32View } from './views';

export type {
  StoreCommonOptions,
  StoreCreateOptions,
  StoreJoinOptions,
  StoreLayoutOptions,
  StoreOpenOptions,
} from './options';

/** What a member has done, for monitoring (and the read cache's tests). */
export interface StoreStats {
  /** Request records this member received from peers (served, held back or malformed). */
  served: number;
  /** Invalidations this member sent to peers holding copies of its blocks. */
  invalidationsSent: number;
  /** The read cache's figures; undefined when it is off. */
  cache: CacheStats | undefined;
}

export type StoreEvents = {
  /** Requests to `member` can be sent: it joined, or a connection to it was made. */
  'owner-up': (member: number) => void;
  /** `member` died, left or became unreachable: its blocks reject with ERR_STORE_OWNER_DEAD until it is back. */
  'owner-down': (member: number, error: Error) => void;
};

/** Largest request batch over channels (their messages may be 16 MiB; a block is at most 1 MiB). */
const CHANNEL_BATCH = (1 << 20) + 64;
const CONSTRUCT = Symbol('Store');

interface Init {
  layout: Layout;
  id: number;
  timeout: number | undefined;
  messageLimit: number;
  name?: string;
  group?: MailboxGroup;
  spin?: number;
  maxWaiters: number;
  /** Copies the read cache keeps at most; undefined: no cache. */
  cacheBlocks: number | undefined;
}

export class Store extends TypedEmitter<StoreEvents> {
  readonly #layout: Layout;
  readonly #id: number;
  readonly #name: string | undefined;
  readonly #owner: Owner | undefined;
  readonly #client: Client;
  readonly #cache: BlockCache | undefined;
  readonly #timeout: number | undefined;
  readonly #group: MailboxGroup | undefined;
  readonly #mailbox: MailboxTransport | undefined;
  /** Connections this member made to owners (peer = the owner's id). */
  #outgoing: ChannelTransport | undefined;
  /** Connections peers made to this member (peer = a connection number). */
  #incoming: ChannelTransport | undefined;
  #nextConnection = 0;
  readonly #servers: Server[] = [];
  readonly #remotes = new Map<number, SocketAddress>();
  readonly #redials = new Set<NodeJS.Timeout>();
  #closed = false;

  /** Creates the store `name` on this host (its layout and its mailbox group) and joins it as member `id` (default 0). */
  static create(name: string, options: StoreCreateOptions): Store {
    checkNames(options, [...LAYOUT_OPTIONS, ...COMMON_OPTIONS, 'ringSize', 'spin', 'mode']);
    const layout = layoutOf(options, options.members);
    validateInteger(options.members, 'options.members', 2, 64);
    const common = commonOf(options, layout);
    publishLayout(name, layout, options.mode);
    let group: MailboxGroup;
    try {
      const groupOptions: Parameters<typeof MailboxGroup.create>[1] = { members: options.members };
      if (options.ringSize !== undefined) groupOptions.ringSize = options.ringSize;
      if (options.id !== undefined) groupOptions.id = options.id;
      if (options.mode !== undefined) groupOptions.mode = options.mode;
      group = MailboxGroup.create(name, groupOptions);
    } catch (err) {
      unlinkLayout(name);
      throw err;
    }
    return Store.#overGroup(name, layout, group, { ...common, spin: options.spin });
  }

  /** Joins the store `name` on this host: its layout is read from the name, so no other options are needed. */
  static join(name: string, options: StoreJoinOptions = {}): Store {
    checkNames(options, ['id', 'spin', ...COMMON_OPTIONS]);
    const layout = readLayout(name);
    const common = commonOf(options, layout);
    const group = MailboxGroup.join(name, options.id === undefined ? {} : { id: options.id });
    // A slot taken over from a dead member inherits the requests still queued to it: they were
    // rejected at their senders when the death was seen, so none of them may run now.
    while (group.tryReceiveMany(undefined, 1024).length > 0);
    return Store.#overGroup(name, layout, group, { ...common, spin: options.spin });
  }

  static #overGroup(
    name: string,
    layout: Layout,
    group: MailboxGroup,
    o: Pick<Init, 'timeout' | 'maxWaiters' | 'cacheBlocks'> & { spin: number | undefined },
  ): Store {
    try {
      if (layout.blockSize + MESSAGE_HEADER + REQUEST_HEADER > group.maxMessageSize)
        throw new OutOfRangeError(
          `The value of "blockSize" is out of range. A block (${layout.blockSize}) must fit in one mailbox message (${group.maxMessageSize - MESSAGE_HEADER - REQUEST_HEADER})`,
        );
      const init: Init = {
        layout,
        id: group.id,
        timeout: o.timeout,
        messageLimit: group.maxMessageSize,
        name,
        group,
        maxWaiters: o.maxWaiters,
        cacheBlocks: o.cacheBlocks,
      };
      if (o.spin !== undefined) init.spin = o.spin;
      return new Store(CONSTRUCT, init);
    } catch (err) {
      group.close();
      throw err;
    }
  }

  /** Removes the store's name and layout (members keep working until they close). */
  static unlink(name: string): boolean {
    const a = MailboxGroup.unlink(name);
    const b = unlinkLayout(name);
    return a || b;
  }

  /**
   * A member (or, with id -1, a client) over sockets: listens on `listen`, connects to every
   * address of `peers`. Resolves once listening; `ready()` waits for the owners.
   */
  static async open(options: StoreOpenOptions): Promise<Store> {
    checkNames(options, [...LAYOUT_OPTIONS, ...COMMON_OPTIONS, 'listen', 'peers']);
    validateInteger(options.members, 'options.members', 1, 65535);
    const layout = layoutOf(options, options.members);
    const id = options.id ?? -1;
    validateInteger(id, 'options.id', -1, options.members - 1);
    const store = new Store(CONSTRUCT, { layout, id, messageLimit: CHANNEL_BATCH, ...commonOf(options, layout) });
    try {
      if (options.listen !== undefined) await store.listen(options.listen);
      options.peers?.forEach((address, member) => {
        if (address != null && member !== id) store.connect(member, address).catch(() => {});
      });
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** @internal */
  constructor(token: typeof CONSTRUCT, init: Init) {
    super();
    if (token !== CONSTRUCT) throw new TypeError('Use Store.create(), Store.join() or Store.open()');
    this.#layout = init.layout;
    this.#id = init.id;
    this.#name = init.name;
    this.#timeout = init.timeout;
    this.#owner = init.id >= 0 ? new Owner(init.layout, init.id, init.maxWaiters) : undefined;
    this.#cache = init.cacheBlocks === undefined ? undefined : new BlockCache(init.cacheBlocks);
    this.#client = new Client(init.layout, init.id, this.#owner, {
      timeout: init.timeout,
      messageLimit: init.messageLimit,
      cache: this.#cache,
    });
    this.#group = init.group;
    if (init.group !== undefined) {
      // No cork: the store makes one message per owner and tick itself, so the transport's deferred
      // publication would only add a hop (a nextTick) to every round trip.
      const t = new MailboxTransport(init.group, init.spin === undefined ? { cork: false } : { spin: init.spin, cork: false });
      this.#mailbox = t;
      this.#wire(t, 'mailbox');
      for (const p of t.peers()) this.#up(t, p);
    }
  }

  // --- what it is ---

  /** This member's id (-1: a client that owns nothing). */
  get id(): number {
    return this.#id;
  }
  get members(): number {
    return this.#layout.members;
  }
  get size(): number {
    return this.#layout.size;
  }
  get blockSize(): number {
    return this.#layout.blockSize;
  }
  get ownership(): Ownership {
    return this.#layout.ownership;
  }
  /** The name on this host, for stores made by create()/join(). */
  get name(): string | undefined {
    return this.#name;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** Where this member serves over sockets (the first listen()), if it does. */
  get address(): Server['address'] | undefined {
    return this.#servers[0]?.address;
  }

  /** The member that owns the block of `address`. */
  ownerOf(address: number): number {
    validateInteger(address, 'address', 0, this.#layout.size - 1);
    return this.#layout.ownerOf(address);
  }

  /** The blocks `member` owns: first, first + stride, ... (count of them). */
  blocksOf(member: number): BlockSet {
    validateInteger(member, 'member', 0, this.#layout.members - 1);
    return this.#layout.blocksOf(member);
  }

  /** What this member has served and cached so far (counters since it started). */
  stats(): StoreStats {
    return {
      served: this.#owner?.served ?? 0,
      invalidationsSent: this.#owner?.invalidationsSent ?? 0,
      cache: this.#cache === undefined ? undefined : { ...this.#cache.stats },
    };
  }

  /** Whether requests to `member`'s blocks can go now (it is this member, or it is reachable). */
  isUp(member: number): boolean {
    return this.#client.isUp(member);
  }

  // --- operations ---

  /** 32-bit cells from `byteOffset` (a multiple of 4), `length` of them (default: to the end). */
  int32(byteOffset = 0, length?: number): Int32View {
    const [off, len] = this.#viewRange(byteOffset, length, 4);
    return new Int32View(this.#client, off, len);
  }

  /** 64-bit cells from `byteOffset` (a multiple of 8), `length` of them (default: to the end). */
  bigInt64(byteOffset = 0, length?: number): BigInt64View {
    const [off, len] = this.#viewRange(byteOffset, length, 8);
    return new BigInt64View(this.#client, off, len);
  }

  #viewRange(byteOffset: number, length: number | undefined, width: number): [number, number] {
    validateInteger(byteOffset, 'byteOffset', 0, this.#layout.size);
    if (byteOffset % width !== 0)
      throw new OutOfRangeError(
        `The value of "byteOffset" is out of range. It must be a multiple of ${width}. Received ${byteOffset}`,
      );
    const max = Math.floor((this.#layout.size - byteOffset) / width);
    if (length === undefined) return [byteOffset, max];
    validateInteger(length, 'length', 0, max);
    return [byteOffset, length];
  }

  /**
   * Reads `length` bytes at `address`. Split per block: each block's part is read atomically at its
   * owner, the whole is not (a write racing with it may show in some blocks and not others).
   */
  read(address: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      try {
        this.#checkSpan(address, length);
      } catch (err) {
        reject(err);
        return;
      }
      const out = Buffer.alloc(length);
      this.#split(address, length, resolve.bind(null, out), reject, (a, at, n, res, rej) =>
        this.#client.read(a, n, out, at, res, rej),
      );
    });
  }

  /** Writes `bytes` at `address`, split per block like read(): atomic per block, not across blocks. */
  write(address: number, bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        if (!(bytes instanceof Uint8Array)) throw invalidType('bytes', 'an instance of Uint8Array', bytes);
        this.#checkSpan(address, bytes.length);
      } catch (err) {
        reject(err);
        return;
      }
      this.#split(
        address,
        bytes.length,
        () => resolve(),
        reject,
        (a, at, n, res, rej) => this.#client.write(a, bytes, at, n, res, rej),
      );
    });
  }

  #checkSpan(address: number, length: number): void {
    validateInteger(address, 'address', 0, this.#layout.size);
    validateInteger(length, 'length', 0, this.#layout.size - address);
  }

  /** Runs `part` once per block of [address, address + length); `done` after all, `fail` with the first error. */
  #split(
    address: number,
    length: number,
    done: () => void,
    fail: (err: Error) => void,
    part: (address: number, at: number, n: number, resolve: () => void, reject: (err: Error) => void) => void,
  ): void {
    if (length === 0) {
      done();
      return;
    }
    const bs = this.#layout.blockSize;
    let left = 0;
    let error: Error | undefined;
    const settle = () => {
      if (--left === 0) error === undefined ? done() : fail(error);
    };
    const parts: [number, number, number][] = [];
    for (let a = address; a < address + length; ) {
      const n = Math.min(bs - (a % bs), address + length - a);
      parts.push([a, a - address, n]);
      a += n;
    }
    left = parts.length;
    for (const [a, at, n] of parts)
      part(a, at, n, settle, (err) => {
        error ??= err;
        settle();
      });
  }

  /** The batch form: operations added to it travel together; `exec()` gives all results at once. */
  pipeline(): Pipeline {
    return new Pipeline();
  }

  // --- peers ---

  /** Resolves once every other member is reachable (rejects with ETIMEDOUT after `timeout` ms). */
  ready(options: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    try {
      validateOptionNames(options, 'options', ['timeout', 'signal']);
    } catch (err) {
      return Promise.reject(err);
    }
    const all = () => Array.from({ length: this.members }, (_, m) => m).every((m) => this.#client.isUp(m));
    if (this.#closed) return Promise.reject(closedError('Store'));
    if (all()) return Promise.resolve();
    const check = () => {
      if (all()) d.resolve();
    };
    const d = new Deferred<void>({
      timeout: options.timeout,
      signal: options.signal,
      what: 'Store ready',
      onCancel: () => this.off('owner-up', check),
    });
    this.on('owner-up', check);
    return d.promise.finally(() => this.off('owner-up', check));
  }

  /** Also serves this member's blocks on a socket (TCP or Unix); resolves with the bound address. */
  async listen(address: SocketAddress): Promise<Server['address']> {
    if (this.#closed) throw closedError('Store');
    if (this.#owner === undefined) throw new InterprocError('ERR_INVALID_STATE', 'a client (id -1) owns no blocks to serve');
    const server = await listen(address);
    this.#servers.push(server);
    server.on('connection', (ch) => void this.#accept(ch));
    return server.address;
  }

  async #accept(ch: Channel): Promise<void> {
    try {
      const m = await ch.receive({ timeout: 10_000 });
      const h = decodeHello(m.data);
      const ok =
        h !== undefined &&
        h.kind === KIND_HELLO &&
        this.#sameLayout(h) &&
        h.member >= -1 &&
        h.member < this.members &&
        h.member !== this.#id &&
        !this.#closed;
      ch.send(encodeHello(this.#hello(KIND_WELCOME, ok)));
      if (!ok) {
        await ch.close({ timeout: 1000 });
        return;
      }
      if (this.#incoming === undefined) {
        this.#incoming = new ChannelTransport(this.#id);
        this.#wire(this.#incoming, 'incoming');
      }
      this.#incoming.add(this.#nextConnection++, ch);
    } catch {
      ch.destroy();
    }
  }

  /**
   * Reaches `member`'s blocks through a socket (where it listens). Resolves once connected; if the
   * connection drops, it is made again (every 100 ms to 2 s) until this store closes. Rejects with
   * ERR_STORE_INCOMPATIBLE if the peer has another layout or is not `member`.
   */
  connect(member: number, address: SocketAddress): Promise<void> {
    try {
      validateInteger(member, 'member', 0, this.members - 1);
      if (member === this.#id) throw new OutOfRangeError(`The value of "member" is out of range. It is this member (${member})`);
      if (this.#closed) throw closedError('Store');
    } catch (err) {
      return Promise.reject(err);
    }
    this.#remotes.set(member, address);
    return this.#dialUntilUp(member, address, 100);
  }

  async #dialUntilUp(member: number, address: SocketAddress, delay: number): Promise<void> {
    for (;;) {
      if (this.#closed) throw closedError('Store');
      try {
        await this.#dial(member, address);
        return;
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_STORE_INCOMPATIBLE') throw err;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.#redials.delete(t);
          resolve();
        }, delay);
        this.#redials.add(t);
      });
      delay = Math.min(2000, delay * 2);
    }
  }

  async #dial(member: number, address: SocketAddress): Promise<void> {
    const ch = await connect(address, { timeout: 5000 });
    try {
      ch.send(encodeHello(this.#hello(KIND_HELLO, true)));
      const h = decodeHello((await ch.receive({ timeout: 10_000 })).data);
      if (h === undefined || h.kind !== KIND_WELCOME || !h.accepted || h.member !== member || !this.#sameLayout(h))
        throw new InterprocError(
          'ERR_STORE_INCOMPATIBLE',
          `the peer at ${JSON.stringify(address)} is not member ${member} of a store of ${this.#layout} (it said: ${h ? `member ${h.member}, accepted ${h.accepted}` : 'no hello'})`,
        );
      if (this.#closed) throw closedError('Store');
    } catch (err) {
      ch.destroy();
      throw err;
    }
    if (this.#outgoing === undefined) {
      this.#outgoing = new ChannelTransport(this.#id);
      this.#wire(this.#outgoing, 'outgoing');
    }
    this.#outgoing.add(member, ch);
  }

  #hello(kind: typeof KIND_HELLO | typeof KIND_WELCOME, accepted: boolean): Hello {
    const L = this.#layout;
    return { kind, member: this.#id, members: L.members, blockSize: L.blockSize, size: L.size, ownership: L.ownership, accepted };
  }

  #sameLayout(h: Hello): boolean {
    const L = this.#layout;
    return h.members === L.members && h.blockSize === L.blockSize && h.size === L.size && h.ownership === L.ownership;
  }

  /**
   * Listens to one transport. 'incoming' carries requests and acknowledgements to this owner;
   * 'outgoing' replies and invalidations from owners; 'mailbox' all of them.
   */
  #wire(t: Transport, role: 'mailbox' | 'incoming' | 'outgoing'): void {
    t.on('message', (from, data) => {
      const kind = messageKind(data);
      if (kind === KIND_REQUESTS && role !== 'outgoing') this.#owner?.serve(t, from, data);
      else if (kind === KIND_REPLIES && role !== 'incoming') this.#client.replies(from, data);
      else if (kind === KIND_INVALIDATE && role !== 'incoming')
        this.#client.invalidations(from, data, (ack) => this.#ack(t, from, ack));
      else if (kind === KIND_ACK && role !== 'outgoing') this.#owner?.acks(t, from, data);
      else if (role === 'incoming') (t as ChannelTransport).remove(from); // not this protocol: end that connection
    });
    t.on('peer-up', (peer) => {
      if (role !== 'incoming') this.#up(t, peer);
    });
    t.on('peer-down', (peer, err) => {
      this.#owner?.dropPeer(t, peer);
      if (role === 'incoming') return;
      const wasUp = this.#client.isUp(peer);
      this.#client.detach(peer, t, err);
      if (wasUp && !this.#client.isUp(peer)) this.emit('owner-down', peer, err);
      const address = this.#remotes.get(peer);
      if (role === 'outgoing' && address !== undefined && !this.#closed) this.#dialUntilUp(peer, address, 100).catch(() => {});
    });
  }

  /** Acknowledges invalidations to the owner that sent them, on the transport they came by. */
  #ack(t: Transport, owner: PeerId, message: Buffer): void {
    try {
      if (!t.closed) t.send(owner, message);
    } catch {
      // the owner is gone: it waits for nobody now
    }
  }

  #up(t: Transport, peer: PeerId): void {
    if (peer < 0 || peer >= this.members || peer === this.#id) return;
    this.#client.attach(peer, t, peer);
    this.emit('owner-up', peer);
  }

  /**
   * Leaves: pending requests reject with ERR_INVALID_STATE; waiters kept here for peers end (their
   * callers see ERR_STORE_OWNER_DEAD); this member's blocks are gone. Resolves once sockets are closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#redials) clearTimeout(t);
    this.#owner?.close();
    this.#client.close();
    this.#mailbox?.close();
    this.#group?.close();
    this.#outgoing?.close();
    this.#incoming?.close();
    await Promise.all(this.#servers.map((s) => s.close({ timeout: 1000 }).catch(() => {})));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
