import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

it('examples/chat: three client programs talk through the server, each line reaching the other two', () => {
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'examples', 'chat', 'run.js')], {
    encoding: 'utf8',
    timeout: 50_000,
  });
  const lines = out.split('\n');
  const said = (who: string, text: string) => lines.filter((l) => l.startsWith(`${who}> [pid `) && l.endsWith(`] ${text}`));
  expect(said('bob', 'hello everyone')).toHaveLength(1);
  expect(said('carol', 'hello everyone')).toHaveLength(1);
  expect(said('alice', 'hello everyone')).toHaveLength(0); // not echoed to its sender
  expect(said('alice', 'hi alice')).toHaveLength(1);
  expect(said('carol', 'hi alice')).toHaveLength(1);
  expect(lines.filter((l) => /^(alice|bob)> \[server\] pid \d+ left$/.test(l))).toHaveLength(2);
});
