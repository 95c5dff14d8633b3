// Where the native addon is looked for: the one set of rules that the run-time loader
// (lib/internal/binding.ts) and the install step (scripts/install.cjs) both follow, so that what
// the install accepts is what a program then loads. Both hand these options to `bindings`.
//
// In order: a local build (build/Release, build/Debug), a prebuild made by `npm run prebuildify`
// for this platform, architecture and C library (prebuilds/linux-x64/interproc.glibc.node), and,
// for programs bundled by esbuild or webpack, interproc.node next to the bundle (`bundleDir`).
'use strict';
const fs = require('node:fs');

/** 'glibc' or 'musl': the C library the running Node is linked against (its ELF interpreter says). */
function libc() {
  if (process.report?.getReport === undefined) return 'glibc';
  try {
    const fd = fs.openSync(process.execPath, 'r');
    try {
      const head = Buffer.alloc(4096);
      fs.readSync(fd, head, 0, head.length, 0);
      return head.includes('ld-musl') ? 'musl' : 'glibc';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return 'glibc';
  }
}

/**
 * Options for `bindings`: `moduleRoot` is the package folder (with build/ and prebuilds/);
 * `bundleDir` the folder of the file that loads the addon (the bundle, once bundled).
 */
function bindingsOptions(moduleRoot, bundleDir = moduleRoot) {
  return {
    bindings: 'interproc.node',
    module_root: moduleRoot,
    bundle_dir: bundleDir,
    platform_arch: `${process.platform}-${process.arch}`,
    prebuild: `interproc.${libc()}.node`,
    try: [
      ['module_root', 'build', 'Release', 'bindings'],
      ['module_root', 'build', 'Debug', 'bindings'],
      ['module_root', 'prebuilds', 'platform_arch', 'prebuild'],
      ['bundle_dir', 'bindings'],
    ],
  };
}

module.exports = { bindingsOptions, libc };
