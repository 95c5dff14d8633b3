import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

it('examples/shared-state: a writer and three reader processes share frames with no torn reads', () => {
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'shared-state', 'run.js'), '60'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const writer = lines.find((l) => l.role === 'writer');
  const readers = lines.filter((l) => l.role === 'reader');
  expect(writer.frames).toBe(60);
  expect(readers).toHaveLength(3);
  for (const r of readers) {
    expect(r.torn).toBe(0);
    expect(r.framesSeen).toBeGreaterThan(0);
    expect(r.framesSeen).toBeLessThanOrEqual(61);
  }
  expect(readdirSync('/dev/shm').filter((f) => f.startsWith('interproc-example-state'))).toEqual([]);
});
