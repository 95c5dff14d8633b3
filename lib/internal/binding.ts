// Loads the native addon and types it. `bindings` looks for it by the rules of scripts/addon-search.cjs
// (the install step follows the same ones): a local build, a prebuild for this platform and libc, or
// interproc.node next to a bundle.
import path from 'node:path';
import { FutexWaitOutcome } from './contract';

export type Handle = object & { readonly __brand?: 'interproc.handle' };
/** [handle, buffer, fd, size, created] */
export type SegmentTuple = [Handle, ArrayBuffer, number, number, boolean];
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';
/** native.futexWait's codes (FutexWaitOutcome, native/contract/contract.json) to their names. */
export const WAIT_OUTCOMES: readonly WaitResult[] = (() => {
  const names: WaitResult[] = [];
  names[FutexWaitOutcome.Ok] = 'ok';
  names[FutexWaitOutcome.NotEqual] = 'not-equal';
  names[FutexWaitOutcome.TimedOut] = 'timed-out';
  return names;
})();
export const WAIT_TIMED_OUT = FutexWaitOutcome.TimedOut;

/**
 * Readiness of an fd on this thread's event loop (libuv poll). events: POLL_READABLE, POLL_WRITABLE,
 * POLL_DISCONNECT (1, 2, 4: lib/internal/contract.ts).
 */
export interface FdWatcher {
  start(events: number): void;
  stop(): void;
  close(): void;
  ref(): void;
  unref(): void;
  /** Doorbell mode: whether the fd is registered edge-triggered now (no read per wake-up). */
  edgeTriggered(): boolean;
}

/** Doorbell mode of an FdWatcher: the fd is an eventfd; the callback then gets no arguments unless status < 0. */
export interface FdWatcherOptions {
  /** Reset the eventfd natively before each callback (unless edge-triggered). */
  eventfd?: boolean;
  /** Re-register the eventfd with EPOLLET on the first wake-up, so it is never read again. */
  edgeTriggered?: boolean;
}

/** The mailbox segment's offsets and constants, as native/core/mailbox/ring.hpp defines them (mailboxLayout()). */
export interface RingLayout {
  magic: number;
  version: number;
  recordHeader: number;
  padMarker: number;
  minCapacity: number;
  maxCapacity: number;
  maxMembers: number;
  groupHeaderSize: number;
  memberSlotSize: number;
  ringHeaderSize: number;
  slotGen: number;
  slotPid: number;
  slotStartLo: number;
  slotStartHi: number;
  slotEventfd: number;
  slotBell: number;
  /** The member's death word (native/core/mailbox/death_word.hpp), a kernel robust futex word. */
  slotDeath: number;
  ringTail: number;
  ringHead: number;
  ringConsumerSleep: number;
  ringProducerSleep: number;
  ringCapacity: number;
}

/** What one robust word of a synchronisation object says (native/core/sync/robust_slot.hpp WordView). */
export interface SyncWord {
  /** The holder's thread id; 0 = none. */
  tid: number;
  /** The last holder died (or, for a Barrier party, left) holding it. */
  ownerDied: boolean;
  /** A thread sleeps on it. */
  waiters: boolean;
  /** Per object: RwLock read recursion, Semaphore permits held. */
  aux: number;
}

/** native.syncInspect: a synchronisation object's header and, when this build reads it, its state. */
export interface SyncInspection {
  version: number;
  kind: number;
  flags: number;
  state: number;
  param: number;
  /** Why the rest cannot be read (another layout version, an unknown kind, too small, truncated). */
  damaged?: string;
  byteLength?: number;
  /** Mutex */
  lock?: SyncWord;
  /** Mutex, RwLock: false after an owner death until markConsistent(). */
  consistent?: boolean;
  notRecoverable?: boolean;
  /** Semaphore */
  robust?: boolean;
  value?: number;
  /** Semaphore, Condition: threads asleep in a wait now. */
  sleepers?: number;
  /** Semaphore (robust): one slot per holding thread, aux = permits held. */
  holders?: SyncWord[];
  /** Condition */
  sequence?: number;
  /** Barrier */
  parties?: number;
  arrived?: number;
  generation?: number;
  broken?: boolean;
  slots?: SyncWord[];
  /** RwLock */
  writer?: SyncWord;
  readers?: SyncWord[];
}

/** A process's end on this thread's event loop (pidfd + libuv poll): native/binding/internal/pid_watcher_wrap.cc. */
export interface PidWatcher {
  close(): void;
  ref(): void;
  unref(): void;
  /** The pidfd: -1 once the callback ran, or after close(). */
  fd(): number;
}

