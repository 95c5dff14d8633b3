// 10 000 fuzzed requests (seeded; every one invalid by construction) at a member, over its mailbox
// group and over TCP: no crash, no block changed, and another member's adds at the same time land
// exactly. Each well-framed record gets an error reply; garbage ends a TCP connection.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist';
import { fixture, killAll, leftoverShm, uniqueName } from '../helpers/util';
import { command, member } from './helpers';

const children: ChildProcess[] = [];
let store: Store | undefined;
let name: string | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  await killAll(children);
  if (name !== undefined) Store.unlink(name);
  name = undefined;
});

const LAYOUT = { size: 65536, blockSize: 4096, members: 3 };
const COUNT = 10_000;
const HONEST_CELLS = [0, 3 * 1024, 1024]; // blocks 0 and 3 (member 0, the target) and 1 (member 1)
const HONEST_ADDS = 2000;

function runFuzzer(
  args: string[],
): Promise<{ records: number; messages: number; replies: Record<string, number>; reconnects: number }> {
  const child = spawn(process.execPath, [fixture('store', 'fuzzer.cjs'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`fuzzer exited with ${code}`)))),
  );
}

/** Fills the blocks of members 0 and 1 with a seeded pattern; the honest member's cells start at 0. */
async function fill(s: Store): Promise<Buffer> {
  const all = Buffer.alloc(LAYOUT.size);
  for (let i = 0; i < all.length; i++) all[i] = (i * 131 + 17) & 0xff;
  for (let b = 0; b < LAYOUT.size / LAYOUT.blockSize; b++)
    if (b % 3 !== 2) await s.write(b * LAYOUT.blockSize, all.subarray(b * LAYOUT.blockSize, (b + 1) * LAYOUT.blockSize));
  for (const c of HONEST_CELLS) all.writeInt32LE(0, c * 4);
  const v = s.int32();
  await Promise.all(HONEST_CELLS.map((c) => v.store(c, 0)));
  return all;
}

async function check(s: Store, expected: Buffer): Promise<void> {
  for (const c of HONEST_CELLS) expected.writeInt32LE(HONEST_ADDS, c * 4);
  for (let b = 0; b < LAYOUT.size / LAYOUT.blockSize; b++) {
    if (b % 3 === 2) continue; // member 2's blocks: the fuzzer's slot, nobody serves them
    const got = await s.read(b * LAYOUT.blockSize, LAYOUT.blockSize);
    expect(got.equals(expected.subarray(b * LAYOUT.blockSize, (b + 1) * LAYOUT.blockSize)), `block ${b}`).toBe(true);
  }
}

function expectOnlyErrors(replies: Record<string, number>, atLeast: number): void {
  expect(replies['0']).toBeUndefined(); // no request was accepted
  const total = Object.values(replies).reduce((a, b) => a + b, 0);
  expect(total).toBeGreaterThan(atLeast); // well-framed records are answered (a malformed one ends its message)
  for (const status of Object.keys(replies)) expect(['1', '2', '3']).toContain(status);
}

describe('fuzzed requests at a member', () => {
  it(`over the mailbox group: ${COUNT} invalid requests change nothing; another member's adds are exact`, async () => {
    name = uniqueName('store-fuzz');
    store = Store.create(name, LAYOUT);
    const honest = await member(children, { mailbox: name, id: 1 });
    const expected = await fill(store);
    const [f] = await Promise.all([
      runFuzzer(['mailbox', name, '2', String(COUNT), '12345']),
      command(honest.child, 'adds', { n: HONEST_ADDS, cells: HONEST_CELLS, window: 30 }),
    ]);
    expect(f.records).toBeGreaterThanOrEqual(COUNT);
    expectOnlyErrors(f.replies, COUNT / 4);
    await check(store, expected);
    console.log('[store fuzz mailbox]', JSON.stringify(f));
  });

  it(`over TCP: ${COUNT} invalid requests (and garbage, and bad hellos) change nothing; another member's adds are exact`, async () => {
    store = await Store.open({ ...LAYOUT, id: 0, listen: { host: '127.0.0.1', port: 0 } });
    const at = store.address as { host: string; port: number };
    const honest = await member(children, { tcp: { ...LAYOUT, id: 1 } });
    await command(honest.child, 'peers', { peers: [at, honest.up.address, null] });
    await store.connect(1, honest.up.address as { host: string; port: number });
    const expected = await fill(store);
    const [f] = await Promise.all([
      runFuzzer(['tcp', `127.0.0.1:${at.port}`, String(COUNT), '777', JSON.stringify(LAYOUT)]),
      command(honest.child, 'adds', { n: HONEST_ADDS, cells: HONEST_CELLS, window: 30 }),
    ]);
    expect(f.records).toBeGreaterThanOrEqual(COUNT);
    expect(f.reconnects).toBeGreaterThan(1); // garbage and bad hellos ended connections
    // (replies still in flight when a garbage message ends the connection are lost with it)
    expectOnlyErrors(f.replies, COUNT / 50);
    await check(store, expected);
    console.log('[store fuzz tcp]', JSON.stringify(f));
  });
});

it('leaves nothing in /dev/shm', () => {
  expect(leftoverShm()).toEqual([]);
});
