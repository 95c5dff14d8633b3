// Cross-process futex wait/wake on a 32-bit word of a SharedMemory mapping, shaped like Atomics.wait
// and Atomics.notify (which only work between threads of one process). Data stays plain Atomics:
// Atomics.load/store/add/compareExchange on the mapped buffer are real atomic instructions.
import { native, WAIT_OUTCOMES, type Handle, type WaitResult } from '../internal/binding';
import { abortableNative, closedError } from '../internal/errors';
import { ownerOf, SharedMemory, wasClosed } from './shared-memory';
import {
  invalidType,
  OutOfRangeError,
  validateAbortSignal,
  validateInteger,
  validateObject,
  validateOptionNames,
  validateTimeout,
} from '../internal/validate';

export type { WaitResult };

export type FutexArray = Int32Array | Uint32Array;

export interface WaitAsyncOptions {
  signal?: AbortSignal;
}

/** Views already checked: the view's SharedMemory and its byte offset (a view's buffer never changes). */
const checkedViews = new WeakMap<object, { shm: SharedMemory; byteOffset: number }>();

function locate(array: unknown, index: unknown): [Handle, number] {
  let view = checkedViews.get(array as object);
  if (view === undefined) {
    if (!(array instanceof Int32Array || array instanceof Uint32Array)) {
      throw invalidType('array', 'an instance of Int32Array or Uint32Array', array);
    }
    if (wasClosed(array.buffer)) throw closedError('SharedMemory');
    const shm = ownerOf(array.buffer);
    if (shm === undefined) throw invalidType('array', 'a view of a SharedMemory buffer', array);
    // Typed arrays over a mapping are always 4-byte aligned (the mapping is page-aligned and a
    // 32-bit view's byteOffset is a multiple of 4), so the word address is aligned.
    view = { shm, byteOffset: array.byteOffset };
    checkedViews.set(array, view);
  }
  if (view.shm.closed) throw closedError('SharedMemory');
  const length = (array as Int32Array).length;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= length) {
    validateInteger(index, 'index', 0);
    throw new OutOfRangeError(`The value of "index" is out of range. It must be < ${length}. Received ${index}`);
  }
  return [SharedMemory.handleOf(view.shm), view.byteOffset + index * 4];
}

function expectedBits(value: unknown): number {
  if (typeof value !== 'number' && typeof value !== 'bigint') throw invalidType('value', 'of type number', value);
  return Number(value) | 0;
}

/**
 * Blocks the calling thread while `array[index] === value`, until woken by futex.wake (from any
 * process) or until `timeout` ms pass. Returns 'not-equal' at once if the word differs.
 */
export function wait(array: FutexArray, index: number, value: number, timeout?: number): WaitResult {
  const [handle, offset] = locate(array, index);
  const expected = expectedBits(value);
  const code = native.futexWait(handle, offset, expected, validateTimeout(timeout, 'timeout'));
  return code === undefined ? (undefined as unknown as WaitResult) : WAIT_OUTCOMES[code];
}

/**
 * Like wait, but returns a Promise and leaves the event loop free. The sleep happens on a native
 * thread of this addon (never a libuv pool thread). Protocol note: change the word before waking,
 * as every futex protocol does; a wake that does not change the word and arrives in the instant
 * before the native thread sleeps is not seen.
 */
export function waitAsync(
  array: FutexArray,
  index: number,
  value: number,
  timeout?: number,
  options: WaitAsyncOptions = {},
): Promise<WaitResult> {
  let handle: Handle, offset: number, expected: number, ms: number | undefined, signal: AbortSignal | undefined;
  try {
    [handle, offset] = locate(array, index);
    expected = expectedBits(value);
    ms = validateTimeout(timeout, 'timeout');
    validateObject(options, 'options');
    validateOptionNames(options, 'options', ['signal']);
    const s: unknown = options.signal;
    validateAbortSignal(s, 'options.signal');
    signal = s;
  } catch (err) {
    return Promise.reject(err);
  }
  return abortableNative(signal, () => native.futexWaitAsync(handle, offset, expected, ms, array), native.blockingCancel);
}

/** Wakes up to `count` waiters (default: all) sleeping on `array[index]`, in any process. */
export function wake(array: FutexArray, index: number, count = Infinity): number {
  const [handle, offset] = locate(array, index);
  if (count !== Infinity) validateInteger(count, 'count', 0);
  return native.futexWake(handle, offset, count);
}
