// Where the addon is found (scripts/addon-search.cjs: the same rules at install and at run time),
// what the install step does with what it finds, and whether a build stays loadable on glibc 2.28.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const built = path.join(root, 'build', 'Release', 'interproc.node');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A package folder with dist/, scripts/ and node_modules/, and no addon in it yet. */
function fakePackage(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-loader-'));
  dirs.push(dir);
  cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  mkdirSync(path.join(dir, 'scripts'));
  for (const f of ['addon-search.cjs', 'install.cjs', 'nodedir.cjs'])
    cpSync(path.join(root, 'scripts', f), path.join(dir, 'scripts', f));
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'interproc', version: '0.0.0' }));
  return dir;
}

/** Which .node file a fresh process loads when it requires `entry` (and uses the addon). */
function loadedAddon(entry: string): string {
  const script = `
    const { SharedMemory } = require(${JSON.stringify(entry)});
    const s = SharedMemory.anonymous({ size: 4096 }); s.close();
    console.log(Object.keys(require.cache).find((k) => k.endsWith('.node')));`;
  return execFileSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, INTERPROC_NATIVE: '' },
  }).trim();
}

describe('addon loader', () => {
  it('loads a local build first, else the prebuild for this platform and libc (prebuildify --tag-libc names)', () => {
    const dir = fakePackage();
    const prebuild = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'interproc.glibc.node');
    mkdirSync(path.dirname(prebuild), { recursive: true });
    cpSync(built, prebuild);
    // A musl prebuild beside it is never taken on glibc.
    writeFileSync(path.join(path.dirname(prebuild), 'interproc.musl.node'), 'not an ELF file');
    expect(loadedAddon(path.join(dir, 'dist'))).toBe(prebuild);

    const local = path.join(dir, 'build', 'Release', 'interproc.node');
    mkdirSync(path.dirname(local), { recursive: true });
    cpSync(built, local);
    expect(loadedAddon(path.join(dir, 'dist'))).toBe(local);
  });

  it('the install step keeps an addon the loader finds and that loads, and builds when there is none', () => {
    const dir = fakePackage();
    const prebuild = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'interproc.glibc.node');
    mkdirSync(path.dirname(prebuild), { recursive: true });
    cpSync(built, prebuild);
    const kept = spawnSync(process.execPath, [path.join(dir, 'scripts', 'install.cjs')], { cwd: dir, encoding: 'utf8' });
    expect(kept.status).toBe(0);
    expect(existsSync(path.join(dir, 'build'))).toBe(false); // nothing was built

    // A prebuild that does not load (a file of another architecture, here garbage) is not accepted:
    // the install falls back to a build from source, which fails here (no sources in this folder).
    writeFileSync(prebuild, 'not an ELF file');
    const rebuilt = spawnSync(process.execPath, [path.join(dir, 'scripts', 'install.cjs')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` },
    });
    expect(rebuilt.status).not.toBe(0);
    expect(`${rebuilt.stdout}${rebuilt.stderr}`).toMatch(/binding\.gyp|node-gyp|ENOENT/);
  });

  it('finds interproc.node next to an esbuild bundle', async () => {
    const esbuild = await import('esbuild');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-bundle-'));
    dirs.push(dir);
    const app = path.join(dir, 'app.js');
    writeFileSync(app, `module.exports = require(${JSON.stringify(path.join(root, 'dist'))});\n`);
    const out = path.join(dir, 'out');
    await esbuild.build({
      entryPoints: [app],
      bundle: true,
      platform: 'node',
      outfile: path.join(out, 'bundle.js'),
      logLevel: 'silent',
    });
    cpSync(built, path.join(out, 'interproc.node'));
    // Only the bundle and the addon: the package folder is gone from the picture.
    expect(loadedAddon(path.join(out, 'bundle.js'))).toBe(path.join(out, 'interproc.node'));
  });
  it('finds interproc.node next to a webpack bundle', async () => {
    const { default: webpack } = await import('webpack');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-webpack-'));
    dirs.push(dir);
    const app = path.join(dir, 'app.js');
    writeFileSync(app, `module.exports = require(${JSON.stringify(path.join(root, 'dist'))});\n`);
    const out = path.join(dir, 'out');
    // The configuration docs/install.md gives: a Node target, and __dirname left to mean the bundle's folder.
    const stats = await new Promise<import('webpack').Stats | undefined>((resolve, reject) =>
      webpack(
        {
          mode: 'production',
          target: 'node',
          node: { __dirname: false },
          entry: app,
          output: { path: out, filename: 'bundle.js', library: { type: 'commonjs2' } },
          infrastructureLogging: { level: 'none' },
        },
        (err, s) => (err ? reject(err) : resolve(s)),
      ),
    );
    expect(stats?.hasErrors()).toBe(false);
    cpSync(built, path.join(out, 'interproc.node'));
    expect(loadedAddon(path.join(out, 'bundle.js'))).toBe(path.join(out, 'interproc.node'));
  });
});

describe('glibc symbol versions', () => {
  it('the build needs at most GLIBC 2.28 (the prebuilds promise 2.28 and newer)', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'check-glibc.cjs'), built], { encoding: 'utf8' });
    expect(r.stdout).toContain('ok');
    expect(r.status).toBe(0);
  });

  it('the check fails a file that needs a newer glibc than allowed', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'check-glibc.cjs'), built, '--max', '2.17'], {
      encoding: 'utf8',
    });
    expect(r.stdout).toContain('TOO NEW');
    expect(r.status).toBe(1);
  });
});
