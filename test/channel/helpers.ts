// What the channel tests share: a socket directory that must be empty at the end, clean-ups run
// after each test, child processes (test/channel/fixtures/socket-child.cjs) and servers that are
// stopped and closed with the test, and the waits for a server's next channel or client error.
import { mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect } from 'vitest';
import { listen, type Channel, type Server, type SocketKind } from '../../lib';
import { Child } from '../helpers/child';

export const KINDS: SocketKind[] = ['stream', 'seqpacket', 'datagram'];

export interface ChannelTestKit {
  /** The socket directory of this test file. */
  dir: string;
  /** A fresh socket path in it. */
  sock(tag: string): string;
  /** A fresh abstract name. */
  abstractName(tag: string): string;
  /** Run after the current test (in reverse order). */
  cleanup: (() => Promise<unknown> | unknown)[];
  /** A socket-child.cjs process, stopped after the test. */
  child(): Promise<Child>;
  /** A listening server, closed after the test. */
  server<T = Buffer>(address: Parameters<typeof listen>[0], options?: Parameters<typeof listen>[1]): Promise<Server<T>>;
}

/** Call once at the top of a test file: registers the clean-up hooks and the empty-directory check. */
export function channelTestKit(): ChannelTestKit {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-sock-'));
  let n = 0;
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  afterAll(() => {
    // Every server removed its socket file: nothing is left in the socket directory.
    expect(readdirSync(dir)).toEqual([]);
    rmdirSync(dir);
  });
  return {
    dir,
    sock: (tag) => path.join(dir, `${tag}-${n++}.sock`),
    abstractName: (tag) => `interproc-test-${process.pid}-${tag}-${n++}`,
    cleanup,
    async child() {
      const c = await Child.start('channel/socket-child.cjs');
      cleanup.push(() => c.stop());
      return c;
    },
    async server<T = Buffer>(address: Parameters<typeof listen>[0], options: Parameters<typeof listen>[1] = {}) {
      const s = (await listen(address, options)) as Server<unknown> as Server<T>; // the test says what its codec carries
      cleanup.push(() => s.close());
      return s;
    },
  };
}

export function nextChannel<T>(s: Server<T>): Promise<Channel<T>> {
  return once(s, 'connection').then(([ch]) => ch as Channel<T>);
}

export function clientError(s: Server): Promise<Error & { code?: string }> {
  return once(s, 'clientError').then(([err]) => err as Error & { code?: string });
}

/** The next channel accepted, whether or not the server has a 'connection' listener that consumes it. */
export function nextChannelOnce(s: Server, silent = false): Promise<Channel> {
  return new Promise((resolve) => {
    const listeners = s.listeners('connection') as ((ch: Channel) => void)[];
    s.removeAllListeners('connection');
    s.once('connection', (ch: Channel) => {
      for (const l of listeners) s.on('connection', l);
      if (silent) ch.on('message', () => {});
      resolve(ch);
    });
  });
}
