// What the proofs of holding share: MutexGuard, RwLockGuard (lock guards) and SemaphorePermit give
// back what they hold once, by their method or by `using`.

declare const heldBrand: unique symbol;
/** Only the library makes guards and permits: no value of this type can be made outside it. */
export type HeldToken = { readonly [heldBrand]: true };
/** @internal The one HeldToken, passed by the lock classes to their guards' constructors. */
export const HELD = Object.freeze({}) as HeldToken;

/** Something held that is given back once: later releases (and `using` after one) do nothing. */
export abstract class Held implements Disposable {
  #released = false;
  /** Guards come from lock(), acquire() and their Sync and try forms only. */
  constructor(token: HeldToken) {
    if (token !== HELD) throw new TypeError('Illegal constructor: guards come from lock(), acquire() and their forms');
  }
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
  constructor(token: HeldToken, ownerDied: boolean) {
    super(token);
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
