// RwLock: a process-shared reader-writer lock. Writers are not starved by readers; a dead reader
// never blocks writers; a dead writer makes the next writer get an OwnerDeadError. See docs/design.md.
import { native } from '../internal/binding';
import { SharedMemory } from '../shm/shared-memory';
import {
  acquireAsync, ALIGNMENT, createNamed, Kind, Op, openNamed, Outcome, Place, placement, Rel, waitOptions, waitSyncOptions,
  RWLOCK_BYTES, RWLOCK_READERS,
  type NamedOptions, type WaitOptions, type WaitSyncOptions,
  SyncObject,
} from './object';
import { OwnerDeadError, TimeoutError } from './errors';

/** Proof of holding an RwLock for reading or writing; `using` (or unlock()) releases it once. */
export class RwLockGuard implements Disposable {
  readonly rwlock: RwLock;
  readonly mode: 'read' | 'write';
  ownerDied: boolean;
  #released = false;
  /** @internal */
  constructor(rwlock: RwLock, mode: 'read' | 'write', ownerDied: boolean) {
    this.rwlock = rwlock;
    this.mode = mode;
    this.ownerDied = ownerDied;
  }
  get released(): boolean {
    return this.#released;
  }
  markConsistent(): void {
    this.rwlock.markConsistent();
    this.ownerDied = false;
  }
  unlock(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.mode === 'read') this.rwlock.unlockRead();
    else this.rwlock.unlockWrite();
  }
  [Symbol.dispose](): void {
    this.unlock();
  }
}

export class RwLock extends SyncObject {
  /** Bytes an RwLock takes: 64 + 64 per reader slot (32 concurrently reading threads). */
  static readonly byteLength = RWLOCK_BYTES;
  static readonly alignment = ALIGNMENT;
  static readonly maxReaders = RWLOCK_READERS;

  private constructor(place: Place) {
    super(place);
  }

  static initAt(shm: SharedMemory, byteOffset: number): RwLock {
    const [s, off] = placement(shm, byteOffset, RwLock.byteLength);
    native.syncInit(Kind.RwLock, SharedMemory.handleOf(s), off, 0);
    return RwLock.openAt(s, off);
  }

  static openAt(shm: SharedMemory, byteOffset: number): RwLock {
    const [s, off] = placement(shm, byteOffset, RwLock.byteLength);
    native.syncAttach(Kind.RwLock, SharedMemory.handleOf(s), off);
    return new RwLock(new Place(s, off, false));
  }

  static create(name: string, options?: NamedOptions): RwLock {
    return new RwLock(createNamed(name, options, RwLock.byteLength, (p) => {
      native.syncInit(Kind.RwLock, p.handle('RwLock'), 0, 0);
      native.syncAttach(Kind.RwLock, p.handle('RwLock'), 0);
    }));
  }

  static open(name: string): RwLock {
    return new RwLock(openNamed(name, (p) => native.syncAttach(Kind.RwLock, p.handle('RwLock'), 0)));
  }

  /** Reader slots in use and the writer's thread id (0 if none): a snapshot, for diagnostics. */
  get state(): { readers: number; writer: number } {
    const i = native.syncInfo(Kind.RwLock, this.place.handle('RwLock'), this.place.offset);
    return { readers: i.readers, writer: i.writer };
  }

  #guard(mode: 'read' | 'write', code: number): RwLockGuard {
    if (code === Outcome.OwnerDeadNoLock) throw new OwnerDeadError<RwLockGuard>('RwLock', undefined);
    const guard = new RwLockGuard(this, mode, code === Outcome.OwnerDead);
    if (code === Outcome.OwnerDead) throw new OwnerDeadError<RwLockGuard>('RwLock', guard);
    return guard;
  }

  #async(op: Op, mode: 'read' | 'write', options: WaitOptions | undefined): Promise<RwLockGuard> {
    const { timeout, signal } = waitOptions(options);
    const handle = this.place.handle('RwLock');
    if (!signal?.aborted) {
      // Free: take it on this thread at once (no native promise, no waiter thread).
      const now = native.syncTry(op, handle, this.place.offset);
      if (now !== Outcome.Busy) return Promise.resolve().then(() => this.#guard(mode, now));
    }
    return acquireAsync(op, handle, this.place.offset, timeout, 0, signal, this).then((code) => {
      if (code === Outcome.TimedOut) throw new TimeoutError(`RwLock.${op === Op.RwRead ? 'lockRead' : 'lockWrite'}`, timeout);
      return this.#guard(mode, code);
    });
  }

  #sync(op: Op, mode: 'read' | 'write', options: WaitSyncOptions | undefined): RwLockGuard {
    const timeout = waitSyncOptions(options);
    const code = native.syncAcquireSync(op, this.place.handle('RwLock'), this.place.offset, timeout, 0);
    if (code === Outcome.TimedOut) throw new TimeoutError(`RwLock.${op === Op.RwRead ? 'lockReadSync' : 'lockWriteSync'}`, timeout);
    return this.#guard(mode, code);
  }

  #try(op: Op, mode: 'read' | 'write'): boolean {
    const code = native.syncTry(op, this.place.handle('RwLock'), this.place.offset);
    if (code === Outcome.Busy) return false;
    this.#guard(mode, code);
    return true;
  }

  /** Shared access, without blocking the event loop. Recursive in one thread. */
  async lockRead(options?: WaitOptions): Promise<RwLockGuard> {
    return this.#async(Op.RwRead, 'read', options);
  }
  lockReadSync(options?: WaitSyncOptions): RwLockGuard {
    return this.#sync(Op.RwRead, 'read', options);
  }
  tryLockRead(): boolean {
    return this.#try(Op.RwRead, 'read');
  }
  /** Exclusive access, without blocking the event loop; new readers wait behind a waiting writer. */
  async lockWrite(options?: WaitOptions): Promise<RwLockGuard> {
    return this.#async(Op.RwWrite, 'write', options);
  }
  lockWriteSync(options?: WaitSyncOptions): RwLockGuard {
    return this.#sync(Op.RwWrite, 'write', options);
  }
  tryLockWrite(): boolean {
    return this.#try(Op.RwWrite, 'write');
  }
  /** EPERM unless this thread holds a read lock. */
  unlockRead(): void {
    native.syncRelease(Rel.RwUnlockRead, this.place.handle('RwLock'), this.place.offset);
  }
  /** EPERM unless this thread holds the write lock. */
  unlockWrite(): void {
    native.syncRelease(Rel.RwUnlockWrite, this.place.handle('RwLock'), this.place.offset);
  }
  /** After an OwnerDeadError on a write lock: the data is repaired. */
  markConsistent(): void {
    native.syncMarkConsistent(Kind.RwLock, this.place.handle('RwLock'), this.place.offset);
  }

}
