// Runs a command with node-gyp pointed at the running Node's own headers (<prefix>/include/node),
// so no build step ever downloads headers. npm_package_config_node_gyp_nodedir has the highest
// precedence in node-gyp 12 (see shared TOOLCHAIN.md section 1).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const env = { ...process.env, npm_package_config_node_gyp_nodedir: path.resolve(process.execPath, '..', '..') };
const [cmd, ...args] = process.argv.slice(2);
const r = spawnSync(cmd, args, { stdio: 'inherit', env });
if (r.error) {
  console.error(r.error.message);
  process.exit(1);
}
process.exit(r.status ?? 1);
