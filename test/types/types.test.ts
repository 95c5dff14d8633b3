// The types catch mistakes: test/types/fixtures/consumer.ts is compiled with tsc, as a user's strict
// program, against the .d.ts files the build emits (dist/, fresh from vitest's global setup), with no
// "types" of its own. Each of its expect-error directives must meet an error (an unused one fails
// the compile): misspelt event names of Channel and Server, a v8 channel's values taken for Buffers,
// an untyped OwnerDeadError guard, misspelt options. And Node's types must come with the package.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

it('a strict program with the mistakes a user makes: each one is a compile error, and nothing else is', () => {
  let out = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'fixtures')], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout || err);
  }
  expect(out).toBe('');
}, 120_000);
