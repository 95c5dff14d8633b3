// Whatever is in /dev/shm is untrusted: files that start with one of the library's marks and then
// hold garbage, are cut short or are empty are listed as 'damaged' or 'unknown' (never a crash),
// gc never removes them, and inspect reads each without failing.
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GROUP_AREA_MAGIC,
  STORE_LAYOUT_MAGIC,
  STORE_LAYOUT_VERSION,
  SYNC_LAYOUT_VERSION,
  SYNC_MAGIC,
  SyncKind,
} from '../../lib/internal/contract';
import { layout } from '../../lib/mailbox/ring';
import { cli, cliJson } from '../helpers/cli';
import { leftoverShm, uniqueName } from '../helpers/util';

const files: { name: string; bytes: Buffer; kinds: string[] }[] = [];

/** A sync header: magic, version (u16), kind (u8), flags (u8), state, param. */
function syncHeader(size: number, version: number, kind: number, param: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(SYNC_MAGIC, 0);
  b.writeUInt16LE(version, 4);
  b.writeUInt8(kind, 6);
  b.writeUInt32LE(param, 12);
  return b;
}

function add(bytes: Buffer, ...kinds: string[]): void {
  files.push({ name: uniqueName('cli-damaged'), bytes, kinds });
}

beforeAll(() => {
  const withMagic = (magic: number, size: number) => {
    const b = randomBytes(size);
    if (size >= 4) b.writeUInt32LE(magic, 0);
    return b;
  };
  for (const size of [4, 17, 64, 4096, 70000]) {
    add(withMagic(layout.magic, size), 'mailbox-group');
    const sync = withMagic(SYNC_MAGIC, size);
    if (size >= 6) sync.writeUInt16LE(SYNC_LAYOUT_VERSION + 0x100, 4); // else, once in 65536 runs, a valid header
    add(sync, 'mutex', 'semaphore', 'condition', 'barrier', 'rwlock', 'unknown');
    add(withMagic(STORE_LAYOUT_MAGIC, size), 'store');
    add(withMagic(GROUP_AREA_MAGIC, size), 'group-area');
  }
  add(syncHeader(64, SYNC_LAYOUT_VERSION + 1, SyncKind.Mutex, 0), 'mutex'); // another layout version
  add(syncHeader(64, SYNC_LAYOUT_VERSION, 99, 0), 'unknown'); // no such kind
  add(syncHeader(64, SYNC_LAYOUT_VERSION, SyncKind.Barrier, 0), 'barrier'); // no parties
  add(syncHeader(64, SYNC_LAYOUT_VERSION, SyncKind.Barrier, 1_000_000), 'barrier'); // too many
  add(syncHeader(4096, SYNC_LAYOUT_VERSION, SyncKind.Mutex, 0), 'unknown'); // a segment that starts with a mutex
  const store = Buffer.alloc(8);
  store.writeUInt32LE(STORE_LAYOUT_MAGIC, 0);
  store.writeUInt32LE(STORE_LAYOUT_VERSION, 4);
  add(store, 'store'); // a layout record cut short
  add(Buffer.alloc(0), 'unknown');
  for (const f of files) writeFileSync(`/dev/shm${f.name}`, f.bytes, { mode: 0o600 });
});

afterAll(() => {
  for (const f of files) rmSync(`/dev/shm${f.name}`, { force: true });
  expect(leftoverShm()).toEqual([]);
});

const match = () => ['--match', `/interproc-cli-damaged-${process.pid}-*`];

describe('damaged and foreign files', () => {
  it('ls lists each as damaged or unknown, never alive or removable', async () => {
    const { objects } = await cliJson<{ objects: any[] }>(['ls', ...match()]);
    expect(objects).toHaveLength(files.length);
    const by = new Map(objects.map((o) => [o.name, o]));
    for (const f of files) {
      const o = by.get(f.name);
      expect(f.kinds, `${f.name} (${f.bytes.length} bytes)`).toContain(o.kind);
      if (o.kind !== 'unknown') expect(o.damaged, `${f.name} (${f.bytes.length} bytes)`).toEqual(expect.any(String));
      expect(o.users, f.name).not.toBe('alive');
    }
  });

  it('gc removes none of them, and inspect reads each', async () => {
    const r = await cliJson(['gc', ...match()]);
    expect(r.removed).toEqual([]);
    for (const f of files) expect(existsSync(`/dev/shm${f.name}`)).toBe(true);
    for (const f of files.filter((_, i) => i % 3 === 0)) {
      const i = await cli(['inspect', f.name]);
      expect(i.code, `${f.name}: ${i.stderr}`).toBe(0);
    }
  });
});
