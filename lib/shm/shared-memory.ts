// SharedMemory: a POSIX shared-memory object (or an anonymous memfd) mapped into this process as an
// ArrayBuffer. The buffer holds exactly the object's bytes (no hidden header), so C and Python's
// multiprocessing.shared_memory see the same data.
import { native, type Handle } from '../internal/binding';
import { sweepStaleTemporaries } from './stale-temporaries';
import { closedError, InterprocError } from '../internal/errors';
import {
  ArgValueError,
  OutOfRangeError,
  validateBoolean,
  validateInteger,
  validateObject,
  validateOptionNames,
  validateString,
} from '../internal/validate';

export interface CreateOptions {
  /** Size in bytes (>= 1). */
  size: number;
  /** Permission bits of the new object; default 0o600 (owner only). Not narrowed by the umask. */
  mode?: number;
}

export interface FromFdOptions extends OpenOptions {
  /** Refuse an object whose size is not sealed (ERR_SHM_NOT_SEALED). Default false. */
  requireSealed?: boolean;
}

export interface OpenOptions {
  /**
   * Open read-only. The buffer stays writable for JS, but writes are private to this process
   * (copy-on-write) and never reach the object; a page written that way stops seeing others' updates.
   */
  readonly?: boolean;
}

export interface OpenOrCreateOptions extends CreateOptions {}

const MAX_NAME_BYTES = 255;

/**
 * Normalises and checks a POSIX shared-memory name: '/name' (a missing leading '/' is added, as
 * Python does), no other '/', no NUL, at most 255 bytes after the '/'.
 */
export function normalizeName(name: unknown, argName = 'name'): string {
  validateString(name, argName);
  const full = name.startsWith('/') ? name : `/${name}`;
  let why: string | undefined;
  if (full.length < 2) why = 'must not be empty';
  else if (full.indexOf('/', 1) !== -1) why = "must not contain '/' (other than a leading one)";
  else if (full.includes('\0')) why = 'must not contain NUL characters';
  else if (Buffer.byteLength(full) - 1 > MAX_NAME_BYTES) why = `must be at most ${MAX_NAME_BYTES} bytes long`;
  else if (full === '/.' || full === '/..') why = "must not be '.' or '..'";
  if (why)
    throw new ArgValueError(
      `The argument '${argName}' ${why}. Received '${name.length > 40 ? `${name.slice(0, 37)}...` : name}'`,
    );
  return full;
}

function validateSize(size: unknown): number {
  validateInteger(size, 'options.size', 1, Number.MAX_SAFE_INTEGER);
  return size;
}

function validateMode(mode: unknown): number {
  if (mode === undefined) return 0o600;
  validateInteger(mode, 'options.mode', 0, 0o7777);
  return mode;
}

function readonlyOption(options: Record<string, unknown>): boolean {
  if (options.readonly === undefined) return false;
  validateBoolean(options.readonly, 'options.readonly');
  return options.readonly;
}

/**
 * The process's truncation marks (native/core/shm/truncation_guard.hpp), one word per tracked
 * mapping, set by the SIGBUS handler or the shrink watcher: checking one is a load, not a call.
 */
let truncationWords: Uint32Array | undefined;

/** The error of every operation on a segment that another process truncated under its mapping. */
export function truncatedError(name: string | null): InterprocError {
  const what = name === null ? 'the shared memory object' : `'${name}'`;
  return Object.assign(
    new InterprocError(
      'ERR_SHM_TRUNCATED',
      `another process truncated ${what} under this mapping: its lost pages read zeros here, and nothing on it can be trusted`,
    ),
    name === null ? {} : { path: name },
  );
}

/** Maps a buffer of a SharedMemory back to it (used by futex and the synchronisation primitives). */
const owners = new WeakMap<ArrayBuffer, SharedMemory>();
/** Buffers of closed segments, so a stale view gets "closed" rather than a confusing range error. */
const closedBuffers = new WeakSet<ArrayBuffer>();

export class SharedMemory implements Disposable {
  #handle: Handle;
  #buffer: ArrayBuffer;
  #fd: number;
  #size: number;
  #name: string | null;
  #created: boolean;
  #readonly: boolean;
  #closed = false;
  /** Index in truncationWords, -1 when untracked (empty segment, or the table was full). */
  #slot: number;
  #truncatedAtClose = false;

