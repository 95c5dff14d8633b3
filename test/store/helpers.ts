// Store tests: members in separate processes (test/store/fixtures/member.cjs), driven by commands.
import type { ChildProcess } from 'node:child_process';
import { Store } from '../../dist';
import { forkFixture, killAll, nextMessage } from '../helpers/util';

export interface Up {
  id: number;
  address: { host: string; port: number } | null;
}

/** Sends a command to a member and resolves with its answer (rejects with its error). */
export async function command<T = Record<string, unknown>>(child: ChildProcess, cmd: string, args: object = {}): Promise<T> {
  const answer = nextMessage<Record<string, unknown>>(child, (m) => m.done === cmd || m.failed === cmd);
  child.send({ cmd, ...args });
  const m = await answer;
  if (m.failed !== undefined) throw Object.assign(new Error(`member: ${cmd}: ${m.message}`), { code: m.code });
  return m as T;
}

/** Starts a member: joins the mailbox store `name` (as `id`), or opens a TCP member with `tcp` options. */
export async function member(
  children: ChildProcess[],
  how: { mailbox: string; id?: number; options?: Record<string, unknown> } | { tcp: Record<string, unknown> },
): Promise<{ child: ChildProcess; up: Up }> {
  const args =
    'mailbox' in how
      ? [
          'mailbox',
          how.mailbox,
          ...(how.id === undefined ? [] : [String(how.id)]),
          ...(how.options === undefined ? [] : [JSON.stringify(how.options)]),
        ]
      : ['tcp', JSON.stringify(how.tcp)];
  const child = forkFixture('store/member.cjs', args);
  children.push(child);
  child.stderr?.on('data', (d) => process.stderr.write(`[member] ${d}`));
  const m = await nextMessage<{ up: Up }>(child, (x) => x.up !== undefined);
  return { child, up: m.up };
}

export const LAYOUT = { size: 64 * 1024, blockSize: 4096 };

/**
 * A store of `members` members: this process is member 0, the others are children. Over mailboxes
 * (Store.create + join) or over TCP on loopback (every member listens on port 0, then all connect).
 */
export async function cluster(
  kind: 'mailbox' | 'tcp',
  members: number,
  name: string,
  children: ChildProcess[],
  options: Record<string, unknown> = {},
  /** Options of the children only (Store.join, or Store.open beside the layout): e.g. { cache: true }. */
  memberOptions: Record<string, unknown> = {},
): Promise<{ store: Store; kids: { child: ChildProcess; up: Up }[]; addresses: (Up['address'] | null)[] }> {
  const layout = { ...LAYOUT, members, ...options };
  let store: Store;
  const kids: { child: ChildProcess; up: Up }[] = [];
  const addresses: (Up['address'] | null)[] = [];
  if (kind === 'mailbox') {
    store = Store.create(name, layout as Parameters<typeof Store.create>[1]);
    for (let i = 1; i < members; i++) kids.push(await member(children, { mailbox: name, id: i, options: memberOptions }));
  } else {
    store = await Store.open({ ...(layout as { size: number; members: number }), id: 0, listen: { host: '127.0.0.1', port: 0 } });
    addresses.push(store.address as Up['address']);
    for (let i = 1; i < members; i++) {
      const k = await member(children, { tcp: { ...layout, ...memberOptions, id: i } });
      kids.push(k);
      addresses.push(k.up.address);
    }
    addresses.forEach((a, m) => {
      if (m !== 0 && a) store.connect(m, a).catch(() => {});
    });
    await Promise.all(kids.map((k) => command(k.child, 'peers', { peers: addresses })));
  }
  await store.ready({ timeout: 20000 });
  await Promise.all(kids.map((k) => command(k.child, 'ready')));
  return { store, kids, addresses };
}

export async function stopCluster(store: Store | undefined, name: string | undefined, children: ChildProcess[]): Promise<void> {
  await store?.close();
  await killAll(children);
  if (name !== undefined) Store.unlink(name);
}
