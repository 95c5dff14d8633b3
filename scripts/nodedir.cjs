// Runs a command (node-gyp, prebuildify) with node-gyp pointed at the running Node's own headers
// (<prefix>/include/node) when they are installed, so that no build step downloads headers.
// npm_package_config_node_gyp_nodedir has the highest precedence in node-gyp 12 (shared
// TOOLCHAIN.md section 1). Without local headers node-gyp does its usual thing (its cache or a
// download of the headers of this Node's version).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const prefix = path.resolve(process.execPath, '..', '..');
const env = { ...process.env };
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) env.npm_package_config_node_gyp_nodedir = prefix;
const [cmd, ...args] = process.argv.slice(2);
const r = spawnSync(cmd, args, { stdio: 'inherit', env });
if (r.error) {
  console.error(r.error.message);
  process.exit(1);
}
process.exit(r.status ?? 1);
