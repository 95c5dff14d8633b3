// A creator SIGKILLed while its object is under a temporary name leaves that name behind; the next create
// in another process removes it once its creator is dead and the name is old, and keeps every other one.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const dist = path.join(__dirname, '..', '..', 'dist');
const deadPid = spawnSync(process.execPath, ['-e', '0']).pid as number;
const files = {
  deadOld: `/dev/shm/.interproc-tmp-${deadPid}-7001`,
  deadYoung: `/dev/shm/.interproc-tmp-${deadPid}-7002`,
  alive: `/dev/shm/.interproc-tmp-${process.pid}-7003`,
  notOurs: `/dev/shm/.interproc-tmp-${deadPid}-x`,
};
const lock = `/interproc-stale-${process.pid}`;
afterAll(() => {
  for (const f of Object.values(files)) rmSync(f, { force: true });
  rmSync(`/dev/shm${lock}`, { force: true });
});

it('a create removes old temporary names of dead creators, and nothing else', () => {
  for (const f of Object.values(files)) writeFileSync(f, 'x');
  const old = new Date(Date.now() - 60_000);
  for (const f of [files.deadOld, files.alive, files.notOurs]) utimesSync(f, old, old);
  execFileSync(process.execPath, [
    '-e',
    `const { Mutex } = require(${JSON.stringify(dist)}); Mutex.create(${JSON.stringify(lock)}).close(); Mutex.unlink(${JSON.stringify(lock)});`,
  ]);
  expect(existsSync(files.deadOld)).toBe(false);
  expect(existsSync(files.deadYoung)).toBe(true); // too young: perhaps another pid namespace's creator
  expect(existsSync(files.alive)).toBe(true); // its creator runs
  expect(existsSync(files.notOurs)).toBe(true); // not a name the library makes
});
