// The raw binding (lib/internal/binding.ts, below lib/'s validation) under seeded random arguments:
// every exported function and class method, 20 000 calls of wrong types, out-of-range numbers,
// BigInts, strings, typed arrays of the wrong kind and size, detached and resizable buffers, getters
// that throw or close things mid-call, wrong receivers, too many and too few arguments, against
// live segments, sync objects, mailbox rings, sockets and doorbells. Every call must return or throw
// an Error: the child (test/internal/fixtures/binding-fuzz-child.cjs, which lists what it keeps out
// of reach and why) must end by itself with status 0, never by a signal. The public API's fuzz is
// test/store/fuzz.test.ts.
//
// The seed is fixed, and printed: INTERPROC_FUZZ_SEED=n (and INTERPROC_FUZZ_CALLS=n) run another.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { native } from '../../lib/internal/binding';
import { fixture, leftoverShm, uniqueName } from '../helpers/util';

const SEED = Number(process.env.INTERPROC_FUZZ_SEED ?? 0x1f2e3d);
const CALLS = Number(process.env.INTERPROC_FUZZ_CALLS ?? 20_000);

afterAll(() => expect(leftoverShm()).toEqual([]));

interface Summary {
  seed: number;
  calls: number;
  returned: number;
  threw: number;
  thrown: Record<string, number>;
  firstOf: Record<string, string>;
  nonErrors: string[];
  uncaught: number;
  unexpected: string[];
  leftTmp: string[];
}

interface Run {
  summary?: Summary;
  where: string;
  signal: string | null;
  status: number | null;
  /** what the child left in /dev/shm (removed now): its names, its hidden segments */
  left: string[];
}

function runFuzzer(seed: number, calls: number): Run {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-fuzz-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const prefix = uniqueName('fuzz');
  const r = spawnSync(process.execPath, ['--expose-gc', fixture('internal', 'binding-fuzz-child.cjs')], {
    cwd: dir, // relative socket paths land here
    env: {
      ...process.env,
      INTERPROC_FUZZ_SEED: String(seed),
      INTERPROC_FUZZ_CALLS: String(calls),
      INTERPROC_FUZZ_PREFIX: prefix,
    },
    encoding: 'utf8',
    timeout: 600_000, // a watchdog for a hang (under ASan it all runs some 5x slower)
    maxBuffer: 64 << 20,
  });
  let lastCalls = '';
  try {
    lastCalls = readFileSync(path.join(dir, 'calls.log'), 'utf8').trimEnd().split('\n').slice(-8).join('\n');
  } catch {}
  const where = `seed ${seed} (INTERPROC_FUZZ_SEED=${seed} to repeat); last calls:\n${lastCalls}\nstderr:\n${r.stderr.slice(-4000)}`;
  let summary: Summary | undefined;
  try {
    summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {}
  const left = readdirSync('/dev/shm').filter((f) => `/${f}`.startsWith(prefix) || f.startsWith(`.interproc-tmp-${r.pid}-`));
  for (const f of left) unlinkSync(`/dev/shm/${f}`);
  return { summary, where, signal: r.signal, status: r.status, left };
}

describe('raw binding fuzz', () => {
  it(`${CALLS} calls with random arguments (seed ${SEED}): each returns or throws an Error; the child exits 0`, () => {
    console.log(`binding fuzz: seed ${SEED}, ${CALLS} calls (INTERPROC_FUZZ_SEED=${SEED} to repeat)`);
    const { summary: s, where, signal, status, left } = runFuzzer(SEED, CALLS);
    expect(signal, where).toBe(null);
    expect(status, where).toBe(0);
    expect(s, where).toBeDefined();
    if (!s) return;
    expect(s.calls).toBe(CALLS);
    expect(s.unexpected, where).toEqual([]);
    expect(s.nonErrors, 'thrown values that are not Errors').toEqual([]);
    // Both ways out are taken often: the guards refuse, and calls get through to the system.
    expect(s.threw).toBeGreaterThan(CALLS / 4);
    expect(s.returned).toBeGreaterThan(CALLS / 10);
    expect(s.thrown['TypeError ERR_INVALID_ARG_TYPE']).toBeGreaterThan(0);
    expect(s.thrown['RangeError ERR_OUT_OF_RANGE']).toBeGreaterThan(0);
    // A system error always carries its errno's name (a failed read with errno 0 once gave E0).
    expect(Object.keys(s.thrown).filter((k) => k === 'Error E0')).toEqual([]);
    // Nothing left behind: its names (under the prefix), its hidden segments.
    expect(s.leftTmp).toEqual([]);
    expect(left).toEqual([]);
  }, 900_000);
});

// A script run by a fresh node with the raw binding as `native`: a crash there is its signal.
function inChild(body: string): { signal: string | null; out: unknown; stderr: string } {
  const binding = JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'internal', 'binding'));
  const script = `const { native } = require(${binding});\n${body}`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  let out: unknown;
  try {
    out = JSON.parse(r.stdout);
  } catch {}
  return { signal: r.signal, out, stderr: r.stderr };
}

