// The columns of the comparison table, in order. One module each (column.ts says what a column is).
import type { Column } from './column';
import { channelColumn } from './column-channel';
import { shmColumn } from './column-shm';
import { mailboxColumn } from './column-mailbox';
import { storeColumn } from './column-store';

export const columns: readonly Column[] = [channelColumn, shmColumn, mailboxColumn, storeColumn];

export function columnById(id: string): Column {
  const c = columns.find((k) => k.id === id);
  if (!c) throw new Error(`no column ${id}`);
  return c;
}
