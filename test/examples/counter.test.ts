import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

// The counter service of each model (the programming-complexity row of `interproc compare` counts their lines).
for (const file of ['socket.cjs', 'shm.cjs', 'mailbox.cjs']) {
  it(`examples/counter/${file}: two client processes add 300 each and the service counts 600`, () => {
    const out = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'counter', file), '2', '300'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(JSON.parse(out.trim())).toEqual({ count: 600 });
  });
}
