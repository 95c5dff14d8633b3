// Where members on one host find a store's layout by its name: a 64-byte segment beside the
// mailbox group (`<name>-store`), written once by the creator before the group exists and read by
// every joiner, so that `Store.join(name)` needs no options and nobody can join with another layout.
//   u32 magic 'ISTC' | u32 version | u32 members | u32 blockSize | f64 size | u32 ownership (0 cyclic, 1 range)
import { STORE_LAYOUT_BYTES, STORE_LAYOUT_MAGIC, STORE_LAYOUT_VERSION } from '../internal/contract';
import { InterprocError } from '../internal/errors';
import { SharedMemory } from '../shm/shared-memory';
import { Layout } from './ownership';

// native/contract/contract.json: also what `interproc ls` recognises a layout record by.
const MAGIC = STORE_LAYOUT_MAGIC;
const VERSION = STORE_LAYOUT_VERSION;
const BYTES = STORE_LAYOUT_BYTES;

export function directoryName(name: string): string {
  return `${name}-store`;
}

export function publishLayout(name: string, layout: Layout, mode: number | undefined): void {
  const options = mode === undefined ? { size: BYTES } : { size: BYTES, mode };
  const shm = SharedMemory.createInitialized(directoryName(name), options, (s) => {
    const v = new DataView(s.buffer);
    v.setUint32(0, MAGIC, true);
    v.setUint32(4, VERSION, true);
    v.setUint32(8, layout.members, true);
    v.setUint32(12, layout.blockSize, true);
    v.setFloat64(16, layout.size, true);
    v.setUint32(24, layout.ownership === 'range' ? 1 : 0, true);
  });
  shm.close();
}

export function readLayout(name: string): Layout {
  const shm = SharedMemory.open(directoryName(name), { readonly: true });
  try {
    if (shm.size < BYTES) throw incompatible(name);
    const v = new DataView(shm.buffer);
    if (v.getUint32(0, true) !== MAGIC || v.getUint32(4, true) !== VERSION) throw incompatible(name);
    const ownership = v.getUint32(24, true);
    if (ownership > 1) throw incompatible(name);
    try {
      return new Layout(
        v.getFloat64(16, true),
        v.getUint32(12, true),
        v.getUint32(8, true),
        ownership === 1 ? 'range' : 'cyclic',
      );
    } catch (err) {
      throw incompatible(name, err);
    }
  } finally {
    shm.close();
  }
}

function incompatible(name: string, cause?: unknown): InterprocError {
  return new InterprocError('ERR_STORE_INCOMPATIBLE', `${directoryName(name)} is not a store layout this build reads`, { cause });
}

export function unlinkLayout(name: string): boolean {
  return SharedMemory.unlink(directoryName(name));
}
