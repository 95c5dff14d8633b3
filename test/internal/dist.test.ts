// The child fixtures load dist/ while the tests load lib/: this fails when the two differ, for
// example when the globalSetup that compiles lib/ (test/helpers/build-dist.mts) is taken out of
// vitest.config.mts, a module lives on in dist/ after it left lib/, or lib/ changed during the run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { libHash, libSources } from '../helpers/lib-hash.mjs';

const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist');

describe('dist/ is lib/ compiled', () => {
  it('was compiled from lib/ as it is now', () => {
    expect(existsSync(path.join(dist, '.lib-hash'))).toBe(true);
    expect(readFileSync(path.join(dist, '.lib-hash'), 'utf8').trim()).toBe(libHash(root));
  });

  it('holds one .js per lib/ module and nothing else', () => {
    const expected = libSources(root).map((f) => f.replace(/\.ts$/, '.js'));
    const actual = readdirSync(dist, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.split(path.sep).join('/'))
      .sort();
    expect(actual).toEqual(expected);
  });
});
