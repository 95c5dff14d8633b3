import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');

// Which .node file a fresh process loads from a package laid out in `dir`.
function loadedAddon(dir: string): string {
  const script = `
    const { SharedMemory } = require(${JSON.stringify(path.join(dir, 'dist'))});
    const s = SharedMemory.anonymous({ size: 4096 }); s.close();
    console.log(Object.keys(require.cache).find((k) => k.endsWith('.node')));`;
  return execFileSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, INTERPROC_NATIVE: '' },
  }).trim();
}

describe('addon loader', () => {
  it('loads a local build first, and a prebuild (prebuilds/<platform>-<arch>/) when there is no build', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-loader-'));
    try {
      cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
      symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'interproc', version: '0.0.0' }));
      const prebuildDir = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
      mkdirSync(prebuildDir, { recursive: true });
      cpSync(path.join(root, 'build', 'Release', 'interproc.node'), path.join(prebuildDir, 'interproc.node'));
      expect(loadedAddon(dir)).toBe(path.join(prebuildDir, 'interproc.node'));

      const buildDir = path.join(dir, 'build', 'Release');
      mkdirSync(buildDir, { recursive: true });
      cpSync(path.join(root, 'build', 'Release', 'interproc.node'), path.join(buildDir, 'interproc.node'));
      expect(loadedAddon(dir)).toBe(path.join(buildDir, 'interproc.node'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
