// The transport over a mailbox group (one host): peers are member ids. Messages to a peer whose
// ring is full wait in a queue of this adapter, in order; one receive loop takes every member's
// messages. A member's death is reported the moment the kernel knows (a pidfd per member
// incarnation, lib/mailbox/peer-watch.ts); joins, leaves and replacements are read from the member
// slots (pid + start time) on a short interval.
import { codeOf } from '../internal/errors';
import { MailboxGroup } from '../mailbox/group';
import type { Message } from '../mailbox/inbox';
import { PeerWatch } from '../mailbox/peer-watch';
import { peerError } from '../mailbox/segment';
import { type PeerId, TransportBase } from './transport';

export interface MailboxTransportOptions {
  /** Microseconds the receive loop polls the rings before it sleeps (default: the group's own `spin`). */
  spin?: number;
  /** Milliseconds between reads of the member slots, for joins and leaves (default 20; deaths come at once). */
  watchInterval?: number;
  /**
   * Whether the messages sent in one turn are published together, at its end (default true: one
   * publication and at most one wake-up per ring for a burst). A user that already makes one
   * message per peer and turn (the store) turns it off: each send is then published at once,
   * saving the deferred publication's hop.
   */
  cork?: boolean;
}

/** The receive after a poll that found nothing: it sleeps at once. */
const NO_SPIN = Object.freeze({ spin: 0 });
/** Messages taken per poll (receiveMany's default). */
const MAX_BATCH = 1024;
/** The receive loop lets the event loop take a full turn at least this often (ms). */
const TURN_MS = 1;
const RESOLVED = Promise.resolve();

/** Codes with which a send or receive says that a member is gone. */
const GONE = new Set(['ERR_MAILBOX_PEER_DEAD', 'ERR_MAILBOX_PEER_CLOSED']);

