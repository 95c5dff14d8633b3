// Removing a name: only while it still names the file that was judged (its inode), so a segment
// created again under the same name since the survey is never the one removed. Existing mappings
// stay valid (as with SharedMemory.unlink); only the name goes.
import { lstatSync } from 'node:fs';
import { SharedMemory } from '../shm/shared-memory';
import type { ObjectInfo } from './objects/model';

export type Removal = { removed: true } | { removed: false; reason: string };

export function removeObject(o: ObjectInfo): Removal {
  try {
    if (lstatSync(o.path).ino !== o.inode) return { removed: false, reason: 'replaced by another file since it was read' };
  } catch {
    return { removed: false, reason: 'already gone' };
  }
  try {
    return SharedMemory.unlink(o.name) ? { removed: true } : { removed: false, reason: 'already gone' };
  } catch (err) {
    return { removed: false, reason: (err as Error).message };
  }
}
