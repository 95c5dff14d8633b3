import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Separate processes per test file: a crash or a pending native wait cannot take down the run
    // (shared TOOLCHAIN.md section 4).
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // Compiles lib/ to dist/ first: the child fixtures load dist/, the tests lib/ (see the file).
    globalSetup: ['./test/helpers/build-dist.mts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/helpers/plain-reporter.mts'],
  },
});
