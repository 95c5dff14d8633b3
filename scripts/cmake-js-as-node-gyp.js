#!/usr/bin/env node
// prebuildify has no cmake-js backend: it calls "node-gyp rebuild --target=... --arch=...".
// This shim ignores those arguments and runs cmake-js, which is offline in Node-API mode.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const bin = path.join(__dirname, '..', 'node_modules', '.bin', 'cmake-js');
const r = spawnSync(bin, ['rebuild'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
