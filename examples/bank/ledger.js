// A bank's ledger, in its own shared-memory segment, so that it outlives the bank's process: word 0
// is the opening balance, and word 1 + id holds the amount of operation `id` once the bank applied
// it (0 while not applied). Applying an operation is one Atomics.store, so a bank SIGKILLed at any
// instant has applied it wholly or not at all; the balance is the opening balance plus every
// applied amount. Operation ids are unique per transfer and leg (see clearing-house.js), which
// makes applying idempotent: a retried request finds its word set and changes nothing.
'use strict';
const { SharedMemory } = require('../../dist');

const MAX_OPS = 4096;
const BYTES = 4 * (1 + MAX_OPS);

const segmentName = (run, bank) => `/interproc-example-bank-${run}-${bank}`;

class Ledger {
  constructor(shm) {
    this.shm = shm;
    this.words = new Int32Array(shm.buffer);
  }
  static create(run, bank, opening) {
    const l = new Ledger(SharedMemory.create(segmentName(run, bank), { size: BYTES }));
    Atomics.store(l.words, 0, opening);
    return l;
  }
  static open(run, bank) {
    return new Ledger(SharedMemory.open(segmentName(run, bank)));
  }
  static unlink(run, bank) {
    SharedMemory.unlink(segmentName(run, bank));
  }
  applied(id) {
    return Atomics.load(this.words, 1 + id);
  }
  /** A copy of the ledger's words: the checks read one instant of it, not words read at different times. */
  snapshot() {
    return Int32Array.from(this.words);
  }
  balance() {
    let b = Atomics.load(this.words, 0);
    for (let i = 1; i <= MAX_OPS; i++) b += Atomics.load(this.words, i);
    return b;
  }
  /** 'ok' (applied now or before) or 'refused' (a debit larger than the balance). */
  apply(id, amount) {
    if (!Number.isInteger(id) || id < 0 || id >= MAX_OPS || !Number.isInteger(amount) || amount === 0) return 'invalid';
    if (this.applied(id) !== 0) return 'ok';
    if (amount < 0 && this.balance() + amount < 0) return 'refused';
    Atomics.store(this.words, 1 + id, amount);
    return 'ok';
  }
  close() {
    this.shm.close();
  }
}

module.exports = { Ledger, MAX_OPS };
