// Spawns one side of a benchmark and resolves with the last JSON line it prints on stdout (null if
// none); rejects when it exits non-zero. Shared by the scenarios and scripts that run peer pairs.
'use strict';
const { spawn } = require('node:child_process');

function spawnJson(command, args, options) {
  const child = spawn(command, args, options);
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0
        ? resolve(stdout.trim() ? JSON.parse(stdout.trim().split('\n').pop()) : null)
        : reject(new Error(`${args.join(' ').slice(0, 120)} exited with ${code}`)),
    );
  });
  return { child, done };
}

module.exports = { spawnJson };
