// vitest globalSetup: compiles lib/ to dist/ before any test file runs, so that the child fixtures
// (test/<part>/fixtures/*.cjs, which plain `node` runs and so cannot import TypeScript) load the same
// code as the tests, which vitest runs from lib/ directly. dist/ is emptied first: a module removed
// or moved in lib/ must not live on in dist/ for a fixture to find. The hash of lib/'s sources goes
// into dist/.lib-hash, which test/internal/dist.test.ts compares with lib/ as the run sees it.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { libHash } from './lib-hash.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default function setup(): void {
  const tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  try {
    // Without LD_PRELOAD: under npm run test:asan the sanitizer runtimes are meant for node, not for tsc.
    const { LD_PRELOAD: _, ...env } = process.env;
    execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { cwd: root, env, stdio: 'pipe' });
  } catch (err) {
    const out = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`tsc -p . failed, so dist/ may not match lib/:\n${out.stdout ?? ''}${out.stderr ?? ''}`);
  }
  writeFileSync(path.join(root, 'dist', '.lib-hash'), `${libHash(root)}\n`);
}
