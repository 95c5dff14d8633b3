import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

it('examples/supervisor: a one-for-one supervisor restarts exactly the SIGKILLed workers; every request is answered', () => {
  const out = execFileSync(
    process.execPath,
    [path.join(__dirname, '..', '..', 'examples', 'supervisor', 'run.js'), '3', '400', '4'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const s = lines.find((l) => l.event === 'summary');
  const restarts = lines.filter((l) => l.event === 'restart');
  expect(s.kills).toBe(4);
  expect(s.restarts).toBe(4);
  expect(restarts).toHaveLength(4);
  expect(restarts.every((r) => /^worker-\d$/.test(r.id) && r.why.endsWith('was killed by SIGKILL'))).toBe(true);
  expect(s.answered).toBeGreaterThanOrEqual(400);
  expect(s.wrong).toBe(0);
}, 150_000);
