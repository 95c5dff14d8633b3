// Members on several hosts meet at a rendezvous: a TCP address every member knows (from the
// environment or an option). Each member listens on a port of its own, tells the rendezvous its
// rank and that address, and gets back the table of everyone's; then it connects to each member of
// lower rank and accepts from each of higher rank, so every pair has one channel. The rendezvous is
// served by rank 0, or by the launcher (spawnGroup). Protocol: docs/design/group.md#across-hosts.
import { connect, listen } from '../channel/connect';
import type { Channel } from '../channel/channel';
import type { Server } from '../channel/server';
import { InterprocError, TimeoutError } from '../internal/errors';

export interface Registration {
  rank: number;
  size: number;
  name: string;
  host: string;
  port: number;
}

/** 'host:port', 'tcp://host:port' or '[v6]:port' → { host, port }. */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:tcp:\/\/)?(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (m === null) throw new TypeError(`a rendezvous address is 'host:port'. Received '${address}'`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Serves the rendezvous of one group of `size` at host:port (port 0: any); returns the server. */
export async function serveRendezvous(host: string, port: number, size: number): Promise<Server<unknown>> {
  const server = await listen<unknown>({ host, port }, { codec: 'v8' });
  const table: (Registration | undefined)[] = new Array(size).fill(undefined);
  const waiting: Channel<unknown>[] = [];
  let name: string | undefined;
  server.on('connection', async (ch: Channel<unknown>) => {
    try {
      const reg = (await ch.receive({ timeout: 60_000 })).data as Registration;
      const bad =
        typeof reg !== 'object' || reg === null || !Number.isInteger(reg.rank) || reg.rank < 0 || reg.rank >= size
          ? `a rank in 0..${size - 1}`
          : reg.size !== size
            ? `size ${size}`
            : name !== undefined && reg.name !== name
              ? `group ${name}`
              : table[reg.rank] !== undefined
                ? `a rank nobody has (rank ${reg.rank} is taken)`
                : undefined;
      if (bad !== undefined) {
        ch.send({ error: `this rendezvous expects ${bad}` });
        await ch.close({ timeout: 1000 });
        return;
      }
      name = reg.name;
      table[reg.rank] = { ...reg };
      waiting.push(ch);
      if (table.every((r) => r !== undefined)) {
        for (const c of waiting.splice(0)) {
          c.send({ table });
          void c.close({ timeout: 5000 }).catch(() => {});
        }
      }
    } catch {
      ch.destroy();
    }
  });
  return server;
}

async function retrying<T>(deadline: number, what: string, attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ECONNREFUSED' && code !== 'ENOENT' && code !== 'EHOSTUNREACH') throw err;
      if (Date.now() >= deadline) throw new TimeoutError(what, 0);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Registers with the rendezvous and resolves with every member's address, in rank order. */
export async function register(address: string, reg: Registration, deadline: number): Promise<Registration[]> {
  const at = parseAddress(address);
  const ch = await retrying(deadline, `the rendezvous at ${address}`, () => connect<unknown>(at, { codec: 'v8' }));
  try {
    ch.send(reg);
    const answer = (await ch.receive({ timeout: Math.max(1, deadline - Date.now()) })).data as {
      table?: Registration[];
      error?: string;
    };
    if (answer.error !== undefined)
      throw new InterprocError('ERR_GROUP_MISMATCH', `the rendezvous at ${address} refused rank ${reg.rank}: ${answer.error}`);
    const table = answer.table;
    if (!Array.isArray(table) || table.length !== reg.size)
      throw new InterprocError('ERR_GROUP_MISMATCH', 'the rendezvous sent a bad table');
    return table;
  } finally {
    ch.destroy();
  }
}

/** The 8 bytes a connecting member sends first on a mesh channel: magic and its rank. */
export function helloBytes(rank: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(0x49504748, 0); // 'IPGH'
  b.writeUInt32LE(rank, 4);
  return b;
}

export function rankOfHello(data: Buffer, size: number): number | undefined {
  if (data.length !== 8 || data.readUInt32LE(0) !== 0x49504748) return undefined;
  const rank = data.readUInt32LE(4);
  return rank < size ? rank : undefined;
}

export { connect, listen };
