// RwLock: a process-shared reader-writer lock. Writers are not starved by readers; a dead reader
// never blocks writers; a dead writer makes the next writer get an OwnerDeadError. See docs/design/sync.md.
import type { SharedMemory } from '../shm/shared-memory';
import { RWLOCK_BYTES, RWLOCK_READERS } from '../internal/contract';
import {
  ALIGNMENT,
  attachAt,
  createNamed,
  initAt,
  Kind,
  Op,
  openNamed,
  Outcome,
  type Place,
  Rel,
  timedOut,
  waitSyncOptions,
  type NamedOptions,
  type WaitOptions,
  type WaitSyncOptions,
  SyncObject,
} from './object';
import { HELD, type HeldToken, LockGuard } from './guard';
import { OwnerDeadError } from './errors';
import { validateOptionNames } from '../internal/validate';

type Mode = 'read' | 'write';

/** Proof of holding an RwLock for reading or writing; `using` (or unlock()) releases it once. */
export class RwLockGuard extends LockGuard {
  readonly rwlock: RwLock;
  readonly mode: Mode;
  /** Guards come from the lock methods and their forms. */
  constructor(token: HeldToken, rwlock: RwLock, mode: Mode, ownerDied: boolean) {
    super(token, ownerDied);
    this.rwlock = rwlock;
    this.mode = mode;
  }
  protected free(): void {
    if (this.mode === 'read') this.rwlock.unlockRead();
    else this.rwlock.unlockWrite();
  }
  protected repair(): void {
    this.rwlock.markConsistent();
  }
}

/** What differs between the read and the write forms. */
const MODES = {
  read: { op: Op.RwRead, lock: 'RwLock.lockRead', lockSync: 'RwLock.lockReadSync' },
  write: { op: Op.RwWrite, lock: 'RwLock.lockWrite', lockSync: 'RwLock.lockWriteSync' },
} as const;

export class RwLock extends SyncObject {
  /** Bytes an RwLock takes: 64 + 64 per reader slot (32 concurrently reading threads). */
  static readonly byteLength = RWLOCK_BYTES;
  static readonly alignment = ALIGNMENT;
  static readonly maxReaders = RWLOCK_READERS;

  private constructor(place: Place) {
    super(place, Kind.RwLock, 'RwLock');
  }

  static initAt(shm: SharedMemory, byteOffset: number): RwLock {
    return new RwLock(initAt(Kind.RwLock, shm, byteOffset, RwLock.byteLength));
  }

  static openAt(shm: SharedMemory, byteOffset: number): RwLock {
    return new RwLock(attachAt(Kind.RwLock, shm, byteOffset, RwLock.byteLength)[0]);
  }

  static create(name: string, options?: NamedOptions): RwLock {
    validateOptionNames(options, 'options', ['mode']);
    return new RwLock(createNamed(Kind.RwLock, name, options, RwLock.byteLength));
  }

  static open(name: string): RwLock {
    return new RwLock(openNamed(Kind.RwLock, name)[0]);
  }

  /** Reader slots in use and the writer's thread id (0 if none): a snapshot, for diagnostics. */
  get state(): { readers: number; writer: number } {
    const i = this.info();
    return { readers: i.readers, writer: i.writer };
  }

  #guard(mode: Mode, code: number): RwLockGuard {
    // Closed while the lock came: give it back (a write lock taken from a dead writer stays owner-dead).
    if (mode === 'read') this.keepOrUndo(code, Rel.RwUnlockRead);
    else this.keepOrUndo(code, Rel.RwUnlockWrite, Rel.RwAbandonWrite);
    if (code === Outcome.OwnerDeadNoLock) throw new OwnerDeadError<RwLockGuard>('RwLock', undefined);
    const guard = new RwLockGuard(HELD, this, mode, code === Outcome.OwnerDead);
    if (code === Outcome.OwnerDead) throw new OwnerDeadError<RwLockGuard>('RwLock', guard);
    return guard;
  }

  async #lock(mode: Mode, options: WaitOptions | undefined): Promise<RwLockGuard> {
    const code = this.acquireOp(MODES[mode].op, options, MODES[mode].lock);
    return this.#guard(mode, typeof code === 'number' ? code : await code);
  }

  #lockSync(mode: Mode, options: WaitSyncOptions | undefined): RwLockGuard {
    const timeout = waitSyncOptions(options);
    return this.#guard(mode, timedOut(this.waitOpSync(MODES[mode].op, timeout, 0), MODES[mode].lockSync, timeout));
  }

  #try(mode: Mode): boolean {
    const code = this.tryOp(MODES[mode].op);
    if (code === Outcome.Busy) return false;
    if (code !== Outcome.Acquired) this.#guard(mode, code); // throws OwnerDeadError
    return true; // no guard: undone by unlockRead()/unlockWrite()
  }

  /** Shared access, without blocking the event loop. Recursive in one thread. */
  async lockRead(options?: WaitOptions): Promise<RwLockGuard> {
    return this.#lock('read', options);
  }
  lockReadSync(options?: WaitSyncOptions): RwLockGuard {
    return this.#lockSync('read', options);
  }
  tryLockRead(): boolean {
    return this.#try('read');
  }
  /** Exclusive access, without blocking the event loop; new readers wait behind a waiting writer. */
  async lockWrite(options?: WaitOptions): Promise<RwLockGuard> {
    return this.#lock('write', options);
  }
  lockWriteSync(options?: WaitSyncOptions): RwLockGuard {
    return this.#lockSync('write', options);
  }
  tryLockWrite(): boolean {
    return this.#try('write');
  }
  /** EPERM unless this thread holds a read lock. */
  unlockRead(): void {
    this.releaseOp(Rel.RwUnlockRead);
  }
  /** EPERM unless this thread holds the write lock. */
  unlockWrite(): void {
    this.releaseOp(Rel.RwUnlockWrite);
  }
  /** After an OwnerDeadError on a write lock: the data is repaired. */
  markConsistent(): void {
    this.markConsistentOp();
  }
}
