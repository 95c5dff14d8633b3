// The package's install step: use the addon the run-time loader would load (a local build or a
// prebuild for this platform, architecture and libc; scripts/addon-search.cjs), after checking that
// it loads in this Node; build it from source (node-gyp, offline with this Node's headers) only
// when there is none or it does not load. `bindings` decides both times, so install and run agree.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { bindingsOptions } = require('./addon-search.cjs');

const root = path.join(__dirname, '..');

function usable() {
  try {
    const addon = require('bindings')(bindingsOptions(root));
    return typeof addon.shmAnonymous === 'function';
  } catch {
    return false;
  }
}

if (process.env.INTERPROC_BUILD_FROM_SOURCE !== '1' && usable()) process.exit(0);
const r = spawnSync(process.execPath, [path.join(__dirname, 'nodedir.cjs'), 'node-gyp', 'rebuild'], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
