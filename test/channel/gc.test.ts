// Closed objects are garbage: after many open + close cycles of every object that owns a native poll
// handle (servers of each kind, channels, mailboxes that slept on their doorbell, bare doorbell
// watchers), a child process run with --expose-gc collects them all. Before the fix, a closed
// watcher kept its callback as a persistent root, and through it the Server (3 000 cycles, 3 000
// Servers alive).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { fixture } from '../helpers/util';
import { channelTestKit } from './helpers';

const { dir } = channelTestKit();
const CYCLES = 300;

it(`${CYCLES} listen() + close() cycles (and connect, mailbox, doorbell cycles) leave nothing alive after gc`, async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', fixture('channel', 'gc-cycles.cjs'), dir, String(CYCLES)],
    {
      timeout: 120_000,
    },
  );
  const { live } = JSON.parse(stdout) as { live: Record<string, number> };
  expect(Object.keys(live).sort()).toEqual(
    [
      'datagram channel',
      'datagram server',
      'doorbell watcher',
      'mailbox',
      'seqpacket channel',
      'seqpacket server',
      'stream channel',
      'stream server',
      'tcp server',
    ].sort(),
  );
  // A few may survive one collection (the last ones are still referenced by the loop's frames).
  for (const [kind, count] of Object.entries(live)) expect(count, kind).toBeLessThanOrEqual(5);
}, 180_000);