  private constructor(tuple: [Handle, ArrayBuffer, number, number, boolean], name: string | null, readonly: boolean) {
    [this.#handle, this.#buffer, this.#fd, this.#size, this.#created] = tuple;
    this.#name = name;
    this.#readonly = readonly;
    this.#slot = native.shmGuardSlot(this.#handle);
    if (this.#slot >= 0) truncationWords ??= native.shmTruncationWords();
    owners.set(this.#buffer, this);
  }

  /** Creates a new named segment; fails with EEXIST if the name exists. */
  static create(name: string, options: CreateOptions): SharedMemory {
    const full = normalizeName(name);
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['size', 'mode']);
    const size = validateSize(options.size);
    const mode = validateMode(options.mode);
    return new SharedMemory(native.shmOpen(full, 0, size, mode, false), full, false);
  }

  /** Opens an existing named segment; fails with ENOENT if there is none. */
  static open(name: string, options: OpenOptions = {}): SharedMemory {
    const full = normalizeName(name);
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['readonly']);
    const readonly = readonlyOption(options as Record<string, unknown>);
    return new SharedMemory(native.shmOpen(full, 1, 0, 0, readonly), full, readonly);
  }

  /**
   * @internal Creates a named segment that appears under `name` only after `init(shm)` has returned,
   * so no other process can ever open it half-initialised (a lock's header, a mailbox's slots). It is
   * built under a temporary name and published with link(2); EEXIST if `name` exists by then, after
   * calling `abandon()` (if given) to undo what `init` built.
   */
  static createInitialized(
    name: string,
    options: CreateOptions,
    init: (shm: SharedMemory) => void,
    abandon?: () => void,
  ): SharedMemory {
    const full = normalizeName(name);
    validateObject(options, 'options');
    const size = validateSize(options.size);
    const mode = validateMode(options.mode);
    sweepStaleTemporaries();
    const [handle, buffer, fd, bytes, created, tmp] = native.shmCreateHidden(size, mode);
    const shm = new SharedMemory([handle, buffer, fd, bytes, created], full, false);
    let initialised = false;
    let published = false;
    try {
      init(shm);
      initialised = true;
      native.shmPublish(tmp, full); // removes the temporary name, also when it fails
      published = true;
    } finally {
      if (!published) {
        if (initialised) abandon?.(); // undo what init built on the segment, while it is still mapped
        shm.close();
        native.shmUnlink(tmp);
      }
    }
    return shm;
  }

  /**
   * Opens the named segment, creating it with `size` if it does not exist. An existing segment keeps
   * its own size; `created` tells which happened.
   */
  static openOrCreate(name: string, options: OpenOrCreateOptions): SharedMemory {
    const full = normalizeName(name);
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['size', 'mode']);
    const size = validateSize(options.size);
    const mode = validateMode(options.mode);
    return new SharedMemory(native.shmOpen(full, 2, size, mode, false), full, false);
  }

