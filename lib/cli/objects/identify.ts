// Which of the library's objects a file in /dev/shm is, by the mark the library writes at its
// start (magic and version, defined in native/contract/contract.json or exported by the addon),
// then read by that kind's reader. Everything read is untrusted: a short, garbage or truncated file
// is 'unknown' or 'damaged', never a crash. A file that carries no mark is 'unknown': plain
// SharedMemory segments carry none by design (their bytes are the user's), so they are 'unknown'
// too, and gc never removes them.
import { closeSync, constants, openSync, readSync as readFd } from 'node:fs';
import { GROUP_AREA_MAGIC, STORE_LAYOUT_MAGIC, SYNC_MAGIC } from '../../internal/contract';
import { creatorOf } from '../../shm/stale-temporaries';
import { startTimeOf } from '../../internal/liveness';
import { layout as mailboxLayout } from '../../mailbox/ring';
import type { Reading } from './model';
import { readGroupArea } from './read-group-area';
import { readMailbox } from './read-mailbox';
import { readStore } from './read-store';
import { readSync } from './read-sync';

/** Bytes read to tell the kinds apart (every mark sits in the first word; the group area's header is 32 bytes). */
const HEAD = 64;

/** The first bytes of a file, opened read-only without following a link or blocking. */
export function readHead(path: string): Uint8Array {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const buf = new Uint8Array(HEAD);
    const n = readFd(fd, buf, 0, HEAD, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the segment `name` ('/x', at `path`) of `size` bytes. Throws only what the file system says
 * (EACCES, ENOENT): the caller reports the file as unreadable.
 */
export function identify(name: string, path: string, size: number): Reading {
  const creator = creatorOf(name);
  if (creator !== null) {
    // Built under a temporary name, never published: its creator is its only recorded user.
    const alive = startTimeOf(creator) >= 0;
    return {
      kind: 'unfinished',
      recorded: [{ role: 'creator', pid: creator, alive }],
      summary: `a creation by ${creator} that was never published`,
    };
  }
  const head = readHead(path);
  if (head.byteLength < 4) return { kind: 'unknown', recorded: [], summary: size === 0 ? 'empty' : '' };
  const magic = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0, true);
  switch (magic) {
    case mailboxLayout.magic:
      return readMailbox(name);
    case SYNC_MAGIC:
      return readSync(name, size);
    case STORE_LAYOUT_MAGIC:
      return readStore(name);
    case GROUP_AREA_MAGIC:
      return readGroupArea(name, head, size);
    default:
      return { kind: 'unknown', recorded: [], summary: '' };
  }
}
