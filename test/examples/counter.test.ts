import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

// The counter service of each model (the programming-complexity row of `interproc compare` counts their lines).
for (const file of ['socket.cjs', 'shm.cjs', 'mailbox.cjs', 'store.cjs']) {
  it(`examples/counter/${file}: two client processes add 300 each and the service counts 600, leaving nothing in /dev/shm`, () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'counter', file), '2', '300'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ count: 600 });
    expect(readdirSync('/dev/shm').filter((f) => f.startsWith(`interproc-counter-${r.pid}`))).toEqual([]);
  });
}
