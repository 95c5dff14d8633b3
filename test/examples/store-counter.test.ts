import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { leftoverShm } from '../helpers/util';

const dir = path.join(__dirname, '..', '..', 'examples', 'store-counter');
const EVENTS = 2000;

function reports(out: string): { member: number; mySum: number; requests: number; histogram: number[]; sum: string }[] {
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((l) => !l.ready);
}

function check(rs: ReturnType<typeof reports>, members: number): void {
  expect(rs.map((r) => r.member).sort()).toEqual(Array.from({ length: members }, (_, i) => i));
  const total = rs.reduce((s, r) => s + r.mySum, 0);
  for (const r of rs) {
    expect(r.requests).toBe(members * EVENTS);
    expect(r.histogram.reduce((a, b) => a + b, 0)).toBe(members * EVENTS);
    expect(r.sum).toBe(String(total));
    expect(r.histogram).toEqual(rs[0]?.histogram); // every member read the same report
  }
}

it('examples/store-counter: 3 separate programs over mailboxes count and histogram exactly', () => {
  const out = execFileSync(process.execPath, [path.join(dir, 'run.js'), '3'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, EVENTS: String(EVENTS) },
  });
  check(reports(out), 3);
  expect(leftoverShm()).toEqual([]);
});

it('examples/store-counter: the same program in two network namespaces over TCP (netns.sh, as root)', () => {
  // Like test/channel/channel-netns.test.ts, this needs root (ip netns add): the CI runs as root.
  const out = execFileSync('sh', [path.join(dir, 'netns.sh')], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, EVENTS: String(EVENTS) },
  });
  check(reports(out), 2);
  expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toMatch(/isc-[ab]-/);
});
