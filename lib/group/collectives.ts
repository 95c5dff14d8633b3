// The collectives over messages: what a group runs across hosts (TCP channels), and on one host for
// the operations that carry arbitrary values (broadcast, scatter, gather, allGather, allToAll). Each
// call has its own sequence number, the same on every member because every member calls the same
// collectives in the same order (MPI's rule), so its messages never match another call's. The
// algorithms are the flat ones (root to all, all to root): for the 2 to 64 members of a group they
// take one or two message latencies, which the tree algorithms of MPI only beat for large groups.
import type { NumericArray } from './data';
import { type Kernel, reduceInto } from './ops';

/** What a collective needs of its group: its numbers, and sending/receiving under one sequence number. */
export interface CollectiveNet {
  readonly rank: number;
  readonly size: number;
  /** Sends `value` to member `to` under sequence `seq` (to self: delivered locally). */
  send(to: number, seq: number, value: unknown): void;
  /** The value member `from` sent under `seq`. */
  receive(from: number, seq: number): Promise<unknown>;
}

export async function barrier(net: CollectiveNet, seq: number): Promise<void> {
  if (net.rank !== 0) {
    net.send(0, seq, 0);
    await net.receive(0, seq);
    return;
  }
  const arrivals: Promise<unknown>[] = [];
  for (let k = 1; k < net.size; k++) arrivals.push(net.receive(k, seq));
  await Promise.all(arrivals);
  for (let k = 1; k < net.size; k++) net.send(k, seq, 0);
}

export async function broadcast<T>(net: CollectiveNet, seq: number, value: T, root: number): Promise<T> {
  if (net.rank !== root) return (await net.receive(root, seq)) as T;
  for (let k = 0; k < net.size; k++) if (k !== root) net.send(k, seq, value);
  return value;
}

export async function scatter<T>(net: CollectiveNet, seq: number, values: readonly T[] | undefined, root: number): Promise<T> {
  if (net.rank !== root) return (await net.receive(root, seq)) as T;
  const all = values as readonly T[];
  for (let k = 0; k < net.size; k++) if (k !== root) net.send(k, seq, all[k]);
  return all[root] as T;
}

export async function gather<T>(net: CollectiveNet, seq: number, value: T, root: number): Promise<T[] | undefined> {
  if (net.rank !== root) {
    net.send(root, seq, value);
    return undefined;
  }
  const parts: Promise<unknown>[] = [];
  for (let k = 0; k < net.size; k++) parts.push(k === root ? Promise.resolve(value) : net.receive(k, seq));
  return (await Promise.all(parts)) as T[];
}

export async function allGather<T>(net: CollectiveNet, seq: number, value: T): Promise<T[]> {
  for (let k = 0; k < net.size; k++) if (k !== net.rank) net.send(k, seq, value);
  const parts: Promise<unknown>[] = [];
  for (let k = 0; k < net.size; k++) parts.push(k === net.rank ? Promise.resolve(value) : net.receive(k, seq));
  return (await Promise.all(parts)) as T[];
}

export async function allToAll<T>(net: CollectiveNet, seq: number, values: readonly T[]): Promise<T[]> {
  for (let k = 0; k < net.size; k++) if (k !== net.rank) net.send(k, seq, values[k]);
  const parts: Promise<unknown>[] = [];
  for (let k = 0; k < net.size; k++) parts.push(k === net.rank ? Promise.resolve(values[k]) : net.receive(k, seq));
  return (await Promise.all(parts)) as T[];
}

/** The arrays of every member reduced on `root` in rank order into `out`; undefined on the others, a mismatch's text on root. */
export async function reduce(
  net: CollectiveNet,
  seq: number,
  input: NumericArray,
  kernel: Kernel,
  root: number,
  out: NumericArray,
): Promise<{ mismatch?: string } | undefined> {
  const all = await gather(net, seq, input, root);
  if (all === undefined) return undefined;
  for (let k = 0; k < all.length; k++) {
    const a = all[k] as NumericArray;
    if (a?.constructor !== input.constructor || a.length !== input.length) {
      const theirs = ArrayBuffer.isView(a) ? `${a.length} elements of ${a.constructor.name}` : typeof a;
      return {
        mismatch: `reduction arguments differ: rank ${root} has ${input.length} elements of ${input.constructor.name}; rank ${k} has ${theirs}`,
      };
    }
  }
  reduceInto(out, all as NumericArray[], kernel, input.length);
  return {};
}
