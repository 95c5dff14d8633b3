// Joining a group: by name with a rank and a size (options), or with what a launcher put in the
// environment (environment.ts). On one host the members meet in a mailbox group and a shared
// segment named after the group: whichever member comes first creates them (published whole, so
// nobody sees them half made), the others open them, and once every member has said hello rank 0
// removes both names, so nothing is left in /dev/shm whatever happens later. Across hosts they meet
// at a rendezvous (rendezvous.ts) and connect a TCP channel per pair.
import os from 'node:os';
import type { Channel } from '../channel/channel';
import { codeOf, InterprocError } from '../internal/errors';
import {
  ArgValueError,
  validateBoolean,
  validateInteger,
  validateObject,
  validateString,
  validateTimeout,
} from '../internal/validate';
import { MailboxGroup } from '../mailbox/group';
import { ChannelTransport } from '../rpc/channel-transport';
import { MailboxTransport } from '../rpc/mailbox-transport';
import { SharedMemory } from '../shm/shared-memory';
import { launchEnvironment } from './environment';
import { ProcessGroup, type TransportKind } from './group';
import { connect, helloBytes, listen, parseAddress, rankOfHello, register, serveRendezvous } from './rendezvous';
import { SharedArea } from './shared-area';

export interface JoinGroupOptions {
  /** The group's name (shared by its members; on one host, the name of its segments). Default: from the launcher. */
  name?: string;
  /** This member's rank, 0..size-1. Default: from the launcher's environment. */
  rank?: number;
  /** The number of members, 1..64. Default: from the launcher's environment. */
  size?: number;
  /** 'mailbox' (one host; the default when the launcher says all members are on this host) or 'tcp'. */
  transport?: TransportKind;
  /** TCP: the rendezvous 'host:port' (default INTERPROC_GROUP_ADDRESS). Rank 0 serves it unless the launcher does. */
  address?: string;
  /** TCP: the address this member listens on and gives the others (default: loopback when the rendezvous is, else this host's first external IPv4). */
  host?: string;
  /** 'sleep' (default): wait in the kernel, no CPU while waiting. 'poll': spin on shared memory (lowest latency, one core per member). */
  wait?: 'sleep' | 'poll';
  /** 'sleep' mode: microseconds to poll before sleeping (default 0). */
  spin?: number;
  /** Whether a member's death fails the whole group (default true). */
  link?: boolean;
  /** Milliseconds to wait for every member to join (default 30000). */
  timeout?: number;
  /** One host: bytes of each ring between two members (default 262144). */
  ringSize?: number;
  /** One host: bytes of each member's region for large reductions (default 8 MiB: 1 M doubles in one pass; larger arrays go in passes). */
  sharedBytes?: number;
  /** One host: reduce and barrier through the shared segment (default true); false sends messages as across hosts. */
  shared?: boolean;
}

const SMALL_BYTES = 16 * 1024;
const DEFAULT_SHARED = 8 * 1024 * 1024;

function segmentName(name: string): string {
  return name.startsWith('/') ? name : `/${name}`;
}

/** Joins (or, with the first member, forms) a process group; resolves once every member is there. */
export async function joinGroup(options: JoinGroupOptions = {}): Promise<ProcessGroup> {
  validateObject(options as unknown, 'options');
  const env = launchEnvironment();
  const size = options.size ?? env?.size;
  const rank = options.rank ?? env?.rank;
  const name = options.name ?? env?.name;
  if (size === undefined || rank === undefined || name === undefined)
    throw new ArgValueError(
      'joinGroup needs a name, a rank and a size: as options, or from a launcher (spawnGroup, mpirun, srun) in the environment',
    );
  validateInteger(size, 'options.size', 1, 64);
  validateInteger(rank, 'options.rank', 0, size - 1);
  validateString(name, 'options.name');
  const timeout = validateTimeout(options.timeout ?? 30_000, 'options.timeout');
  const link = options.link ?? true;
  validateBoolean(link, 'options.link');
  const poll = (options.wait ?? 'sleep') === 'poll';
  if (options.wait !== undefined && options.wait !== 'sleep' && options.wait !== 'poll')
    throw new ArgValueError(`The property 'options.wait' must be 'sleep' or 'poll'. Received ${String(options.wait)}`);
  const spin = options.spin ?? 0;
  validateInteger(spin, 'options.spin', 0, 10_000_000);
  const address = options.address ?? env?.address;
  const kind: TransportKind =
    (options.transport as TransportKind | undefined) ??
    (env?.transport as TransportKind | undefined) ??
    (env?.oneHost === false ? 'tcp' : 'mailbox');
  if (kind !== 'mailbox' && kind !== 'tcp')
    throw new ArgValueError(`The property 'options.transport' must be 'mailbox' or 'tcp'. Received ${String(kind)}`);
  const deadline = Date.now() + (timeout ?? 1e12);
  if (kind === 'tcp') {
    if (address === undefined)
      throw new ArgValueError('a TCP group needs a rendezvous address: options.address or INTERPROC_GROUP_ADDRESS');
    return joinTcp(name, rank, size, address, options.host, env?.hosted ?? false, link, timeout, deadline);
  }
  return joinMailbox(segmentName(name), rank, size, options, { poll, spin, link, timeout });
}

