// The batch form for users who issue thousands of operations at once: no promise per operation,
// one promise for the lot. Operations are submitted as they are added (so they travel in the
// tick's batches, like any other call); exec() resolves with every result, in the order added.
import type { CellView } from './views';
import { OP_ADD, OP_AND, OP_COMPARE_EXCHANGE, OP_EXCHANGE, OP_LOAD, OP_OR, OP_STORE, OP_SUB, OP_XOR } from './protocol';

type Value = number | bigint;

export class Pipeline {
  readonly #results: unknown[] = [];
  #outstanding = 0;
  #error: Error | undefined;
  #finish: (() => void) | undefined;
  #executed = false;
  /** Every operation settles through these two (its slot is the tag it was submitted with): no closures per operation. */
  readonly #fill = (value: unknown, slot: number): void => {
    this.#results[slot] = value;
    if (--this.#outstanding === 0) this.#finish?.();
  };
  readonly #fail = (err: Error): void => {
    this.#error ??= err;
    if (--this.#outstanding === 0) this.#finish?.();
  };

  #cell(op: number, view: CellView<Value>, index: number, a?: Value, b?: Value): this {
    if (this.#executed) throw new TypeError('this pipeline was already executed');
    const slot = this.#results.length;
    this.#results.push(undefined);
    this.#outstanding++;
    try {
      view.submit(op, index, a, b, this.#fill, this.#fail, slot);
    } catch (err) {
      // The argument was bad: nothing was submitted; take the slot back and throw.
      this.#results.pop();
      this.#outstanding--;
      throw err;
    }
    return this;
  }

  get length(): number {
    return this.#results.length;
  }

  load<V extends Value>(view: CellView<V>, index: number): this {
    return this.#cell(OP_LOAD, view, index);
  }
  store<V extends Value>(view: CellView<V>, index: number, value: V): this {
    return this.#cell(OP_STORE, view, index, value);
  }
  add<V extends Value>(view: CellView<V>, index: number, value: V): this {
    return this.#cell(OP_ADD, view, index, value);
  }
  sub<V extends Value>(view: CellView<V>, index: number, value: V): this {
    return this.#cell(OP_SUB, view, index, value);
  }
  and<V extends Value>(view: CellView<V>, index: number, value: V): this {
    return this.#cell(OP_AND, view, index, value);
  }
  or<V extends Value>(view: CellView<V>, index: number, value: V): this {
    return this.#cell(OP_OR, view, index, value);
  }
  xor<V extends Value>(view: CellView<V>, index: number, value: V): this {
    return this.#cell(OP_XOR, view, index, value);
  }
  exchange<V extends Value>(view: CellView<V>, index: number, value: V): this {
    return this.#cell(OP_EXCHANGE, view, index, value);
  }
  compareExchange<V extends Value>(view: CellView<V>, index: number, expected: V, replacement: V): this {
    return this.#cell(OP_COMPARE_EXCHANGE, view, index, expected, replacement);
  }

  /**
   * Resolves with every result in the order added, once all are in; rejects with the first error
   * (after all have settled: the others did take effect or fail on their own).
   */
  exec(): Promise<unknown[]> {
    this.#executed = true;
    return new Promise((resolve, reject) => {
      this.#finish = () => (this.#error !== undefined ? reject(this.#error) : resolve(this.#results));
      if (this.#outstanding === 0) this.#finish();
    });
  }
}
