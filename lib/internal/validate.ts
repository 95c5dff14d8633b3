// Argument checks that throw Node-style TypeError/RangeError naming the argument.

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `type string ('${value.length > 28 ? `${value.slice(0, 25)}...` : value}')`;
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `type ${typeof value} (${String(value)})`;
}

export class ArgTypeError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_TYPE';
}
export class ArgValueError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
}
export class OutOfRangeError extends RangeError {
  readonly code = 'ERR_OUT_OF_RANGE';
}

export function invalidType(name: string, expected: string, value: unknown): ArgTypeError {
  return new ArgTypeError(`The "${name}" argument must be ${expected}. Received ${describe(value)}`);
}

export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidType(name, 'of type object', value);
}

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidType(name, 'of type string', value);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidType(name, 'of type boolean', value);
}

export function validateInteger(
  value: unknown,
  name: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
  if (!Number.isInteger(value))
    throw new OutOfRangeError(`The value of "${name}" is out of range. It must be an integer. Received ${value}`);
  if (value < min || value > max) {
    throw new OutOfRangeError(`The value of "${name}" is out of range. It must be >= ${min} && <= ${max}. Received ${value}`);
  }
}

/** A timeout in milliseconds: undefined or Infinity means none; must otherwise be a number >= 0. */
export function validateTimeout(value: unknown, name: string): number | undefined {
  if (value === undefined || value === Infinity) return undefined;
  if (typeof value !== 'number') throw invalidType(name, 'of type number', value);
  // NaN is a number out of range, as Node's validators and the binding's guard (args.hpp) say
  if (!(value >= 0)) throw new OutOfRangeError(`The value of "${name}" is out of range. It must be >= 0. Received ${value}`);
  return value;
}

export function validateAbortSignal(value: unknown, name: string): asserts value is AbortSignal | undefined {
  if (value !== undefined && (value === null || typeof value !== 'object' || !('aborted' in value))) {
    throw invalidType(name, 'an instance of AbortSignal', value);
  }
}

/**
 * Refuses an options object that has properties the call does not take (a misspelt option would
 * otherwise be ignored in silence): ERR_INVALID_ARG_VALUE naming each, and the ones it takes. Own
 * enumerable string keys only, so an options object built from a class or with symbols is fine.
 * One list of known names per call; the options types say the same.
 */
export function validateOptionNames(options: unknown, name: string, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') return; // not an object: the type check's error, not this one
  let unknown: string[] | undefined;
  for (const key in options) if (Object.hasOwn(options, key) && !known.includes(key)) (unknown ??= []).push(key);
  if (unknown === undefined) return;
  const listed = unknown.map((k) => `'${k}'`).join(', ');
  throw new ArgValueError(
    `The argument '${name}' has ${unknown.length === 1 ? 'an unknown property' : 'unknown properties'} ${listed}; ` +
      `it takes ${known.length === 0 ? 'none' : known.map((k) => `'${k}'`).join(', ')}`,
  );
}
