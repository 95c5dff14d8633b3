// What one column of the comparison table is: a model, the mechanism it really uses, and the child-side
// code that measures it. A column is one module (column-*.ts) listed in columns.ts. A column of
// messages gives pair() (a Transport: send and receive); a column of operations on an address space
// (the store) gives operations instead, and its rows measure those operations (OperationSides).

/** One side of a two-process conversation, as the plainest user program of the model would write it. */
export interface Transport {
  /** Copies `data` out to the peer; resolves when more may be sent (back-pressure). */
  send(data: Buffer): Promise<void> | void;
  /** The next message from the peer, an owned copy. */
  receive(): Promise<Buffer> | Buffer;
  close(): Promise<void> | void;
}

export interface PairOptions {
  /** Rendezvous name shared by both sides (an shm name, a socket path, a TCP address...). */
  name: string;
  /** Largest message (bytes). */
  size: number;
  /** 'a' creates or listens, 'b' opens or connects. */
  role: 'a' | 'b';
}

/** What the fault scenario's child sides report (see fault.ts). */
export interface FaultHub {
  /** Called for every message (or record) seen from peer `peer` (1 or 2). */
  onMessage(peer: number, data: Buffer): void;
  /** Called once when the death of peer 1 is noticed by the model's own means. */
  onDeath(peer: number, how: string): void;
  /** Called when shared state was found inconsistent (and repaired). */
  onInconsistent(): void;
  /** Called once per record found gone with its dead owner ('owned' kind). */
  onLost(peer: number): void;
}

export interface FaultSides {
  /**
   * 'queue': every message is delivered once; 'state': peers overwrite shared records, the hub samples
   * them; 'owned': the same, but each record lives with the peer that owns its block, so a dead peer's
   * records go with it (the hub calls onLost when it finds one gone).
   */
  kind: 'queue' | 'state' | 'owned';
  /** The surviving hub: serves peers 1 and 2 until stop() resolves; returns counts it saw. */
  hub(name: string, hub: FaultHub, stopped: Promise<void>): Promise<void>;
  /** A peer that produces messages with produce(seq) until stopped; returns how many it completed. */
  peer(
    name: string,
    id: number,
    produce: (seq: number) => Buffer,
    stopped: () => boolean,
    onDeath: (how: string) => void,
    onInconsistent: () => void,
  ): Promise<number>;
}

export interface SecurityObject {
  path: string;
  kind: 'file' | 'socket';
  close(): Promise<void> | void;
}

/**
 * The two sides of a column whose model is operations, not messages (the store): an owner that keeps
 * the blocks and serves them, and a user whose every operation is a request to that owner and its
 * reply. The orchestrator runs the owner as side 'a' (CPU 0; it creates, or listens at a tcp:// name)
 * and the user as side 'b' (CPU 1), and times the user.
 */
export interface OperationSides {
  /** What each measured row is, in a few words, for the cell text. */
  what: { roundTrip: string; stream(size: number): string; sync: string };
  /** Owner side: serves until the user closes; resolves with its CPU time (µs) from the user's start() on. */
  serve(options: PairOptions): Promise<number>;
  /** User side. */
  use(options: PairOptions): Promise<OperationUser>;
}

export interface OperationUser {
  /** One request and its reply; resolves with the count the reply carried (the caller checks it is `seq`). */
  roundTrip(seq: number): Promise<number>;
  /** Operations of the options' size in flight at once, each checked (throws on a wrong byte); resolves with how many. */
  batch(): Promise<number>;
  /** The synchronisation the model's program needs around a multi-location update, once, uncontended. */
  syncOnce(): Promise<void>;
  /** Marks the start of the measured period (the owner's CPU time counts from here). */
  start(): Promise<void>;
  /** Tells the owner to stop, and leaves. */
  close(): Promise<void>;
}

export type Model = 'message passing' | 'shared memory';

export interface Column {
  id: string;
  /** Column heading. */
  title: string;
  /** The seed's model whose words this column is judged by (an emulation presents its host's opposite). */
  model: Model;
  /** The column of the other model its figures are compared with. */
  reference: string;
  /** undefined when the column can run; otherwise the line printed in its place. */
  unavailable?: string;
  /** How it really works, in a few words each (the mechanism rows). */
  mechanism: { communication: string; dataAccess: string; synchronisation: string };
  /** The seed's axes, as this column's programs are written (judged against the seed's words). */
  traits: { communication: 'explicit' | 'implicit'; dataAccess: 'copied' | 'direct'; synchronisation: 'explicit' | 'implicit' };
  /** File in examples/counter/ with the counter service in this model. */
  example?: string;
  /** What the rendezvous name of a pair is: a socket path, or a /dev/shm name. */
  names: 'socket' | 'shm';
  /** True when the model can cross hosts (TCP), measured between two network namespaces. */
  crossesHosts: boolean;
  /** Child side: one end of a pair (a column of messages). */
  pair?(options: PairOptions): Promise<Transport>;
  /** Child sides of a column of operations (the store), instead of pair() and syncCost(). */
  operations?: OperationSides;
  /** Child side: the fault scenario. */
  fault?: FaultSides;
  /** Child side: the synchronisation the user's code must call per message, measured uncontended (ns), and what it is. */
  syncCost?(): { ns: number; what: string };
  /** Orchestrator: creates the model's object the default way in `dir`, for the security rows. */
  securityObject?(dir: string): SecurityObject | Promise<SecurityObject>;
}
