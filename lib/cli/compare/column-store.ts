// Column: shared memory over message passing (the store, lib/store). Until that part is built this
// module only says so; the store's helper replaces the body with a column written like the others
// (column.ts), and nothing else in compare changes.
import fs from 'node:fs';
import path from 'node:path';
import type { Column } from './column';

const built = fs.existsSync(path.join(__dirname, '..', '..', 'store', 'index.js'));

const notBuilt = (): never => {
  throw new Error('the store is not built in this version');
};

export const storeColumn: Column = {
  id: 'store',
  title: 'shared memory over message passing (store)',
  model: 'shared memory',
  reference: 'channel',
  unavailable: built
    ? 'lib/store exists but has no comparison column yet (lib/cli/compare/column-store.ts)'
    : 'not built in this version (lib/store is not there yet)',
  mechanism: { communication: '—', dataAccess: '—', synchronisation: '—' },
  traits: { communication: 'implicit', dataAccess: 'copied', synchronisation: 'implicit' },
  names: 'shm',
  crossesHosts: true,
  pair: notBuilt,
  syncCost: notBuilt,
};
