// Typed views over the store whose methods mirror Atomics on an Int32Array / BigInt64Array:
// `Atomics.add(i32, i, v)` becomes `await view.add(i, v)`. Each call is one operation at the owner
// of the cell's block (linearizable per cell); calls made together travel together.
import { invalidType, OutOfRangeError } from '../internal/validate';
import type { Client, OnError, OnValue } from './client';
import {
  OP_ADD,
  OP_AND,
  OP_COMPARE_EXCHANGE,
  OP_EXCHANGE,
  OP_LOAD,
  OP_OR,
  OP_STORE,
  OP_SUB,
  OP_XOR,
  type WaitResult,
} from './protocol';

export type { WaitResult };

/** What both views share: bounds, coercion of values (as Atomics does), and the submission of one op. */
abstract class CellView<V extends number | bigint> {
  /** Offset of cell 0 in the store, in bytes. */
  readonly byteOffset: number;
  /** Number of cells. */
  readonly length: number;
  /** 4 or 8. */
  abstract readonly BYTES_PER_ELEMENT: number;
  /** @internal */
  readonly client: Client;

  constructor(client: Client, byteOffset: number, length: number) {
    this.client = client;
    this.byteOffset = byteOffset;
    this.length = length;
  }

  /** @internal Coerces a value as Atomics does (ToInt32 / ToBigInt64); throws TypeError for the wrong type. */
  abstract coerce(value: unknown, name: string): V;

  /** @internal The store address of cell `index`; throws for an index outside the view. */
  address(index: unknown): number {
    if (typeof index !== 'number') throw invalidType('index', 'of type number', index);
    if (!Number.isInteger(index) || index < 0 || index >= this.length)
      throw new OutOfRangeError(`The value of "index" is out of range. It must be >= 0 && < ${this.length}. Received ${index}`);
    return this.byteOffset + index * this.BYTES_PER_ELEMENT;
  }

  /** @internal Submits one operation; throws for bad arguments (the promise forms turn that into a rejection). */
  submit(op: number, index: unknown, a: unknown, b: unknown, resolve: OnValue, reject: OnError, tag = 0): void {
    const address = this.address(index);
    const zero = (this.BYTES_PER_ELEMENT === 4 ? 0 : 0n) as V;
    const va = op === OP_LOAD ? zero : this.coerce(a, op === OP_COMPARE_EXCHANGE ? 'expected' : 'value');
    const vb = op === OP_COMPARE_EXCHANGE ? this.coerce(b, 'replacement') : zero;
    this.client.cell(op, address, this.BYTES_PER_ELEMENT, va, vb, resolve, reject, tag);
  }

  #op(op: number, index: unknown, a?: unknown, b?: unknown): Promise<V> {
    return new Promise((resolve, reject) => {
      try {
        this.submit(op, index, a, b, resolve, reject);
      } catch (err) {
        reject(err);
      }
    });
  }

  load(index: number): Promise<V> {
    return this.#op(OP_LOAD, index);
  }
  /** Resolves with the value stored (coerced to the cell's type). */
  store(index: number, value: V): Promise<V> {
    return this.#op(OP_STORE, index, value);
  }
  /** The rest resolve with the cell's previous value, as Atomics does. */
  add(index: number, value: V): Promise<V> {
    return this.#op(OP_ADD, index, value);
  }
  sub(index: number, value: V): Promise<V> {
    return this.#op(OP_SUB, index, value);
  }
  and(index: number, value: V): Promise<V> {
    return this.#op(OP_AND, index, value);
  }
  or(index: number, value: V): Promise<V> {
    return this.#op(OP_OR, index, value);
  }
  xor(index: number, value: V): Promise<V> {
    return this.#op(OP_XOR, index, value);
  }
  exchange(index: number, value: V): Promise<V> {
    return this.#op(OP_EXCHANGE, index, value);
  }
  compareExchange(index: number, expected: V, replacement: V): Promise<V> {
    return this.#op(OP_COMPARE_EXCHANGE, index, expected, replacement);
  }

  /**
   * Waits at the owner while the cell holds `value`: 'not-equal' at once if it does not, 'ok' when a
   * notify() wakes this wait, 'timed-out' after `timeout` ms (default: no limit). Like
   * Atomics.waitAsync, but the promise is the result (no { async, value } wrapper).
   */
  waitAsync(index: number, value: V, timeout?: number): Promise<WaitResult> {
    return new Promise((resolve, reject) => {
      try {
        const address = this.address(index);
        const expected = this.coerce(value, 'value');
        let t: number | undefined;
        if (timeout !== undefined && timeout !== Number.POSITIVE_INFINITY) {
          if (typeof timeout !== 'number') throw invalidType('timeout', 'of type number', timeout);
          t = Number.isNaN(timeout) ? undefined : Math.max(0, timeout);
        }
        this.client.wait(address, this.BYTES_PER_ELEMENT, expected, t, resolve, reject);
      } catch (err) {
        reject(err);
      }
    });
  }

  /** Wakes up to `count` waiters of the cell (default: all), oldest first; resolves with how many woke. */
  notify(index: number, count?: number): Promise<number> {
    return new Promise((resolve, reject) => {
      try {
        const address = this.address(index);
        let n = Number.POSITIVE_INFINITY;
        if (count !== undefined && count !== Number.POSITIVE_INFINITY) {
          if (typeof count !== 'number') throw invalidType('count', 'of type number', count);
          n = Number.isNaN(count) ? 0 : Math.max(0, Math.trunc(count));
        }
        this.client.notify(address, this.BYTES_PER_ELEMENT, n, resolve, reject);
      } catch (err) {
        reject(err);
      }
    });
  }
}

/** 32-bit signed cells (an Int32Array's Atomics). */
export class Int32View extends CellView<number> {
  get BYTES_PER_ELEMENT(): number {
    return 4;
  }
  /** @internal */
  coerce(value: unknown, name: string): number {
    if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
    return value | 0;
  }
}

/** 64-bit signed cells (a BigInt64Array's Atomics). */
export class BigInt64View extends CellView<bigint> {
  get BYTES_PER_ELEMENT(): number {
    return 8;
  }
  /** @internal */
  coerce(value: unknown, name: string): bigint {
    if (typeof value !== 'bigint') throw invalidType(name, 'of type bigint', value);
    return BigInt.asIntN(64, value);
  }
}

export type { CellView };