export class MailboxTransport extends TransportBase {
  readonly #group: MailboxGroup;
  readonly #cork: boolean;
  readonly #spinMs: number;
  readonly #waitOptions: { spin: number } | undefined;
  /** When the receive loop last let the event loop take a full turn (performance.now()). */
  #turn: number;
  /** send() copies the bytes (into the ring, or into the backlog): the caller may reuse its buffer. */
  readonly copies = true;
  /** Messages waiting for room in a full ring, per peer; a peer is in the map while its queue drains. */
  readonly #backlog = new Map<PeerId, Uint8Array[]>();
  /** The pid last seen in each member's slot, so that a new process in an old slot reads as down-then-up. */
  readonly #pids = new Map<PeerId, number>();
  readonly #watch: NodeJS.Timeout;
  /** Death watches on the members that are up (pidfds). */
  readonly #deaths: PeerWatch;
  #corked = false;
  readonly #uncork = () => {
    this.#corked = false;
    this.#group.uncork();
  };

  constructor(group: MailboxGroup, options: MailboxTransportOptions = {}) {
    super();
    this.#group = group;
    this.#cork = options.cork ?? true;
    this.#deaths = new PeerWatch(MailboxGroup.segmentOf(group), group.id, (id, pid) => this.#died(id, pid));
    this.#scan();
    this.#watch = setInterval(() => this.#scan(), options.watchInterval ?? 20);
    this.#watch.unref();
    const spin = options.spin ?? 0;
    this.#spinMs = spin / 1000;
    // The wait when nothing came: no spin of the group's own once the loop has spun (an explicit 0
    // overrides the group's too), and no signal: close() ends it with group.endReceives().
    this.#waitOptions = options.spin === undefined ? undefined : NO_SPIN;
    this.#turn = performance.now();
    // On the next tick: nothing is delivered before the caller has attached its listeners.
    process.nextTick(this.#step);
  }

  get self(): PeerId {
    return this.#group.id;
  }

  get maxMessageSize(): number {
    return this.#group.maxMessageSize;
  }

  send(peer: PeerId, data: Uint8Array): boolean {
    if (!this.isUp(peer)) return false;
    const queued = this.#backlog.get(peer);
    if (queued !== undefined) {
      queued.push(Buffer.from(data));
      return true;
    }
    if (this.#cork && !this.#corked) {
      // Everything sent in this turn goes out with one publication (and at most one wake-up) per
      // ring: a burst of requests, or the replies to a batch, costs the receiver one wake-up.
      this.#corked = true;
      this.#group.cork();
      process.nextTick(this.#uncork);
    }
    if (this.#group.trySend(peer, data)) return true;
    this.#backlog.set(peer, [Buffer.from(data)]);
    void this.#drain(peer);
    return true;
  }

  /** Sends a peer's queued messages one after another, each waiting for room. */
  async #drain(peer: PeerId): Promise<void> {
    const queue = this.#backlog.get(peer);
    if (queue === undefined) return;
    try {
      while (queue.length > 0 && !this.closed) {
        await this.#group.send(peer, queue[0] as Uint8Array);
        queue.shift();
      }
    } catch (err) {
      if (!this.closed) this.markDown(peer, err as Error);
    } finally {
      this.#backlog.delete(peer);
    }
  }

  // --- the receive loop ---
  // A step polls (when spinning) or waits for a batch and delivers it; the next step runs once what
  // the batch started has been sent. Written as callbacks rather than an async function: a step
  // then costs one promise reaction and one nextTick, not two promises and their closures, on a
  // path that a store round trip takes twice per side.

  /** Polls or waits for the next batch: a nextTick or setImmediate callback. */
  readonly #step = (): void => {
    if (this.closed || this.#group.closed) return;
    let batch: Message[] | undefined;
    try {
      if (this.#spinMs > 0) batch = this.#poll(this.#spinMs);
    } catch (err) {
      this.#failed(err);
      return;
    }
    if (batch !== undefined) this.#onBatch(batch);
    else this.#group.receiveMany(undefined, this.#waitOptions).then(this.#onBatch, this.#failed);
  };

  /** Delivers a batch, then schedules the next step after the microtasks that the batch queued. */
  readonly #onBatch = (batch: Message[]): void => {
    for (const m of batch) {
      if (!this.isUp(m.from)) this.#scan();
      this.deliver(m.from, m.data);
    }
    RESOLVED.then(this.#schedule);
  };

  /**
   * A microtask queued after the ones a batch queued (a store owner's replies): registers the next
   * step. What the batch started must be sent before the step polls or sets up a wait, or it would
   * sit between a request and its reply (a poll holds the thread; a wait's set-up costs
   * microseconds); those sends are microtasks (and the cork's nextTick), and a nextTick callback
   * runs after both, a client's next request included. A full turn of the event loop (timers, I/O)
   * costs ~2.5 µs of CPU here, more than the rest of a store round trip, so the step runs as a
   * setImmediate only once a millisecond: often enough that a steady stream cannot starve timers
   * and I/O.
   */
  readonly #schedule = (): void => {
    const now = performance.now();
    if (now - this.#turn < TURN_MS) process.nextTick(this.#step);
    else {
      this.#turn = now;
      setImmediate(this.#step);
    }
  };

  readonly #failed = (err: unknown): void => {
    if (this.closed || this.#group.closed) return;
    if (!GONE.has(codeOf(err) ?? '')) {
      // Not a peer's departure (a corrupt ring, a listener that threw): nothing to go on with.
      process.nextTick(() => {
        throw err;
      });
      return;
    }
    // Every other member is gone for now: look again when the slots are next read.
    this.#scan();
    setTimeout(this.#step, 20);
  };

  /**
   * Polls the rings for up to `ms`: a batch, or undefined when none came. Polling here rather than
   * in receiveMany({ spin }) delivers the batch in this turn, without a promise to resolve first.
   */
  #poll(ms: number): Message[] | undefined {
    const end = performance.now() + ms;
    for (let i = 1; ; i++) {
      const batch = this.#group.pollMany(MAX_BATCH);
      if (batch !== undefined) return batch;
      if ((i & 31) === 0 && performance.now() >= end) return undefined;
    }
  }

  /** Reads every member slot: reports joins, deaths, leaves and replacements. */
  #scan(): void {
    if (this.closed || this.#group.closed) return;
    for (let id = 0; id < this.#group.members; id++) {
      if (id === this.#group.id) continue;
      const info = this.#group.memberInfo(id);
      const last = this.#pids.get(id);
      if (info.state === 'alive') {
        if (last !== undefined && last !== info.pid) this.markDown(id, this.#goneError(id, 'ERR_MAILBOX_PEER_DEAD', last));
        this.#pids.set(id, info.pid as number);
        this.markUp(id);
        this.#deaths.sync(id);
      } else if (this.isUp(id)) {
        const code = info.state === 'dead' ? 'ERR_MAILBOX_PEER_DEAD' : 'ERR_MAILBOX_PEER_CLOSED';
        this.#drainFrom(id);
        this.markDown(id, this.#goneError(id, code, last ?? 0));
      }
    }
  }

  /** A member's pidfd said it ended: deliver what it completed before dying, then report it down. */
  #died(id: PeerId, pid: number): void {
    if (this.closed || this.#group.closed || this.#pids.get(id) !== pid) return;
    try {
      for (let batch = this.#group.tryReceiveMany(id); batch.length > 0; batch = this.#group.tryReceiveMany(id)) {
        for (const m of batch) this.deliver(m.from, m.data);
      }
    } catch {
      // a corrupt ring: nothing more can be read from it; the death is what matters now
    }
    this.markDown(id, this.#goneError(id, 'ERR_MAILBOX_PEER_DEAD', pid));
  }

  /** Delivers what a departed member completed before it went, so that its last messages come before its 'peer-down'. */
  #drainFrom(id: PeerId): void {
    try {
      for (let batch = this.#group.tryReceiveMany(id); batch.length > 0; batch = this.#group.tryReceiveMany(id))
        for (const m of batch) this.deliver(id, m.data);
    } catch {
      // a corrupt ring or a view still held: what is left is not delivered
    }
  }

  #goneError(id: PeerId, code: 'ERR_MAILBOX_PEER_DEAD' | 'ERR_MAILBOX_PEER_CLOSED', pid: number): Error {
    return peerError(code, id, pid);
  }

  protected onClose(): void {
    clearInterval(this.#watch);
    this.#deaths.close();
    this.#backlog.clear();
    this.#group.endReceives('MailboxTransport');
  }
}
