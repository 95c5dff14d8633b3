// The bytes every contender carries, and their check: a sequence number, a pattern derived from it,
// and the sequence again in the last four bytes, so a lost, reordered or torn message fails the run.

export const STOP = 0xffffffff;

/** A fresh message buffer of `size` bytes (≥ 8) for sequence `seq`. */
export function fill(buf: Buffer, seq: number): Buffer {
  buf.writeUInt32LE(seq >>> 0, 0);
  buf[4] = seq & 0xff;
  buf.writeUInt32LE(seq >>> 0, buf.length - 4);
  return buf;
}

/** The sequence number of a message, or -1 if the message is torn (its two copies differ). */
export function check(data: Buffer, size: number): number {
  if (data.length !== size) return -1;
  const seq = data.readUInt32LE(0);
  if (data.readUInt32LE(size - 4) !== seq || data[4] !== (seq & 0xff)) return -1;
  return seq;
}

/** Wall-clock milliseconds with sub-ms resolution, comparable between processes of one host. */
export function absNow(): number {
  return performance.timeOrigin + performance.now();
}

/** CPU time of this process in µs (user + system). */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Calls `attempt` until it returns without throwing a not-there-yet error, for up to `ms`. */
export async function retry<T>(attempt: () => T | Promise<T>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      const code = (err as { code?: string }).code;
      const notYet = code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ERR_MAILBOX_INCOMPATIBLE';
      if (!notYet || Date.now() > end) throw err;
      await sleep(5);
    }
  }
}
