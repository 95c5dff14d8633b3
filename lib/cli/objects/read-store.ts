// A store's layout record (`<store>-store`, lib/store/directory.ts readLayout, read-only) and who
// owns its blocks: the members of the store's mailbox group (`<store>`), whose users are the store's.
import { codeOf } from '../../internal/errors';
import { GroupSegment } from '../../mailbox/segment';
import { readLayout } from '../../store/directory';
import type { Layout } from '../../store/ownership';
import type { Reading } from './model';

const SUFFIX = '-store';

export interface OwnerRow {
  member: number;
  pid: number | null;
  state: string;
  /** The blocks it owns: first, first + stride, ... (count of them). */
  blocks: { first: number; stride: number; count: number };
}

/** The store's name for its layout record's name ('/x-store' -> '/x'), or null. */
export function storeOf(name: string): string | null {
  return name.endsWith(SUFFIX) && name.length > SUFFIX.length + 1 ? name.slice(0, -SUFFIX.length) : null;
}

function owners(store: string, layout: Layout): OwnerRow[] | string {
  let seg: GroupSegment;
  try {
    seg = GroupSegment.inspect(store);
  } catch (err) {
    return codeOf(err) === 'ENOENT' ? `its mailbox group ${store} is gone` : `its mailbox group: ${(err as Error).message}`;
  }
  try {
    const rows: OwnerRow[] = [];
    for (let m = 0; m < layout.members; m++) {
      const s = m < seg.members ? seg.read(m) : undefined;
      rows.push({
        member: m,
        pid: s && s.pid !== 0 ? s.pid : null,
        state: s?.state ?? 'missing',
        blocks: layout.blocksOf(m),
      });
    }
    return rows;
  } finally {
    seg.close();
  }
}

export function readStore(name: string): Reading {
  const store = storeOf(name);
  if (store === null) return { kind: 'store', damaged: `a store layout record not named <store>${SUFFIX}`, recorded: [] };
  let layout: Layout;
  try {
    layout = readLayout(store);
  } catch (err) {
    if (codeOf(err) === 'ERR_STORE_INCOMPATIBLE') return { kind: 'store', damaged: (err as Error).message, recorded: [] };
    throw err;
  }
  const rows = owners(store, layout);
  const detail: Record<string, unknown> = {
    store,
    members: layout.members,
    size: layout.size,
    blockSize: layout.blockSize,
    blocks: layout.blocks,
    ownership: layout.ownership,
    owners: typeof rows === 'string' ? [] : rows,
  };
  if (typeof rows === 'string') detail.note = rows;
  return {
    kind: 'store',
    recorded: [], // its users are its group's: `related`
    related: [store],
    summary: `store ${store}: ${layout.members} members, ${layout.size} bytes${typeof rows === 'string' ? ', group gone' : ''}`,
    detail,
  };
}
