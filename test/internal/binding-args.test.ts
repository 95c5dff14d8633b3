// The binding's argument guards (native/binding/internal/args.hpp), called directly: lib/ validates
// first, so these are the second line. Every guard kind, in every wrap file, refuses a wrong type
// with a TypeError (ERR_INVALID_ARG_TYPE) and a value out of range with a RangeError
// (ERR_OUT_OF_RANGE), never converting (undefined or a string was 0 before, which for an fd is stdin).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { Mutex, SharedMemory } from '../../lib';
import { native, type Handle } from '../../lib/internal/binding';
import { fixture, leftoverShm, uniqueName } from '../helpers/util';

const made: string[] = [];
afterEach(() => {
  for (const n of made.splice(0)) SharedMemory.unlink(n);
});
afterAll(() => expect(leftoverShm()).toEqual([]));

const BAD_FD = 1_000_000; // in range, never open: a guard that lets a call through gives EBADF
const TYPE = ['TypeError', 'ERR_INVALID_ARG_TYPE'] as const;
const RANGE = ['RangeError', 'ERR_OUT_OF_RANGE'] as const;
const VALUE = ['TypeError', 'ERR_INVALID_ARG_VALUE'] as const;
type Case = [label: string, call: () => unknown, expected: readonly [string, string]];

function check(cases: Case[]): void {
  const wrong: string[] = [];
  for (const [label, call, [name, code]] of cases) {
    let err: any;
    try {
      call();
    } catch (e) {
      err = e;
    }
    if (err === undefined) wrong.push(`${label}: did not throw`);
    else if (err.name !== name || err.code !== code) wrong.push(`${label}: ${err.name} ${err.code} (${err.message})`);
  }
  expect(wrong).toEqual([]);
}

function mapping(): { shm: SharedMemory; h: Handle } {
  const name = uniqueName('args');
  made.push(name);
  const shm = SharedMemory.create(name, { size: 8192 });
  return { shm, h: SharedMemory.handleOf(shm) };
}

