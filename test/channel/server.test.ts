// Servers: abstract names, socket files (mode, stale files of dead servers), and which peers they
// admit (allowUids / allowGids from the kernel's credentials).
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connect, listen } from '../../lib';
import { exited } from '../helpers/util';
import { channelTestKit, nextChannel } from './helpers';

const { dir, sock, abstractName, cleanup, child, server } = channelTestKit();

describe('channels between separate processes', () => {
  it('abstract names leave no file and show in /proc/net/unix', async () => {
    const name = abstractName('abs');
    const before = readdirSync(dir);
    const s = await server({ abstract: name });
    expect(s.address).toEqual({ abstract: name });
    expect(readFileSync('/proc/net/unix', 'utf8')).toContain(`@${name}`);
    const c = await child();
    await c.call('echoClient', { address: `@${name}` });
    const ch = await nextChannel(s);
    ch.send('ping');
    expect((await ch.receive({ timeout: 10_000 })).data.toString()).toBe('ping');
    expect(readdirSync(dir)).toEqual(before);
    await s.close();
    expect(readFileSync('/proc/net/unix', 'utf8')).not.toContain(`@${name}`);
  });
});

describe('socket files', () => {
  it('are created 0600 by default, or with the given mode regardless of umask', async () => {
    const a = sock('mode');
    await server(a);
    expect(statSync(a).mode & 0o777).toBe(0o600);
    const b = sock('mode');
    const old = process.umask(0o077);
    try {
      await server(b, { mode: 0o660 });
    } finally {
      process.umask(old);
    }
    expect(statSync(b).mode & 0o777).toBe(0o660);
  });

  it('a stale file of a dead server is replaced; a live one or a non-socket file is not', async () => {
    const p = sock('stale');
    const c = await child();
    await c.call('serveEcho', { address: p });
    // live: refused, and the file stays
    await expect(listen(p)).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', path: p });
    // the server dies without cleaning up: its file stays behind
    const done = exited(c.proc);
    c.proc.kill('SIGKILL');
    await done;
    expect(statSync(p).isSocket()).toBe(true);
    await expect(listen(p, { replaceStale: false })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const s = await server(p);
    const ch = await connect(p);
    cleanup.push(() => ch.close());
    expect((await nextChannel(s)).peer?.pid).toBe(process.pid);
    // a regular file is never deleted
    const f = sock('regular');
    writeFileSync(f, 'data');
    await expect(listen(f)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(readFileSync(f, 'utf8')).toBe('data');
    unlinkSync(f);
  });

  it('restricts peers by uid/gid from the kernel credentials; a rejected peer is closed and reported', async () => {
    const uid = process.getuid!();
    const deny = await server(sock('deny'), { allowUids: [uid + 12345] });
    const c = await child();
    const rejected = once(deny, 'rejected');
    const { id } = await c.call<{ id: number }>('connect', { address: deny.address });
    const [err, peer] = await rejected;
    expect(err).toMatchObject({ code: 'ERR_PEER_NOT_ALLOWED' });
    expect(peer).toMatchObject({ pid: c.proc.pid, uid });
    await expect(c.call('receive', { chan: id, timeout: 5000 })).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    expect(deny.connections).toBe(0);
    // datagram: no connection to refuse, so each datagram of a disallowed sender is dropped and reported
    const dgram = await server(sock('deny-dgram'), { kind: 'datagram', allowUids: [uid + 12345] });
    const dropped = once(dgram, 'rejected');
    const d = await c.call<{ id: number }>('connect', { address: dgram.address, options: { kind: 'datagram' } });
    await c.call('send', { chan: d.id, text: 'let me in' });
    const [derr, dpeer] = await dropped;
    expect(derr).toMatchObject({ code: 'ERR_PEER_NOT_ALLOWED' });
    expect(dpeer).toMatchObject({ pid: c.proc.pid, uid });
    expect(dgram.connections).toBe(0);
    const allow = await server(sock('allow'), { allowGids: [process.getgid!()] });
    const accepted = nextChannel(allow);
    await c.call('connect', { address: allow.address });
    expect((await accepted).peer?.pid).toBe(c.proc.pid);
  });
});
