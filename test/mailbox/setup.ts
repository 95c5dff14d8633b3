// Shared set-up of the mailbox tests (one file per concept): unique names, child fixtures and open
// objects that are cleaned up after each test (nothing may be left in /dev/shm), the byte offset of
// a ring in a group's segment, and a checked receive.
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, expect } from 'vitest';
import { SharedMemory, type MailboxGroup } from '../../lib';
import { layout } from '../../lib/mailbox/ring';
import { forkFixture, killAll, leftoverShm, uniqueName } from '../helpers/util';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkMessage } = require('./fixtures/mailbox-messages.cjs');

export interface Testbed {
  /** A unique segment name, unlinked after the test. */
  name(tag?: string): string;
  /** Forks test/mailbox/fixtures/mailbox-child.cjs with `args` (JSON); SIGKILLed after the test if still running. */
  child(args: Record<string, unknown>): ChildProcess;
  /** Closes `x` after the test. */
  keep<T extends { close(): void }>(x: T): T;
}

/** Registers the clean-up hooks of a test file and returns its helpers. */
export function mailboxTestbed(): Testbed {
  const made: string[] = [];
  const children: ChildProcess[] = [];
  const open: { close(): void }[] = [];
  afterEach(async () => {
    await killAll(children);
    for (const x of open.splice(0)) x.close();
    for (const n of made.splice(0)) SharedMemory.unlink(n);
  });
  afterAll(() => {
    expect(leftoverShm()).toEqual([]);
  });
  return {
    name(tag = 'mbox') {
      const n = uniqueName(tag);
      made.push(n);
      return n;
    },
    child(args) {
      const c = forkFixture('mailbox/mailbox-child.cjs', [JSON.stringify(args)]);
      children.push(c);
      return c;
    },
    keep(x) {
      open.push(x);
      return x;
    },
  };
}

/** Byte offset of the ring from member `from` to member `to` in a group's segment (docs/protocol/mailbox-segment.md). */
export function ringAt(members: number, ringSize: number, from: number, to: number): number {
  const index = from * (members - 1) + (to < from ? to : to - 1); // a member has no ring to itself
  return layout.groupHeaderSize + members * layout.memberSlotSize + index * (layout.ringHeaderSize + ringSize);
}

/** Receives the next message from `from` and checks it is message (tag, seq) of `size` bytes. */
export async function receiveChecked(g: MailboxGroup, from: number, tag: number, seq: number, size: number): Promise<void> {
  const m = g.tryReceive(from) ?? (await g.receive(from, { timeout: 20000 }));
  const why = checkMessage(m.data, tag, seq, size);
  if (why) throw new Error(why);
}
