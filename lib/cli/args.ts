// What every subcommand's argument parsing shares: node:util parseArgs, strict (an unknown flag or
// a missing value is a UsageError: exit 2 with the message and a pointer to --help), and --help.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot be run: main.ts prints it and exits with 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** Parses `argv` for `command`; `-h`/`--help` is added to `options`. */
export function parse(command: string, argv: string[], options: Options, allowPositionals: boolean): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h', default: false } },
      allowPositionals,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError(`${command}: ${(err as Error).message}\nSee 'interproc ${command} --help'.`);
    throw err;
  }
}

/** A shell-style pattern ('*' any run, '?' one character) over a segment name, with or without its leading '/'. */
export function globMatcher(patterns: readonly string[]): ((name: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const res = patterns.map((p) => {
    const full = p.startsWith('/') ? p : `/${p}`;
    const body = full
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${body}$`, 's');
  });
  return (name) => res.some((re) => re.test(name));
}

/** '/x' for a segment name given as 'x' or '/x'; UsageError when it cannot be one. */
export function segmentName(command: string, name: string): string {
  const full = name.startsWith('/') ? name : `/${name}`;
  if (full.length < 2 || full.indexOf('/', 1) !== -1 || full === '/.' || full === '/..')
    throw new UsageError(`${command}: '${name}' is not a shared-memory name (one '/' at most, at its start)`);
  return full;
}
