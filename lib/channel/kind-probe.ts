// Which kind of Unix socket listens at an address, read from /proc/net/unix: what turns a connect's
// EPROTOTYPE (a socket file of another kind) or ECONNREFUSED (an abstract name bound only by another
// kind) into an error that says so. Read-only: no probe connection that a server would see.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FAMILY_ABSTRACT, FAMILY_PATH } from './constants';
import type { ResolvedAddress } from './address';
import type { SocketKind } from './types';

const KIND_OF_TYPE: Record<string, SocketKind> = { '0001': 'stream', '0002': 'datagram', '0005': 'seqpacket' };
const ACCEPTING = 0x10000; // __SO_ACCEPTCON: a listening stream or seqpacket socket

/** The kinds of the sockets that listen (or, datagram, are bound) at a Unix address; [] if unknown. */
export function kindsListeningAt(a: ResolvedAddress): SocketKind[] {
  if (a.family !== FAMILY_PATH && a.family !== FAMILY_ABSTRACT) return [];
  const names = a.family === FAMILY_ABSTRACT ? [`@${a.name}`] : [a.name, path.resolve(a.name)];
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'latin1');
  } catch {
    return [];
  }
  const kinds = new Set<SocketKind>();
  // Num RefCount Protocol Flags Type St Inode Path
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !names.includes(f.slice(7).join(' '))) continue;
    const kind = KIND_OF_TYPE[f[4]];
    if (kind === undefined) continue;
    if (kind === 'datagram' || (Number.parseInt(f[3], 16) & ACCEPTING) !== 0) kinds.add(kind);
  }
  return [...kinds];
}
