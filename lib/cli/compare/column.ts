// What one column of the comparison table is: a model, the mechanism it really uses, and the child-side
// code that measures it. A column is one module (column-*.ts) listed in columns.ts; adding the store's
// column means writing column-store.ts against this interface and nothing else.

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
}

export interface FaultSides {
  /** 'queue': every message is delivered once; 'state': peers overwrite shared records, the hub samples them. */
  kind: 'queue' | 'state';
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
  /** Child side: one end of a pair. */
  pair(options: PairOptions): Promise<Transport>;
  /** Child side: the fault scenario. */
  fault?: FaultSides;
  /** Child side: the synchronisation the user's code must call per message, measured uncontended (ns), and what it is. */
  syncCost(): { ns: number; what: string };
  /** Orchestrator: creates the model's object the default way in `dir`, for the security rows. */
  securityObject?(dir: string): SecurityObject | Promise<SecurityObject>;
}
