// Whether `taskset` can pin here: the benchmarks pin the two sides of a pair to CPUs 0 and 1 when
// it can, and say "unpinned" in their rows when it cannot.
'use strict';
const { execFileSync } = require('node:child_process');

function hasTaskset() {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

module.exports = { hasTaskset };
