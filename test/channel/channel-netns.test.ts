// TCP channels across two network namespaces: this process stays in its own namespace and serves on
// one end of a veth pair; the child runs in a new namespace (ip netns exec) behind the other end, so
// the bytes cross a real (virtual) link, not loopback. Needs root; the namespace and link are removed
// afterwards.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../lib';
import { Child } from '../helpers/child';

const ns = `interproc-test-${process.pid}`;
const linkA = `ipa${process.pid % 1_000_000}`;
const linkB = `ipb${process.pid % 1_000_000}`;
const subnet = `10.213.${(process.pid >> 6) & 255}.${(process.pid & 63) * 4}`;
const base = subnet.split('.').map(Number);
const hostA = `${base[0]}.${base[1]}.${base[2]}.${base[3] + 1}`;
const hostB = `${base[0]}.${base[1]}.${base[2]}.${base[3] + 2}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

beforeAll(() => {
  ip('netns', 'add', ns);
  ip('link', 'add', linkA, 'type', 'veth', 'peer', 'name', linkB);
  ip('link', 'set', linkB, 'netns', ns);
  ip('addr', 'add', `${hostA}/30`, 'dev', linkA);
  ip('link', 'set', linkA, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${hostB}/30`, 'dev', linkB);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', linkB, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
});

afterAll(() => {
  try {
    ip('link', 'del', linkA); // removes both ends
  } catch {
    // already gone with the namespace
  }
  ip('netns', 'del', ns);
  expect(ip('netns', 'list')).not.toContain(ns);
  expect(ip('link', 'show')).not.toContain(linkA);
});

describe('TCP across network namespaces', () => {
  it('a child in another network namespace talks to this process over a veth link', async () => {
    const server = await listen(`tcp://${hostA}:0`);
    const port = (server.address as { port: number }).port;
    const child = await Child.start('channel/socket-child.cjs', {
      execPath: 'ip',
      execArgv: ['netns', 'exec', ns, process.execPath],
    });
    try {
      const childPid = await child.call<number>('pid');
      expect(readlinkSync(`/proc/${childPid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
      server.on('connection', (ch) => ch.on('message', (m) => ch.send(Buffer.concat([Buffer.from('echo:'), m.data]))));
      const { id } = await child.call<{ id: number }>('connect', { address: `tcp://${hostA}:${port}` });
      await child.call('send', { chan: id, text: 'across namespaces' });
      expect((await child.call<{ text: string }>('receive', { chan: id })).text).toBe('echo:across namespaces');
      await child.call('send', { chan: id, size: 200_000, fill: 3 });
      expect((await child.call<{ length: number }>('receive', { chan: id })).length).toBe(200_005);
    } finally {
      await child.stop();
      await server.close();
    }
  });
});