async function joinMailbox(
  name: string,
  rank: number,
  size: number,
  options: JoinGroupOptions,
  how: { poll: boolean; spin: number; link: boolean; timeout: number | undefined },
): Promise<ProcessGroup> {
  const sharedBytes = options.sharedBytes ?? DEFAULT_SHARED;
  validateInteger(sharedBytes, 'options.sharedBytes', 4096, 2 ** 31);
  const large = Math.ceil(sharedBytes / 4096) * 4096;
  const useShared = options.shared ?? true;
  validateBoolean(useShared, 'options.shared');
  let mailbox: MailboxGroup;
  try {
    mailbox = MailboxGroup.create(name, { members: Math.max(size, 2), id: rank, ringSize: options.ringSize });
  } catch (err) {
    if (codeOf(err) !== 'EEXIST') throw err;
    mailbox = MailboxGroup.join(name, { id: rank });
  }
  if (mailbox.members !== Math.max(size, 2)) {
    mailbox.close();
    throw new InterprocError(
      'ERR_GROUP_MISMATCH',
      `the mailbox group ${name} has ${mailbox.members} members; this member expects ${size}`,
    );
  }
  // Polling members that outnumber the CPUs give their CPU away instead of spinning on it.
  const oversubscribed = size > os.availableParallelism();
  const transport = new MailboxTransport(mailbox, { spin: how.poll && !oversubscribed ? 50 : how.spin });
  const group = new ProcessGroup({ name, rank, size, kind: 'mailbox', transport, mailbox, link: how.link });
  const areaName = `${name}-shared`;
  try {
    if (useShared)
      group.attachArea(
        SharedArea.attach(areaName, size, rank, SMALL_BYTES, large, {
          poll: how.poll,
          oversubscribed,
          spin: how.spin,
          ...group.failureSignal,
        }),
      );
    await group.start(how.timeout);
  } catch (err) {
    group.close();
    throw err;
  } finally {
    // Once everyone is in (or this member gave up), the names have done their work.
    if (rank === 0 || group.closed) {
      MailboxGroup.unlink(name);
      if (useShared) SharedMemory.unlink(areaName);
    }
  }
  return group;
}

function defaultHost(rendezvousHost: string): string {
  if (rendezvousHost === 'localhost' || rendezvousHost.startsWith('127.') || rendezvousHost === '::1') return '127.0.0.1';
  for (const addrs of Object.values(os.networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

async function joinTcp(
  name: string,
  rank: number,
  size: number,
  address: string,
  hostOption: string | undefined,
  hosted: boolean,
  link: boolean,
  timeout: number | undefined,
  deadline: number,
): Promise<ProcessGroup> {
  const at = parseAddress(address);
  const host = hostOption ?? defaultHost(at.host);
  const rendezvous = rank === 0 && !hosted ? await serveRendezvous(at.host, at.port, size) : undefined;
  const server = await listen({ host, port: 0 });
  const transport = new ChannelTransport(rank);
  const release = () => {
    void server.close({ timeout: 1000 }).catch(() => {});
    void rendezvous?.close({ timeout: 1000 }).catch(() => {});
  };
  const group = new ProcessGroup({ name, rank, size, kind: 'tcp', transport, link, release });
  server.on('connection', async (ch: Channel) => {
    try {
      const first = await ch.receive({ timeout: Math.max(1, deadline - Date.now()) });
      const from = rankOfHello(first.data as Buffer, size);
      if (from === undefined || from <= rank) throw new Error('not a member of this group');
      transport.add(from, ch);
    } catch {
      ch.destroy();
    }
  });
  try {
    const port = (server.address as { port: number }).port;
    const table = await register(address, { rank, size, name, host, port }, deadline);
    for (let s = 0; s < rank; s++) {
      const peer = table[s] as { host: string; port: number };
      const ch = await connect({ host: peer.host, port: peer.port });
      ch.send(helloBytes(rank));
      transport.add(s, ch);
    }
    await group.start(timeout);
  } catch (err) {
    group.close();
    throw err;
  }
  if (rendezvous !== undefined) void rendezvous.close({ timeout: 1000 }).catch(() => {});
  return group;
}
