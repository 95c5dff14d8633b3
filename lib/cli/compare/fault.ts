// The fault-tolerance rows: a hub and two peers exchange checked messages (or, for shared memory,
// update records under one lock); peer 1 is SIGKILLed mid-run. Measured: whether the hub kept
// receiving from peer 2 afterwards, what was lost or torn, and how long until the model itself told
// a survivor of the death (the channel's close, the mailbox's ERR_MAILBOX_PEER_DEAD, the robust
// Mutex's EOWNERDEAD, or nothing).
import type { Column } from './column';
import { cleanupName, pairName, type Env } from './measure';
import { spawnSide } from './spawn-side';
import { absNow, sleep } from './wire';

export interface FaultResult {
  carriedOn: boolean;
  afterKill: number;
  lost: number;
  torn: number;
  inconsistent: number;
  reportedMs: number | null;
  how: string;
  kind: 'queue' | 'state';
}

interface PeerStats {
  count: number;
  lost: number;
  torn: number;
  regress: number;
}

export async function faultRun(col: Column, env: Env, ms: number): Promise<FaultResult> {
  const name = pairName(col, env);
  const base = { column: col.id, name, size: 64, ms, sliceMs: env.sliceMs };
  const deadlineMs = 4 * ms + 20_000;
  const hub = spawnSide(env.place, 0, { ...base, role: 'fault-hub' }, { deadlineMs });
  const sides = [hub];
  try {
    await hub.next();
    const peers = [1, 2].map((peerId) => spawnSide(env.place, 1, { ...base, role: 'fault-peer', peerId }, { deadlineMs }));
    sides.push(...peers);
    await Promise.all(peers.map((p) => p.next()));
    await sleep(ms);
    const killedAt = absNow();
    peers[0].child.kill('SIGKILL');
    await peers[0].exited;
    hub.tell({ killedAt });
    await sleep(ms);
    peers[1].tell({ stop: 1 });
    const p2 = (await peers[1].next()) as { sent: number; death: { at: number; how: string } | null; inconsistent: number };
    hub.tell({ sent2: p2.sent });
    const h = (await hub.next()) as {
      kind: 'queue' | 'state';
      peers: PeerStats[];
      death: { at: number; how: string } | null;
      inconsistent: number;
      after: number;
    };
    // The first survivor told of the death by the model (the hub, or peer 2 for a lock).
    const deaths = [h.death, p2.death].filter((d): d is { at: number; how: string } => d !== null).sort((a, b) => a.at - b.at);
    const death = deaths[0] ?? null;
    return {
      kind: h.kind,
      carriedOn: h.after > 0,
      afterKill: h.after,
      lost: h.kind === 'queue' ? h.peers[0].lost + h.peers[1].lost : 0,
      torn: h.peers[0].torn + h.peers[1].torn + h.peers[0].regress + h.peers[1].regress,
      inconsistent: h.inconsistent + p2.inconsistent,
      reportedMs: death ? Math.max(0, death.at - killedAt) : null,
      how: death ? death.how : 'never: nothing in the model reports it',
    };
  } finally {
    await Promise.race([Promise.all(sides.map((s) => s.exited)), sleep(3000)]);
    for (const s of sides) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    cleanupName(name);
  }
}