  /**
   * An anonymous segment (memfd_create): nothing appears in /dev/shm and nothing can leak. Share it
   * by handing `fd` to another process (child_process stdio, or fd passing over a Unix socket) and
   * calling `SharedMemory.fromFd` there. Its size is sealed.
   */
  static anonymous(options: { size: number }): SharedMemory {
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['size']);
    return new SharedMemory(native.shmAnonymous(validateSize(options.size)), null, false);
  }

  /**
   * Maps a segment from a file descriptor (duplicated: the caller still owns and closes `fd`). An fd
   * from another process can be truncated by it under the mapping (this process survives it, see
   * `truncated`, but the bytes are gone): with `requireSealed: true` only an object whose size is
   * sealed (as `anonymous()` makes them) is accepted, anything else throws ERR_SHM_NOT_SEALED.
   */
  static fromFd(fd: number, options: FromFdOptions = {}): SharedMemory {
    validateInteger(fd, 'fd', 0, 2 ** 31 - 1);
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['readonly', 'requireSealed']);
    const readonly = readonlyOption(options as Record<string, unknown>);
    const requireSealed = options.requireSealed ?? false;
    validateBoolean(requireSealed, 'options.requireSealed');
    const shm = new SharedMemory(native.shmFromFd(fd, readonly), null, readonly);
    if (requireSealed && !shm.sizeSealed) {
      shm.close();
      throw Object.assign(
        new InterprocError(
          'ERR_SHM_NOT_SEALED',
          `fd ${fd}: the object's size is not sealed (F_SEAL_SHRINK), so its owner could truncate it under the mapping`,
        ),
        { fd },
      );
    }
    return shm;
  }

  /**
   * Removes a name from the system (existing mappings stay valid until closed). Returns true if a
   * segment was removed, false if there was none.
   */
  static unlink(name: string): boolean {
    return native.shmUnlink(normalizeName(name));
  }

  /** The mapped bytes. Detached (length 0) after close(). */
  get buffer(): ArrayBuffer {
    if (this.#closed) throw closedError('SharedMemory');
    return this.#buffer;
  }
  get size(): number {
    return this.#size;
  }
  /** '/name' for a named segment, null for an anonymous one or one opened from an fd. */
  get name(): string | null {
    return this.#name;
  }
  /** The segment's file descriptor (close-on-exec); -1 after close(). */
  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** True when this call created the object (create, anonymous, or openOrCreate that created). */
  get created(): boolean {
    return this.#created;
  }
  get readonly(): boolean {
    return this.#readonly;
  }
  /**
   * True when no process can shrink the object any more (a memfd sealed with F_SEAL_SHRINK, as
   * `anonymous()` makes them), so the mapping can never fault because of a truncate. Named segments
   * cannot be sealed: false.
   */
  get sizeSealed(): boolean {
    if (this.#closed) throw closedError('SharedMemory');
    return native.shmSizeSealed(this.#handle);
  }

  /**
   * True once another process truncated the object under this mapping (ftruncate of /dev/shm/NAME,
   * or of a shared fd). The process survives it: the lost pages are replaced by private zero pages
   * (a plain JS read of `buffer` past the new end reads 0, a write there is lost), and every
   * operation of the library on the segment (futex, locks, mailboxes in it) fails with
   * ERR_SHM_TRUNCATED. Set when something touches a lost page, and by a watcher thread within
   * moments of the truncate even when nothing does. Stays true; close() keeps the last value.
   */
  get truncated(): boolean {
    if (this.#closed) return this.#truncatedAtClose;
    return this.#slot >= 0 ? truncationWords![this.#slot] !== 0 : native.shmCheckTruncated(this.#handle);
  }

  /**
   * Compares the object's size with the mapping now (fstat) and returns `truncated`: when the
   * object shrank, the mapping is repaired and marked at once, before anything faults.
   */
  checkTruncated(): boolean {
    if (this.#closed) return this.#truncatedAtClose;
    return native.shmCheckTruncated(this.#handle);
  }

  /**
   * Detaches the buffer (every view now has length 0, so none can reach unmapped memory), unmaps
   * the segment and closes its fd. Pending futex.waitAsync calls on it reject with ERR_INVALID_STATE.
   * Does not unlink the name. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#truncatedAtClose = this.truncated;
    this.#slot = -1; // the slot is another mapping's once this one is unmapped
    this.#closed = true;
    owners.delete(this.#buffer);
    closedBuffers.add(this.#buffer);
    native.shmClose(this.#handle, this.#buffer);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal the native handle, for modules that operate on the mapping */
  static handleOf(shm: SharedMemory): Handle {
    if (shm.#closed) throw closedError('SharedMemory');
    return shm.#handle;
  }

  /** @internal Throws ERR_SHM_TRUNCATED when truncated (one load: for the mailbox hot paths). */
  static assertIntact(shm: SharedMemory): void {
    if (shm.#slot >= 0 ? truncationWords![shm.#slot] !== 0 : shm.truncated) throw truncatedError(shm.#name);
  }
}

/** @internal Finds the SharedMemory whose buffer backs `buffer`, if any. */
export function ownerOf(buffer: ArrayBufferLike): SharedMemory | undefined {
  return owners.get(buffer as ArrayBuffer);
}

/** @internal True when `buffer` belonged to a SharedMemory that is now closed. */
export function wasClosed(buffer: ArrayBufferLike): boolean {
  return closedBuffers.has(buffer as ArrayBuffer);
}

export { OutOfRangeError };
