// npm run prebuildify [-- --arch arm64]: a prebuild in prebuilds/linux-<arch>/interproc.<libc>.node
// (N-API, stripped, tagged with the C library), built with this Node's headers. For another
// architecture it uses Debian's cross compiler (g++-aarch64-linux-gnu for arm64). prebuildify
// builds in build/ and moves the result away; a native build of this machine is put back, so
// `npm test` goes on using build/Release after a prebuild.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');

const root = path.join(__dirname, '..');
const { values } = parseArgs({ options: { arch: { type: 'string', default: process.arch } } });
const cross = { arm64: 'aarch64-linux-gnu', x64: 'x86_64-linux-gnu' }[values.arch];
if (cross === undefined) {
  console.error(`prebuildify: no cross compiler known for arch '${values.arch}' (known: arm64, x64)`);
  process.exit(2);
}

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const env = { ...process.env };
if (values.arch !== process.arch) {
  Object.assign(env, {
    CC: `${cross}-gcc`,
    CXX: `${cross}-g++`,
    LINK: `${cross}-g++`,
    AR: `${cross}-ar`,
    PREBUILD_STRIP_BIN: `${cross}-strip`,
  });
}
const nodedir = path.join(__dirname, 'nodedir.cjs');
run(
  process.execPath,
  [nodedir, path.join(root, 'node_modules', '.bin', 'prebuildify'), '--napi', '--strip', '--tag-libc', '--arch', values.arch],
  env,
);
const out = path.join(root, 'prebuilds', `linux-${values.arch}`);
for (const f of fs.readdirSync(out)) console.log(`prebuild: ${path.join(out, f)}`);
run(process.execPath, [path.join(__dirname, 'check-glibc.cjs'), ...fs.readdirSync(out).map((f) => path.join(out, f))]);
// Put back a build of this machine's own architecture for the tests.
run(process.execPath, [nodedir, 'node-gyp', 'rebuild']);