describe('what the fuzz led to, kept as direct cases (each was a crash or a wrong error before its fix)', () => {
  it("shmClose refuses a buffer that is not the mapping's (it unmapped the memory under the one still attached)", () => {
    // Before: reading the first buffer after the first call was a SIGSEGV.
    const r = inChild(`
      const a = native.shmAnonymous(8192), b = native.shmAnonymous(8192), empty = native.shmAnonymous(0);
      const out = [];
      for (const [h, buf] of [[a[0], b[1]], [a[0], new ArrayBuffer(8192)], [empty[0], b[1]]]) {
        try { native.shmClose(h, buf); out.push('none'); } catch (e) { out.push(e.name + ' ' + e.code); }
      }
      new Uint8Array(a[1])[0] = 1; new Uint8Array(b[1])[8191] = 2;  // both still mapped and attached
      native.shmClose(a[0], a[1]); native.shmClose(b[0], b[1]); native.shmClose(empty[0], empty[1]);
      out.push(a[1].byteLength, b[1].byteLength);
      process.stdout.write(JSON.stringify(out));`);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.out).toEqual([
      'TypeError ERR_INVALID_ARG_VALUE',
      'TypeError ERR_INVALID_ARG_VALUE',
      'TypeError ERR_INVALID_ARG_VALUE',
      0,
      0,
    ]);
  });

  it('ringWriteBatch whose messages getter closes the segment throws ERR_INVALID_STATE (it wrote into the unmapped ring)', () => {
    const r = inChild(`
      const t = native.shmAnonymous(native.mailboxSize(2, 4096));
      native.mailboxInit(t[0], 2, 4096);
      const [, , ringsOffset, stride] = native.mailboxCheck(t[0]);
      const messages = [new Uint8Array(8)];
      Object.defineProperty(messages, 1, { get() { native.shmClose(t[0], t[1]); return new Uint8Array(8); } });
      let out;
      try { out = native.ringWriteBatch(t[0], ringsOffset + stride, messages); } catch (e) { out = e.code; }
      process.stdout.write(JSON.stringify(out));`);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.out).toBe('ERR_INVALID_STATE');
  });

  it('sockSend takes the bytes after every getter has run: a chunk detached by one is sent empty, not from freed memory', () => {
    const r = inChild(`
      const name = 'interproc-fuzz-send-' + process.pid;
      const l = native.sockListen(1, 1, name, 0, 4, 0o600, false);
      const [c] = native.sockConnect(1, 1, name, 0);
      const s = native.sockAccept(l);
      const first = new Uint8Array([97, 98, 99, 100]); // 'abcd', in a buffer of its own (detachable)
      const chunks = [first];
      Object.defineProperty(chunks, 1, { get() { structuredClone(first.buffer, { transfer: [first.buffer] }); return Buffer.from('ef'); } });
      const sent = native.sockSend(c, chunks);
      const buf = new Uint8Array(64), out = new Int32Array(native.sockRecvOutLength);
      const n = native.sockRecv(s, buf, 0, 64, 0, 1, out);
      for (const fd of [c, s, l]) native.closeFd(fd);
      process.stdout.write(JSON.stringify([sent, Buffer.from(buf.subarray(0, n)).toString(), first.byteLength]));`);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.out).toEqual([2, 'ef', 0]);
  });

  it('a lock taken on a segment that syncAttach never saw is released when the segment closes (the robust list led into unmapped memory)', () => {
    const r = inChild(`
      const a = native.shmAnonymous(4096), b = native.shmAnonymous(4096);
      native.syncInit(1, a[0], 0, 0);
      native.syncInit(1, b[0], 0, 0);
      const out = [native.syncTry(1, a[0], 0)];
      native.shmClose(a[0], a[1]);
      out.push(native.syncTry(1, b[0], 0));  // joins the list next to the entry of the closed segment
      native.syncRelease(1, b[0], 0);
      native.shmClose(b[0], b[1]);
      process.stdout.write(JSON.stringify(out));`);
    expect(r.signal, r.stderr).toBe(null);
    expect(r.out).toEqual([0, 0]); // SyncOutcome.Acquired twice
  });

  it('doorbellDrain of an fd that is not an eventfd is EINVAL (it was an Error with code E0)', () => {
    const [h, buf, fd] = native.shmAnonymous(16); // a memfd: reads 16 bytes, then end of file
    try {
      expect(native.doorbellDrain(fd)).toBe(true); // 8 of its 16 bytes
      expect(native.doorbellDrain(fd)).toBe(true);
      expect(() => native.doorbellDrain(fd)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'read' }));
    } finally {
      native.shmClose(h, buf);
    }
  });
});