describe('binding argument guards', () => {
  it('shm/shared_memory_wrap.cc: name, open mode, size, mode, readonly, fd, buffer', () => {
    const name = uniqueName('args-never');
    made.push(name); // unlinked after the test, should a guard ever let a create through
    const { shm, h } = mapping();
    check([
      ['shmOpen name undefined', () => native.shmOpen(undefined as any, 0, 4096, 0o600, false), TYPE],
      ['shmOpen name with a second /', () => native.shmOpen('/a/b', 0, 4096, 0o600, false), VALUE],
      ['shmOpen how as a string', () => native.shmOpen(name, '0' as any, 4096, 0o600, false), TYPE],
      ['shmOpen how 3', () => native.shmOpen(name, 3 as any, 4096, 0o600, false), RANGE],
      ['shmOpen size undefined', () => native.shmOpen(name, 0, undefined as any, 0o600, false), TYPE],
      ['shmOpen size negative', () => native.shmOpen(name, 0, -1, 0o600, false), RANGE],
      ['shmOpen size fractional', () => native.shmOpen(name, 0, 4096.5, 0o600, false), RANGE],
      ['shmOpen size NaN', () => native.shmOpen(name, 0, NaN, 0o600, false), RANGE],
      ['shmOpen size huge', () => native.shmOpen(name, 0, 2 ** 53, 0o600, false), RANGE],
      ['shmOpen mode undefined', () => native.shmOpen(name, 0, 4096, undefined as any, false), TYPE],
      ['shmOpen mode beyond 0o7777', () => native.shmOpen(name, 0, 4096, 0o10000, false), RANGE],
      ['shmOpen readonly as a number', () => native.shmOpen(name, 0, 4096, 0o600, 1 as any), TYPE],
      ['shmCreateHidden size as a string', () => native.shmCreateHidden('4096' as any, 0o600), TYPE],
      ['shmCreateHidden mode negative', () => native.shmCreateHidden(4096, -1), RANGE],
      ['shmAnonymous size undefined', () => native.shmAnonymous(undefined as any), TYPE],
      ['shmAnonymous size Infinity', () => native.shmAnonymous(Infinity), RANGE],
      ['shmPublish a name that is not temporary', () => native.shmPublish('/plain', name), VALUE],
      ['shmPublish name a number', () => native.shmPublish('/.interproc-tmp-x', 5 as any), TYPE],
      ['shmFromFd fd undefined', () => native.shmFromFd(undefined as any, false), TYPE],
      ['shmFromFd fd negative', () => native.shmFromFd(-1, false), RANGE],
      ['shmFromFd fd fractional (was truncated to 1: stdout)', () => native.shmFromFd(1.5, false), RANGE],
      ['shmFromFd fd huge', () => native.shmFromFd(2 ** 31, false), RANGE],
      ['shmFromFd readonly undefined', () => native.shmFromFd(shm.fd, undefined as any), TYPE],
      ['shmUnlink name a number', () => native.shmUnlink(5 as any), TYPE],
      ['shmSizeSealed handle a number', () => native.shmSizeSealed(5 as any), TYPE],
      ['shmClose buffer undefined', () => native.shmClose(h, undefined as any), TYPE],
      ['shmClose buffer a typed array', () => native.shmClose(h, new Uint8Array(4) as any), TYPE],
    ]);
    expect(leftoverShm().some((f) => `/${f}` === name)).toBe(false);
    expect(shm.closed).toBe(false);
    expect(new Int32Array(shm.buffer).length).toBe(2048); // shmClose refused: still mapped
    shm.close();
  });

  it('shm/futex_wrap.cc: byte offset (multiple of 4), expected word, timeout, wake count, keepAlive', () => {
    const { shm, h } = mapping();
    // The word is 0 and the bad-timeout calls expect 1: a guard that let one through would return
    // 'not-equal' at once instead of sleeping forever.
    check([
      ['futexWait offset as a string', () => native.futexWait(h, '0' as any, 0, 0), TYPE],
      ['futexWait offset undefined', () => native.futexWait(h, undefined as any, 0, 0), TYPE],
      ['futexWait offset not a multiple of 4', () => native.futexWait(h, 2, 0, 0), RANGE],
      ['futexWait offset negative', () => native.futexWait(h, -4, 0, 0), RANGE],
      ['futexWait offset outside the mapping', () => native.futexWait(h, 8192, 0, 0), RANGE],
      ['futexWait expected undefined', () => native.futexWait(h, 0, undefined as any, 0), TYPE],
      ['futexWait expected fractional', () => native.futexWait(h, 0, 0.5, 0), RANGE],
      ['futexWait expected beyond 32 bits', () => native.futexWait(h, 0, 2 ** 32, 0), RANGE],
      ['futexWait timeout NaN (was: forever)', () => native.futexWait(h, 0, 1, NaN), RANGE],
      ['futexWait timeout negative', () => native.futexWait(h, 0, 1, -1), RANGE],
      ['futexWait timeout as a string (was: forever)', () => native.futexWait(h, 0, 1, '5' as any), TYPE],
      ['futexWait handle a number', () => native.futexWait(1 as any, 0, 0, 0), TYPE],
      ['futexWake count undefined', () => native.futexWake(h, 0, undefined as any), TYPE],
      ['futexWake count negative', () => native.futexWake(h, 0, -1), RANGE],
      ['futexWake count NaN', () => native.futexWake(h, 0, NaN), RANGE],
      ['futexWake count fractional', () => native.futexWake(h, 0, 1.5), RANGE],
      ['futexWaitAsync keepAlive undefined', () => native.futexWaitAsync(h, 0, 0, 10, undefined as any), TYPE],
      ['futexWaitAsync timeout a string', () => native.futexWaitAsync(h, 0, 0, 'x' as any, {}), TYPE],
    ]);
    // The valid edges still pass: 0 = do not wait, undefined/Infinity count, a Uint32 word.
    expect(native.futexWait(h, 0, 0, 0)).toBe(2);
    expect(native.futexWait(h, 4, 0xffffffff, undefined)).toBe(1);
    expect(native.futexWake(h, 0, Infinity)).toBe(0);
    expect(native.futexWake(h, 0, 2 ** 40)).toBe(0);
    shm.close();
  });

  it('sync/sync_wrap.cc: kind, op, byte offset (multiple of 8), param, flags, timeout, arg, id, count', () => {
    const { shm, h } = mapping();
    Mutex.initAt(shm, 0);
    native.syncInit(2, h, 64, 1, 0); // a Semaphore at 64
    check([
      ['syncInit kind as a string', () => native.syncInit('1' as any, h, 128, 0), TYPE],
      ['syncInit kind 6', () => native.syncInit(6, h, 128, 0), RANGE],
      ['syncInit offset not a multiple of 8', () => native.syncInit(1, h, 132, 0), RANGE],
      ['syncInit offset undefined', () => native.syncInit(1, h, undefined as any, 0), TYPE],
      ['syncInit param undefined (was 0)', () => native.syncInit(1, h, 128, undefined as any), TYPE],
      ['syncInit param negative', () => native.syncInit(1, h, 128, -1), RANGE],
      ['syncInit flags 256', () => native.syncInit(2, h, 128, 1, 256), RANGE],
      ['syncInit flags a boolean', () => native.syncInit(2, h, 128, 1, true as any), TYPE],
      ['syncTry op undefined', () => native.syncTry(undefined as any, h, 0), TYPE],
      ['syncTry op fractional', () => native.syncTry(1.5, h, 0), RANGE],
      ['syncTry offset huge', () => native.syncTry(1, h, 2 ** 53), RANGE],
      ['syncAcquireSync timeout NaN', () => native.syncAcquireSync(1, h, 0, NaN, 0), RANGE],
      ['syncAcquireSync timeout negative', () => native.syncAcquireSync(1, h, 0, -5, 0), RANGE],
      ['syncAcquireSync arg undefined', () => native.syncAcquireSync(1, h, 0, 0, undefined as any), TYPE],
      ['syncAcquireAsync keepAlive undefined', () => native.syncAcquireAsync(1, h, 0, 0, 0, undefined as any), TYPE],
      ['syncAcquireAsync arg a string', () => native.syncAcquireAsync(1, h, 0, 0, '0' as any, {}), TYPE],
      ['syncCancel id as a string', () => native.syncCancel('1' as any), TYPE],
      ['syncCancel id negative', () => native.syncCancel(-1), RANGE],
      ['syncRelease count fractional', () => native.syncRelease(2, h, 64, 1.5), RANGE],
      ['syncRelease count beyond the semaphore maximum', () => native.syncRelease(2, h, 64, 2 ** 31), RANGE],
      ['syncRelease count a string', () => native.syncRelease(2, h, 64, '1' as any), TYPE],
      ['syncMarkConsistent kind NaN', () => native.syncMarkConsistent(NaN, h, 0), RANGE],
      ['syncArrive offset a string', () => native.syncArrive(h, '0' as any), TYPE],
      ['syncInfo kind undefined', () => native.syncInfo(undefined as any, h, 0), TYPE],
      ['syncInspect handle a number', () => native.syncInspect(5 as any, 0), TYPE],
      ['syncInspect offset not a multiple of 8', () => native.syncInspect(h, 4), RANGE],
      ['syncInspect offset a string', () => native.syncInspect(h, '0' as any), TYPE],
    ]);
    expect(native.syncInspect(h, 8192)).toBeNull(); // no header fits there
    expect(native.syncInspect(h, 128)).toBeNull(); // zeros: no magic
    expect(native.syncInfo(2, h, 64).value).toBe(1); // no release went through
    expect(native.syncInfo(1, h, 0).owner).toBe(0); // no acquire went through
    expect(new Uint8Array(shm.buffer, 128, 64).every((b) => b === 0)).toBe(true); // no init went through
    shm.close();
  });

  it('channel/channel_wrap.cc: fd, kind, address, port, backlog, mode, flags, buffers, fd lists', () => {
    const buf = new Uint8Array(64);
    const out = new Int32Array(native.sockRecvOutLength);
    const many = new Int32Array(native.sockRecvManyOutLength);
    const path = `/tmp/interproc-args-${process.pid}.sock`;
    onTestFinished(() => rmSync(path, { force: true })); // should a guard ever let a listen through
    check([
      ['sockListen kind as a string (was coerced)', () => native.sockListen('0' as any, 0, path, 0, 16, 0o600, true), TYPE],
      ['sockListen kind 3', () => native.sockListen(3, 0, path, 0, 16, 0o600, true), RANGE],
      ['sockListen family undefined (was 0)', () => native.sockListen(0, undefined as any, path, 0, 16, 0o600, true), TYPE],
      ['sockListen name a number', () => native.sockListen(0, 0, 5 as any, 0, 16, 0o600, true), TYPE],
      ['sockListen port undefined', () => native.sockListen(0, 0, path, undefined as any, 16, 0o600, true), TYPE],
      ['sockListen port 65536', () => native.sockListen(0, 2, '127.0.0.1', 65536, 16, 0o600, true), RANGE],
      ['sockListen backlog undefined', () => native.sockListen(0, 0, path, 0, undefined as any, 0o600, true), TYPE],
      ['sockListen mode as a string', () => native.sockListen(0, 0, path, 0, 16, '600' as any, true), TYPE],
      ['sockListen replaceStale a number (was coerced)', () => native.sockListen(0, 0, path, 0, 16, 0o600, 1 as any), TYPE],
      ['sockListen an empty path', () => native.sockListen(0, 0, '', 0, 16, 0o600, true), VALUE],
      ['sockConnect port NaN', () => native.sockConnect(0, 2, '127.0.0.1', NaN), RANGE],
      ['sockConnectResult address a number', () => native.sockConnectResult(BAD_FD, 5 as any), TYPE],
      ['sockAccept fd undefined', () => native.sockAccept(undefined as any), TYPE],
      ['sockAccept fd as a string', () => native.sockAccept('3' as any), TYPE],
      ['sockPeerCred fd negative', () => native.sockPeerCred(-1), RANGE],
      ['sockLocalAddress fd fractional', () => native.sockLocalAddress(3.5), RANGE],
      ['dupFd fd huge', () => native.dupFd(2 ** 31), RANGE],
      ['closeFd fd NaN', () => native.closeFd(NaN), RANGE],
      ['sockRecv buffer a string', () => native.sockRecv(BAD_FD, 'x' as any, 0, 1, 0, 0, out), TYPE],
      ['sockRecv offset negative', () => native.sockRecv(BAD_FD, buf, -1, 1, 0, 0, out), RANGE],
      ['sockRecv length as a string (was coerced)', () => native.sockRecv(BAD_FD, buf, 0, '8' as any, 0, 0, out), TYPE],
      ['sockRecv maxFds beyond 253', () => native.sockRecv(BAD_FD, buf, 0, 8, 254, 0, out), RANGE],
      ['sockRecv maxFds undefined', () => native.sockRecv(BAD_FD, buf, 0, 8, undefined as any, 0, out), TYPE],
      ['sockRecv flags 4', () => native.sockRecv(BAD_FD, buf, 0, 8, 0, 4, out), RANGE],
      ['sockRecv out too short', () => native.sockRecv(BAD_FD, buf, 0, 8, 0, 0, new Int32Array(8)), RANGE],
      ['sockRecv addrOut not a typed array', () => native.sockRecv(BAD_FD, buf, 0, 8, 0, 2, out, {} as any), TYPE],
      ['sockRecvMany count 0', () => native.sockRecvMany(BAD_FD, buf, 8, 0, 0, 0, many), RANGE],
      ['sockRecvMany count 65', () => native.sockRecvMany(BAD_FD, new Uint8Array(65 * 8), 8, 65, 0, 0, many), RANGE],
      ['sockRecvMany slotSize 0', () => native.sockRecvMany(BAD_FD, buf, 0, 1, 0, 0, many), RANGE],
      ['sockRecvMany slotSize fractional', () => native.sockRecvMany(BAD_FD, buf, 1.5, 1, 0, 0, many), RANGE],
      ['sockSend data a string', () => native.sockSend(BAD_FD, 'x' as any), TYPE],
      ['sockSend a chunk that is not bytes', () => native.sockSend(BAD_FD, [buf, 5 as any]), TYPE],
      ['sockSend fds not an array (was ignored)', () => native.sockSend(BAD_FD, buf, 'x' as any), TYPE],
      ['sockSend an fd negative', () => native.sockSend(BAD_FD, buf, [-1]), RANGE],
      ['sockSend to not bytes (was ignored)', () => native.sockSend(BAD_FD, buf, undefined, 'x' as any), TYPE],
      ['sockSend to too short', () => native.sockSend(BAD_FD, buf, undefined, new Uint8Array(1)), RANGE],
      ['sockSendMany datas not an array', () => native.sockSendMany(BAD_FD, buf as any), TYPE],
      ['sockSendMany fdsList not an array', () => native.sockSendMany(BAD_FD, [buf], 3 as any), TYPE],
      ['sockSendMany an fd fractional', () => native.sockSendMany(BAD_FD, [buf], [[0.5]]), RANGE],
    ]);
    // Not one of those reached a system call: a call that does gives EBADF for this fd.
    expect(() => native.sockAccept(BAD_FD)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('channel out-arrays of the wrong element type are refused (in a child: before, they were overrun)', () => {
    const r = spawnSync(process.execPath, [fixture('internal', 'binding-args-child.cjs')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBe(null);
    expect(r.status).toBe(0);
    const results = JSON.parse(r.stdout.trim()) as Array<{ label: string; name: string; code?: string }>;
    expect(results.length).toBe(6);
    const byLabel = Object.fromEntries(results.map((x) => [x.label, `${x.name} ${x.code}`]));
    expect(byLabel).toEqual({
      'sockRecv out: Uint8Array of the Int32 length': 'TypeError ERR_INVALID_ARG_TYPE',
      'sockRecv out: Float64Array': 'TypeError ERR_INVALID_ARG_TYPE',
      'sockRecvMany out: Uint8Array of the Int32 length': 'TypeError ERR_INVALID_ARG_TYPE',
      'sockRecv offset + length beyond the buffer': 'RangeError ERR_OUT_OF_RANGE',
      'sockRecv addrOut missing when wanted': 'TypeError ERR_INVALID_ARG_TYPE',
      'sockRecvMany slotSize * count beyond the buffer': 'RangeError ERR_OUT_OF_RANGE',
    });
  });

  it('mailbox/mailbox_wrap.cc: u32 sizes, pid, fd, ring offset, byte arrays', () => {
    const { shm, h } = mapping();
    check([
      ['mailboxSize members as a string', () => native.mailboxSize('2' as any, 4096), TYPE],
      ['mailboxSize members negative', () => native.mailboxSize(-1, 4096), RANGE],
      ['mailboxSize capacity beyond 32 bits', () => native.mailboxSize(2, 2 ** 32), RANGE],
      ['mailboxInit capacity undefined', () => native.mailboxInit(h, 2, undefined as any), TYPE],
      ['processStartTime pid undefined', () => native.processStartTime(undefined as any), TYPE],
      ['processStartTime pid fractional', () => native.processStartTime(1.5), RANGE],
      ['doorbellRing fd as a string', () => native.doorbellRing('3' as any), TYPE],
      ['doorbellDrain fd negative', () => native.doorbellDrain(-1), RANGE],
      ['doorbellFetch pid NaN', () => native.doorbellFetch(NaN, 3), RANGE],
      ['doorbellFetch fd huge', () => native.doorbellFetch(process.pid, 2 ** 31), RANGE],
      ['doorbellClose fd undefined', () => native.doorbellClose(undefined as any), TYPE],
      ['doorbellWait seen a string', () => native.doorbellWait(h, 0, '0' as any, 0, BAD_FD, -1), TYPE],
      ['doorbellWait timeout negative', () => native.doorbellWait(h, 0, 0, -1, BAD_FD, -1), RANGE],
      ['doorbellWait efd negative', () => native.doorbellWait(h, 0, 0, 0, -1, -1), RANGE],
      ['doorbellWait pidfd below -1', () => native.doorbellWait(h, 0, 0, 0, BAD_FD, -2), RANGE],
      ['doorbellWait pidfd undefined', () => native.doorbellWait(h, 0, 0, 0, BAD_FD, undefined as any), TYPE],
      ['doorbellWait bell offset not a multiple of 4', () => native.doorbellWait(h, 2, 0, 0, BAD_FD, -1), RANGE],
      ['doorbellWait bell offset outside the mapping', () => native.doorbellWait(h, 8192, 0, 0, BAD_FD, -1), RANGE],
      ['doorbellWait handle a number', () => native.doorbellWait(1 as any, 0, 0, 0, BAD_FD, -1), TYPE],
      ['ringReadBatch ring offset a string', () => native.ringReadBatch(h, '0' as any, new Uint8Array(64)), TYPE],
      ['ringReadBatch ring offset negative', () => native.ringReadBatch(h, -64, new Uint8Array(64)), RANGE],
      ['ringReadBatch no ring there', () => native.ringReadBatch(h, 0, new Uint8Array(64)), RANGE],
    ]);
    expect(new Uint8Array(shm.buffer).every((b) => b === 0)).toBe(true); // no init went through
    // Arguments in range reach the system: a number that is no open fd is EBADF, not a sleep.
    expect(() => native.doorbellWait(h, 0, 0, 0, BAD_FD, -1)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    shm.close();
  });

  it('internal/blocking_pool_wrap.cc and fd_watcher_wrap.cc: job id, idle timeout, flag, fd, callback, options, events', () => {
    const efd = native.doorbellCreate();
    const w = new native.FdWatcher(efd, () => {});
    try {
      check([
        ['blockingCancel id as a string', () => native.blockingCancel('1' as any), TYPE],
        ['blockingCancel id negative', () => native.blockingCancel(-1), RANGE],
        ['blockingIdleTimeout NaN', () => native.blockingIdleTimeout(NaN), RANGE],
        ['blockingIdleTimeout a string', () => native.blockingIdleTimeout('5' as any), TYPE],
        ['setWorker a number (was coerced)', () => native.setWorker(0 as any), TYPE],
        ['FdWatcher fd as a string', () => new native.FdWatcher('3' as any, () => {}), TYPE],
        ['FdWatcher fd negative', () => new native.FdWatcher(-1, () => {}), RANGE],
        ['FdWatcher fd fractional', () => new native.FdWatcher(efd + 0.5, () => {}), RANGE],
        ['FdWatcher callback missing', () => new native.FdWatcher(efd, undefined as any), TYPE],
        [
          'FdWatcher options.eventfd a number (was coerced)',
          () => new native.FdWatcher(efd, () => {}, { eventfd: 1 as any }),
          TYPE,
        ],
        ['FdWatcher options a number', () => new native.FdWatcher(efd, () => {}, 5 as any), TYPE],
        ['start events as a string', () => w.start('1' as any), TYPE],
        ['start events 8', () => w.start(8), RANGE],
        ['start events fractional', () => w.start(1.5), RANGE],
      ]);
    } finally {
      w.close();
      native.doorbellClose(efd);
    }
  });

  it('internal/pid_watcher_wrap.cc: pid, callback; ESRCH for no such process; one callback, then released', async () => {
    check([
      ['PidWatcher pid as a string', () => new native.PidWatcher('1' as any, () => {}), TYPE],
      ['PidWatcher pid 0', () => new native.PidWatcher(0, () => {}), RANGE],
      ['PidWatcher pid fractional', () => new native.PidWatcher(1.5, () => {}), RANGE],
      ['PidWatcher callback missing', () => new native.PidWatcher(process.pid, undefined as any), TYPE],
    ]);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    expect(() => new native.PidWatcher(Number(child.stdout), () => {})).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    const w = new native.PidWatcher(process.pid, () => {});
    w.unref();
    w.close();
    w.close(); // idempotent; ref/unref after close do nothing
    w.ref();
  });
});