/** Another member's death word stopped naming its holder (native/binding/mailbox/death_watcher_wrap.cc). */
export interface DeathWatcher {
  close(): void;
  ref(): void;
  unref(): void;
  /** An eventfd that becomes readable when the word changes (for a sync sleep); -1 once the callback ran or after close(). */
  fd(): number;
}

export interface NativeBinding {
  /** Throws ESRCH (no such process), ENOSYS/EPERM (pidfds not permitted). The callback runs once. */
  PidWatcher: new (
    pid: number,
    callback: (code: number, signal: number, known: boolean) => void,
  ) => PidWatcher;
  /** Watches member `member`'s death word while it names thread `tid`; the callback runs once, when it stops. */
  DeathWatcher: new (
    handle: Handle,
    member: number,
    tid: number,
    callback: () => void,
  ) => DeathWatcher;
  /** dst[i] = a[i] op b[i] for i < n; all three of element type `type` (native/binding/group/reduce_wrap.cc). */
  groupReduce(op: number, type: number, dst: ArrayBufferView, a: ArrayBufferView, b: ArrayBufferView, n: number): void;
  /** sched_yield(2): lets another runnable thread have this CPU (native/binding/internal/sched_wrap.cc). */
  schedYield(): void;
  FdWatcher: new (fd: number, callback: (status: number, events: number) => void, options?: FdWatcherOptions) => FdWatcher;
  shmOpen(name: string, how: 0 | 1 | 2, size: number, mode: number, readonly: boolean): SegmentTuple;
  shmAnonymous(size: number): SegmentTuple;
  /** [...SegmentTuple, temporary name] */
  shmCreateHidden(size: number, mode: number): [...SegmentTuple, string];
  shmPublish(tmpName: string, name: string): void;
  shmFromFd(fd: number, readonly: boolean): SegmentTuple;
  shmUnlink(name: string): boolean;
  shmClose(handle: Handle, buffer: ArrayBuffer): void;
  shmSizeSealed(handle: Handle): boolean;
  shmGuardSlot(handle: Handle): number;
  shmTruncationWords(): Uint32Array;
  shmCheckTruncated(handle: Handle): boolean;
  /** A FutexWaitOutcome (0 ok, 1 not-equal, 2 timed-out: WAIT_OUTCOMES); undefined when a worker is being terminated. */
  futexWait(handle: Handle, byteOffset: number, expected: number, timeoutMs: number | undefined): number | undefined;
  futexWake(handle: Handle, byteOffset: number, count: number): number;
  futexWaitAsync(
    handle: Handle,
    byteOffset: number,
    expected: number,
    timeoutMs: number | undefined,
    keepAlive: object,
  ): [Promise<WaitResult>, number];
  blockingCancel(jobId: number): boolean;
  // Synchronisation primitives (native/binding/sync/sync_wrap.cc); kind SyncKind, op SyncOp or SyncRelease,
  // results SyncOutcome (lib/internal/contract.ts).
  // `shape`: what syncAttach returned (Barrier parties, Semaphore robust 1/0), checked against the header on
  // every call (ERR_SYNC_LAYOUT_MISMATCH once rewritten); omitted, the header's is read once for the call.
  syncInit(kind: number, handle: Handle, byteOffset: number, param: number, flags?: number): void;
  syncAttach(kind: number, handle: Handle, byteOffset: number): number;
  syncTry(op: number, handle: Handle, byteOffset: number, shape?: number): number;
  // undefined: the worker thread is being terminated
  syncAcquireSync(
    op: number,
    handle: Handle,
    byteOffset: number,
    timeoutMs: number | undefined,
    arg: number,
    shape?: number,
  ): number;
  syncAcquireAsync(
    op: number,
    handle: Handle,
    byteOffset: number,
    timeoutMs: number | undefined,
    arg: number,
    keepAlive: object,
    shape?: number,
  ): [Promise<number>, number];
  /** closed: the object was closed (ERR_INVALID_STATE, the wait gives up at once); else an AbortError. */
  syncCancel(id: number, closed?: boolean): boolean;
  syncRelease(op: number, handle: Handle, byteOffset: number, n?: number, shape?: number): number | undefined;
  syncMarkConsistent(kind: number, handle: Handle, byteOffset: number): void;
  syncArrive(handle: Handle, byteOffset: number, shape?: number): [number, number];
  // biome-ignore lint/suspicious/noExplicitAny: one entry point for five kinds, each read by its own getters in lib/sync
  syncInfo(kind: number, handle: Handle, byteOffset: number, shape?: number): any;
  /** Loads only, never attaches (works on a read-only mapping): null when no synchronisation object starts there. */
  syncInspect(handle: Handle, byteOffset: number): SyncInspection | null;
  // sockets (native/binding/channel/channel_wrap.cc); kind a SocketKind (0 stream | 1 seqpacket | 2 datagram),
  // family an AddressFamily (0 path | 1 abstract | 2 TCP), flags, out[] slots and bits SOCK_* (lib/internal/contract.ts)
  sockListen(
    kind: number,
    family: number,
    name: string,
    port: number,
    backlog: number,
    mode: number,
    replaceStale: boolean,
  ): number;
  sockConnect(kind: number, family: number, name: string, port: number): [fd: number, pending: boolean];
  sockConnectResult(fd: number, address?: string): void;
  sockAccept(fd: number): number;
  sockPeerCred(fd: number): [pid: number, uid: number, gid: number];
  sockLocalAddress(fd: number): [family: number, name: string, port: number];
  sockRecv(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    maxFds: number,
    flags: number,
    out: Int32Array,
    addrOut?: Uint8Array,
  ): number;
  sockSend(fd: number, data: Uint8Array | Uint8Array[], fds?: number[], to?: Uint8Array): number;
  sockRecvOutLength: number;
  sockRecvMany(
    fd: number,
    buffer: Uint8Array,
    slotSize: number,
    count: number,
    maxFds: number,
    flags: number,
    out: Int32Array,
    addrOut?: Uint8Array,
  ): number;
  sockRecvManyOutLength: number;
  sockSendMany(fd: number, datas: Uint8Array[], fdsList?: (number[] | undefined)[], to?: Uint8Array): number;
  dupFd(fd: number): number;
  closeFd(fd: number): void;
  blockingThreadCount(): number;
  blockingIdleTimeout(ms: number): void;
  setWorker(isWorker: boolean): void;
  // mailboxes (native/binding/mailbox/mailbox_wrap.cc)
  mailboxLayout(): RingLayout;
  mailboxSize(members: number, ringSize: number): number;
  mailboxInit(handle: Handle, members: number, ringSize: number): void;
  /** [members, ringSize, ringsOffset, ringStride]; null while no header is published yet; throws ERR_MAILBOX_INCOMPATIBLE */
  mailboxCheck(handle: Handle): [number, number, number, number] | null;
  processStartTime(pid: number): number;
  /** This environment holds member slot `member` (incarnation `gen`): its cleanup hook leaves it unless released. */
  mailboxHold(handle: Handle, member: number, gen: number): number;
  mailboxRelease(token: number): void;
  doorbellCreate(): number;
  doorbellRing(fd: number): void;
  doorbellDrain(fd: number): boolean;
  doorbellFetch(pid: number, fd: number): number;
  doorbellClose(fd: number): void;
  /**
   * A sync wait on eventfd `efd` and on `pidfd` (-1: none): a DoorbellWaitOutcome (lib/internal/contract.ts);
   * undefined when a worker is being terminated. `seen`: the bell word at `bellOffset`, read before the sleep was announced.
   */
  doorbellWait(
    handle: Handle,
    bellOffset: number,
    seen: number,
    timeoutMs: number | undefined,
    efd: number,
    pidfd: number,
  ): number | undefined;
  /** Once per process: glibc keeps up to 32 MiB of freed heap (native/core/internal/allocator.hpp). */
  keepFreedHeap(): void;
  /** benchmark only: the C++ hot path with batching (bench/scenarios/mailbox-hotpath.cjs) */
  ringWriteBatch(handle: Handle, ringOffset: number, messages: Uint8Array[]): number;
  ringReadBatch(handle: Handle, ringOffset: number, out: Uint8Array): number;
  [name: string]: unknown;
}

function load(): NativeBinding {
  // INTERPROC_NATIVE=/path/to/interproc.node loads a specific build (the sanitizer run uses it).
  const override = process.env.INTERPROC_NATIVE;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (override) return require(path.resolve(override)) as NativeBinding;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bindings = require('bindings') as (opts: object) => NativeBinding;
  // The rules shared with the install step (scripts/addon-search.cjs): build, prebuild, bundle dir.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { bindingsOptions } = require('../../scripts/addon-search.cjs') as {
    bindingsOptions(moduleRoot: string, bundleDir: string): object;
  };
  return bindings(bindingsOptions(path.join(__dirname, '..', '..'), __dirname));
}

export const native: NativeBinding = load();
// eslint-disable-next-line @typescript-eslint/no-require-imports
native.setWorker(!(require('node:worker_threads') as typeof import('node:worker_threads')).isMainThread);
