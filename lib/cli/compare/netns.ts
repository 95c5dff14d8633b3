// Two network namespaces joined by a veth pair, for the TCP row: message passing across a network
// link (the kernel's TCP stack on both ends), not loopback. Root only; the addresses are link-local
// (169.254.77.1 and .2) and live only in these two namespaces, which are removed afterwards.
import { spawnSync } from 'node:child_process';

export interface NetnsPair {
  wrap: { a: string[]; b: string[] };
  addressA: string;
  close(): void;
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** The namespaces, or the reason they cannot be made here (the row then says so). */
export function netnsPair(): NetnsPair | string {
  if (process.getuid?.() !== 0) return 'skipped: needs root to create network namespaces';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'skipped: the ip command (iproute2) is not installed';
  const tag = `icmp${process.pid % 100000}`;
  const [a, b] = [`${tag}-a`, `${tag}-b`];
  const [va, vb] = [`${tag}a`, `${tag}b`]; // interface names: at most 15 bytes
  const close = () => {
    for (const ns of [a, b]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  };
  try {
    ip(['netns', 'add', a]);
    ip(['netns', 'add', b]);
    ip(['link', 'add', va, 'type', 'veth', 'peer', 'name', vb]);
    ip(['link', 'set', va, 'netns', a]);
    ip(['link', 'set', vb, 'netns', b]);
    ip(['-n', a, 'addr', 'add', '169.254.77.1/30', 'dev', va]);
    ip(['-n', b, 'addr', 'add', '169.254.77.2/30', 'dev', vb]);
    for (const [ns, dev] of [
      [a, va],
      [b, vb],
    ]) {
      ip(['-n', ns, 'link', 'set', dev, 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    close();
    return `skipped: ${(err as Error).message}`;
  }
  return { wrap: { a: ['ip', 'netns', 'exec', a], b: ['ip', 'netns', 'exec', b] }, addressA: 'tcp://169.254.77.1:7077', close };
}
