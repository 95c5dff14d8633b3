// The package as a user gets it: `npm pack`, unpacked into node_modules/ of a new project, then
// - a small strict TypeScript program (CommonJS and ESM) compiles against the packed .d.ts files,
//   and fails to compile if an @internal member or a deep import reaches the public types;
// - require('interproc') and import('interproc') both load it, with the same names, and a deep
//   require is refused by the exports map.
// No network: `npm install --offline` of the tarball needs the registry's metadata of its three
// dependencies, which npm ci never caches (it fetches by the lockfile's integrity), so the tarball
// is unpacked the way npm lays it out, its dependencies are linked from this checkout's
// node_modules/, and the addon this checkout built is copied in (the install script is not run).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let dir: string;
let project: string;
let installed: string;
let packed: string[];

// npm_* variables from an enclosing `npm test` would configure the npm run here.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const npm = (args: string[], cwd: string): string => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd);

// What a user writes. Every @ts-expect-error is a check: if the line compiles, the error is unused
// and tsc fails.
const program = `
import { Channel, Mutex, MutexGuard, SemaphorePermit, SharedMemory, TimeoutError, futex, type WaitResult } from 'interproc';
// @ts-expect-error a module inside the package is not part of its API (exports map)
import { native } from 'interproc/dist/internal/binding';

export function use(shm: SharedMemory): WaitResult {
  const view = new Int32Array(shm.buffer);
  const size: number = shm.size;
  const name: string | null = shm.name;
  const timedOut = (e: unknown): e is Error => e instanceof TimeoutError;
  void size, name, timedOut, native, Mutex.create;
  // @ts-expect-error internal (stripped from the .d.ts): the native handle
  SharedMemory.handleOf(shm);
  // @ts-expect-error internal (stripped from the .d.ts): publish-after-init
  SharedMemory.createInitialized('/x', { size: 64 }, () => {});
  // @ts-expect-error guards come from lock() and its forms: no constructor a user can call
  new MutexGuard();
  // @ts-expect-error not even with the right-looking arguments (the first is a token only the library has)
  new SemaphorePermit({}, {} as never);
  // @ts-expect-error channels come from connect() and servers only
  new Channel(Symbol('x'), {} as never);
  const onMessage = (ch: Channel) => ch.on('message', (m) => m.data.byteLength);
  // @ts-expect-error 'message' listeners get a Message, not a string
  const wrong = (ch: Channel) => ch.on('message', (m: string) => m);
  void onMessage, wrong;
  return futex.wait(view, 0, 0, 0);
}
`;
const esm = `
import { SharedMemory, futex } from 'interproc';
export const segment = (): SharedMemory => SharedMemory.anonymous({ size: 4096 });
export const wake = (shm: SharedMemory): number => futex.wake(new Int32Array(shm.buffer), 0, 1);
`;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'interproc-pack-'));
  npm(['pack', '--ignore-scripts', '--pack-destination', dir], root);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  project = path.join(dir, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  installed = path.join(project, 'node_modules', 'interproc');
  mkdirSync(installed, { recursive: true });
  packed = run('tar', ['-tzf', path.join(dir, tarball)], project)
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  run('tar', ['-xzf', path.join(dir, tarball), '-C', installed, '--strip-components=1'], project);
  const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    symlinkSync(path.join(root, 'node_modules', dep), path.join(project, 'node_modules', dep), 'dir');
  }
  const release = path.join(installed, 'build', 'Release');
  mkdirSync(release, { recursive: true });
  copyFileSync(path.join(root, 'build', 'Release', 'interproc.node'), path.join(release, 'interproc.node'));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships only the public types, and a strict program compiles against them', () => {
    writeFileSync(path.join(project, 'program.ts'), program);
    writeFileSync(path.join(project, 'esm.mts'), esm);
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(root, 'node_modules', '@types')],
        },
        files: ['program.ts', 'esm.mts'],
      }),
    );
    let out = '';
    try {
      run(process.execPath, [tsc, '-p', '.'], project);
    } catch (err) {
      out = String((err as { stdout?: string }).stdout ?? err);
    }
    expect(out).toBe('');
  });

  it('loads through require() and import(), with the same names, and refuses deep requires', () => {
    const check = `
      const cjs = require('interproc');
      import('interproc').then((esm) => {
        const names = Object.keys(cjs).filter((k) => k !== '__esModule').sort();
        const missing = names.filter((k) => esm[k] !== cjs[k]);
        let deep = 'loaded';
        try { require('interproc/dist/internal/binding'); } catch (e) { deep = e.code; }
        const shm = cjs.SharedMemory.anonymous({ size: 4096 });
        const size = shm.size;
        shm.close();
        console.log(JSON.stringify({ names, missing, deep, size }));
      });
    `;
    const r = JSON.parse(run(process.execPath, ['-e', check], project));
    expect(r.names).toEqual(expect.arrayContaining(['Mailbox', 'Mutex', 'SharedMemory', 'futex', 'listen']));
    expect(r.names).not.toContain('native');
    expect(r.missing).toEqual([]);
    expect(r.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(r.size).toBe(4096);
  });
});

describe('the packed file list', () => {
  it('holds the licence, the docs the README points to, the sources the addon builds from, and the compiled API', () => {
    for (const f of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'binding.gyp', 'CMakeLists.txt']) {
      expect(packed).toContain(f);
    }
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'scripts/install.cjs', 'docs/api.md']) {
      expect(packed).toContain(f);
    }
    expect(packed.some((f) => f.startsWith('native/core/') && f.endsWith('.cpp'))).toBe(true);
    expect(packed.some((f) => f.startsWith('native/binding/') && f.endsWith('.cc'))).toBe(true);
    const readme = readFileSync(path.join(installed, 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/(?:\]\(|`)(docs\/[^)`#\s]+\.md)/g)].map((m) => m[1]);
    expect(linked.length).toBeGreaterThan(3);
    expect(linked.filter((f) => !packed.includes(f))).toEqual([]);
  });

  it('ships no tests, benches, shell scripts, TypeScript sources or CI files', () => {
    const unwanted = packed.filter(
      (f) =>
        /^(test|bench|lib|\.ci|native\/test|native\/bench)\//.test(f) ||
        /\.(sh|test\.ts)$/.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
        f.startsWith('examples/') !== f.startsWith('examples/counter/') ||
        /(^|\/)(node_modules|build)\//.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  it('ships source maps only with their sources inside, pointing at no unshipped file', () => {
    const maps = packed.filter((f) => f.endsWith('.map'));
    const broken = maps.filter((f) => {
      const map = JSON.parse(readFileSync(path.join(installed, f), 'utf8'));
      return (
        !Array.isArray(map.sourcesContent) ||
        map.sourcesContent.length !== map.sources.length ||
        map.sourcesContent.some((s: unknown) => typeof s !== 'string')
      );
    });
    expect(broken).toEqual([]);
    const js = packed.filter((f) => f.endsWith('.js') && f.startsWith('dist/'));
    const dangling = js.filter((f) => {
      const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(path.join(installed, f), 'utf8'));
      return ref !== null && !packed.includes(path.posix.join(path.posix.dirname(f), ref[1]));
    });
    expect(dangling).toEqual([]);
  });

  it('names its licence, repository, homepage and issue tracker', () => {
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect(manifest.license).toBe('MIT');
    expect(readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(manifest.repository?.url).toMatch(/^git\+https:\/\//);
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.bugs?.url).toMatch(/^https:\/\//);
  });
});
