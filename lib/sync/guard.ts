// What the proofs of holding share: MutexGuard, RwLockGuard (lock guards) and SemaphorePermit give
// back what they hold once, by their method or by `using`.

/** Something held that is given back once: later releases (and `using` after one) do nothing. */
export abstract class Held implements Disposable {
  #released = false;
  get released(): boolean {
    return this.#released;
  }
  /** Gives back what is held: called once. */
  protected abstract free(): void;
  protected releaseOnce(): void {
    if (this.#released) return;
    this.#released = true;
    this.free();
  }
  [Symbol.dispose](): void {
    this.releaseOnce();
  }
}

/** A held lock that may have been taken from a holder that died (Mutex, RwLock). */
export abstract class LockGuard extends Held {
  /** True when this acquisition found the previous owner dead (until markConsistent()). */
  ownerDied: boolean;
  /** @internal */
  constructor(ownerDied: boolean) {
    super();
    this.ownerDied = ownerDied;
  }
  /** The lock's markConsistent(). */
  protected abstract repair(): void;
  /** Marks the protected data repaired after an owner death. */
  markConsistent(): void {
    this.repair();
    this.ownerDied = false;
  }
  /** Unlocks; later calls do nothing. */
  unlock(): void {
    this.releaseOnce();
  }
}
