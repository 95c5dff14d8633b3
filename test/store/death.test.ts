// An owner SIGKILLed mid-run: its blocks' pending and later requests reject with
// ERR_STORE_OWNER_DEAD (not by timeout: the request timeout here is 2 minutes), the other owners'
// blocks keep working, nobody hangs, and a member that rejoins in its place serves its blocks
// again, empty. Several rounds, over mailboxes and over TCP; the detection times are printed.
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../dist';
import { exited, uniqueName } from '../helpers/util';
import { cluster, command, member, stopCluster } from './helpers';

const children: ChildProcess[] = [];
let store: Store | undefined;
let name: string | undefined;
afterEach(async () => {
  await stopCluster(store, name, children);
  store = undefined;
});

const clock = () => performance.timeOrigin + performance.now();
const ROUNDS = 3;

describe.each(['mailbox', 'tcp'] as const)('an owner SIGKILLed (%s)', (kind) => {
  it(`${ROUNDS} rounds: its blocks reject with ERR_STORE_OWNER_DEAD, others keep working, the rejoined member serves them empty`, async () => {
    name = kind === 'mailbox' ? uniqueName('store-death') : undefined;
    const c = await cluster(kind, 3, name ?? '', children, { timeout: 120_000 });
    store = c.store;
    const s = store;
    const [worker, firstVictim] = c.kids as [(typeof c.kids)[0], (typeof c.kids)[0]];
    let victim = firstVictim;
    const cells = [0, 1024, 2048]; // owners 0, 1, 2 (the victim is member 2)
    const v = s.int32();
    const figures: { round: number; here: number; worker: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // The worker churns on a cell of every owner; this member keeps requests to the victim pending.
      const churn = command<{ per: Record<number, { ok: number; codes: Record<string, number>; firstErrorAt: number | null }> }>(
        worker.child,
        'churn',
        { cells },
      );
      churn.catch(() => {}); // awaited below; a failed test must not leave it unhandled
      await new Promise((r) => setTimeout(r, 300));
      const blockBefore = await s.read(2 * 4096, 4096);
      expect(blockBefore.readInt32LE(0)).toBeGreaterThan(0); // the worker's adds landed in the victim's block
      const waiting = v.waitAsync(2048 + 1, 0); // kept at the victim until it dies
      const adds = Array.from({ length: 100 }, () => v.add(2048, 1)); // each one is either done or rejected, never hanging
      const downEvent = new Promise<number>((r) => s.once('owner-down', (m) => m === 2 && r(clock())));
      await new Promise((r) => setTimeout(r, 20));
      const killedAt = clock();
      const gone = exited(victim.child);
      victim.child.kill('SIGKILL');
      const err = await waiting.then(
        () => null,
        (e) => e,
      );
      const here = clock() - killedAt;
      expect(err).toMatchObject({ code: 'ERR_STORE_OWNER_DEAD', member: 2, blocks: { first: 2, stride: 3, count: 5 } });
      const settled = await Promise.allSettled(adds);
      for (const r of settled) if (r.status === 'rejected') expect(r.reason.code).toBe('ERR_STORE_OWNER_DEAD');
      await downEvent;
      // Later requests to its blocks reject at once; the other owners' blocks work.
      await expect(v.load(2048)).rejects.toMatchObject({ code: 'ERR_STORE_OWNER_DEAD' });
      await expect(s.read(2 * 4096 - 4, 8)).rejects.toMatchObject({ code: 'ERR_STORE_OWNER_DEAD' }); // spans blocks 1 and 2
      expect(await v.add(1024, 0)).toBeGreaterThan(0);
      const { per } = await churn;
      expect(per[2048]?.codes).toEqual({ ERR_STORE_OWNER_DEAD: expect.any(Number) });
      expect(per[0]?.codes).toEqual({});
      expect(per[1024]?.codes).toEqual({});
      expect(per[0]?.ok).toBeGreaterThan(0);
      figures.push({
        round,
        here: Math.round(here * 10) / 10,
        worker: Math.round(((per[2048]?.firstErrorAt ?? 0) - killedAt) * 10) / 10,
      });
      await gone;

      // A member rejoins in its place: same id (mailbox slot / TCP port), empty blocks.
      const up = new Promise<void>((r) => s.once('owner-up', (m) => m === 2 && r()));
      victim =
        kind === 'mailbox'
          ? await member(children, { mailbox: name as string, id: 2 })
          : await member(children, {
              tcp: { size: s.size, blockSize: s.blockSize, members: 3, id: 2, port: c.addresses[2]?.port },
            });
      if (kind === 'tcp') await command(victim.child, 'peers', { peers: c.addresses });
      await up;
      await command(victim.child, 'ready');
      expect((await s.read(2 * 4096, 4096)).equals(Buffer.alloc(4096))).toBe(true);
      expect(await v.add(2048, 5)).toBe(0);
      expect(await v.load(2048)).toBe(5);
      await command(worker.child, 'ready'); // the worker reaches the new member too
    }
    console.log(`[store death ${kind}] ms from SIGKILL to the first ERR_STORE_OWNER_DEAD, per round:`, JSON.stringify(figures));
  });
});
