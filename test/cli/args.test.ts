// The command line of ls, inspect, gc and rm: --help for each (exit 0), and a bad flag, a missing or
// extra argument, or an unknown command exits 2 with a message that names it. Colour: only on a
// TTY, never with NO_COLOR.
import { describe, expect, it } from 'vitest';
import { painter, wantsColour } from '../../lib/cli/format/colour';
import { cli } from '../helpers/cli';

describe('interproc command line', () => {
  it('--help of every subcommand exits 0 with its usage', async () => {
    for (const sub of ['ls', 'inspect', 'gc', 'rm']) {
      for (const flag of ['--help', '-h']) {
        const r = await cli([sub, flag]);
        expect(r.code, `${sub} ${flag}`).toBe(0);
        expect(r.stdout, sub).toMatch(new RegExp(`^interproc ${sub} `));
        expect(r.stdout, sub).toContain('--json');
      }
    }
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const sub of ['ls', 'inspect', 'gc', 'rm', 'compare']) expect(top.stdout).toMatch(new RegExp(`\\n  ${sub} `));
  });

  it('exits 2 with a clear message for a bad flag, a missing value, a wrong count of names, an unknown command', async () => {
    const cases: [string[], RegExp][] = [
      [['ls', '--bogus'], /interproc: ls: Unknown option '--bogus'[\s\S]*interproc ls --help/],
      [['gc', '--dryrun'], /Unknown option '--dryrun'/],
      [['gc', 'extra'], /gc: Unexpected argument 'extra'/],
      [['rm', '--force'], /rm: no NAME given/],
      [['rm', '/a/b'], /'\/a\/b' is not a shared-memory name/],
      [['inspect'], /inspect: give one NAME \(got 0\)/],
      [['inspect', 'a', 'b'], /inspect: give one NAME \(got 2\)/],
      [['ls', '--match'], /ls: Option '--match <value>' argument missing/],
      [['nosuch'], /unknown command 'nosuch'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout, args.join(' ')).toBe('');
    }
  });

  it('colours only a TTY, and never when NO_COLOR is set (and not empty)', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    expect(wantsColour(tty, {})).toBe(true);
    expect(wantsColour(tty, { NO_COLOR: '' })).toBe(true);
    expect(wantsColour(tty, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour(pipe, {})).toBe(false);
    expect(painter(true)('red', 'dead')).toBe('\x1b[31mdead\x1b[39m');
    expect(painter(false)('red', 'dead')).toBe('dead');
  });
});
