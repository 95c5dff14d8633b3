// The fault-tolerance rows: a hub and two peers exchange checked messages (or, for shared memory,
// update records under one lock); peer 1 is SIGKILLed mid-run. Measured: whether the hub kept
// receiving from peer 2 afterwards, what was lost or torn, and how long until the model itself told
// a survivor of the death (the channel's close, the mailbox's ERR_MAILBOX_PEER_DEAD, the robust
// Mutex's EOWNERDEAD, the store's ERR_STORE_OWNER_DEAD, or nothing). For the store the victim is an
// owner: the records in its blocks go with it, and count as lost.
import type { Column } from './column';
import { cleanupName, pairName, type Env } from './measure';
import { finishAll } from './pool';
import { absNow, sleep } from './wire';

export interface FaultResult {
  carriedOn: boolean;
  afterKill: number;
  lost: number;
  torn: number;
  inconsistent: number;
  reportedMs: number | null;
  how: string;
  kind: 'queue' | 'state' | 'owned';
}

interface PeerStats {
  count: number;
  lost: number;
  torn: number;
  regress: number;
  /** Records found gone with their dead owner ('owned' kind). */
  gone: number;
}

export async function faultRun(col: Column, env: Env, ms: number): Promise<FaultResult> {
  const name = pairName(col, env);
  const base = { column: col.id, name, size: 64, ms, sliceMs: env.sliceMs };
  // A watchdog for a hang, not a limit on speed: an instrumented (ASan) node on a loaded machine took
  // over 20 s for a side's start and run once, and the watchdog's SIGKILL then read as the model's failure.
  const deadlineMs = 4 * ms + 60_000;
  // The hub on CPU 0 (pair 0 side a), the peers on CPU 1 (the b sides of pairs 0 and 1): pooled
  // sides, the victim's process is started afresh when it is next needed.
  const hub = env.pool.task(0, 'a', { ...base, role: 'fault-hub' }, deadlineMs);
  const sides = [hub];
  try {
    await hub.next();
    const peers = [1, 2].map((peerId) => env.pool.task(peerId - 1, 'b', { ...base, role: 'fault-peer', peerId }, deadlineMs));
    sides.push(...peers);
    await Promise.all(peers.map((p) => p.next()));
    await sleep(ms);
    const killedAt = absNow();
    peers[0].abort(); // SIGKILL
    await peers[0].exited;
    hub.tell({ killedAt });
    await sleep(ms);
    peers[1].tell({ stop: 1 });
    const p2 = (await peers[1].next()) as { sent: number; death: { at: number; how: string } | null; inconsistent: number };
    hub.tell({ sent2: p2.sent });
    const h = (await hub.next()) as {
      kind: FaultResult['kind'];
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
      lost: h.kind === 'queue' ? h.peers[0].lost + h.peers[1].lost : h.peers[0].gone + h.peers[1].gone,
      torn: h.peers[0].torn + h.peers[1].torn + h.peers[0].regress + h.peers[1].regress,
      inconsistent: h.inconsistent + p2.inconsistent,
      reportedMs: death ? Math.max(0, death.at - killedAt) : null,
      how: death ? death.how : 'never: nothing in the model reports it',
    };
  } finally {
    await finishAll(sides); // the victim's task ends with its process
    cleanupName(name);
  }
}
