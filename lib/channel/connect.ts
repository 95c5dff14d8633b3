// listen() and connect(): options and addresses checked and resolved, the socket made by the native
// layer, then a Server or a Channel around it. Both reject (never throw) on bad arguments.
import { unlinkSync } from 'node:fs';
import { native, type FdWatcher } from '../internal/binding';
import { AbortError, codeOf, InterprocError, TimeoutError } from '../internal/errors';
import { Deferred } from '../internal/deferred';
import {
  ArgValueError,
  invalidType,
  validateAbortSignal,
  validateBoolean,
  validateInteger,
  validateObject,
  validateOptionNames,
  validateTimeout,
} from '../internal/validate';
import { describeAddress, resolveAddress, type ResolvedAddress, type SocketAddress } from './address';
import { openChannel, type Channel } from './channel';
import { FAMILY_PATH, FAMILY_TCP, KIND_CODE, POLL_WRITABLE } from './constants';
import { pollError } from './io';
import { kindsListeningAt } from './kind-probe';
import { openServer, type Server } from './server';
import { CONNECT_OPTIONS, LISTEN_OPTIONS, optionalInteger, settingsFrom } from './settings';
import type { ConnectOptions, ListenOptions, PeerCredentials, SocketKind } from './types';

function validateIdList(value: unknown, name: string): number[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) throw invalidType(name, 'an array of integers', value);
  for (let i = 0; i < value.length; i++) validateInteger(value[i], `${name}[${i}]`, 0, 2 ** 32 - 1);
  return [...value];
}

/**
 * Listens on a Unix socket path, an abstract name or a TCP host:port. The returned server yields
 * channels ('connection' events or for-await); for datagram, a channel per sending peer address.
 * The codec decides what the channels carry: Buffers (`'raw'`, the default), or with `codec: 'v8'`
 * any value (`unknown`, or the type given as `listen<T>(..., { codec: 'v8' })`).
 */
export function listen<T = unknown>(address: SocketAddress, options: ListenOptions & { codec: 'v8' }): Promise<Server<T>>;
export function listen(address: SocketAddress, options?: ListenOptions & { codec?: 'raw' }): Promise<Server<Buffer>>;
export function listen(address: SocketAddress, options?: ListenOptions): Promise<Server<unknown>>;
// biome-ignore lint/suspicious/noExplicitAny: the overloads above give the message type
export async function listen(address: SocketAddress, options: ListenOptions = {}): Promise<Server<any>> {
  validateObject(options, 'options');
  validateOptionNames(options, 'options', LISTEN_OPTIONS);
  const resolved = await resolveAddress(address);
  const tcp = resolved.family === FAMILY_TCP;
  const settings = settingsFrom(options, tcp);
  const mode = optionalInteger(options.mode, 'options.mode', 0o600, 0, 0o7777);
  const backlog = optionalInteger(options.backlog, 'options.backlog', 511, 1, 65535);
  let replaceStale = true;
  if (options.replaceStale !== undefined) {
    validateBoolean(options.replaceStale, 'options.replaceStale');
    replaceStale = options.replaceStale;
  }
  const allowUids = validateIdList(options.allowUids, 'options.allowUids');
  const allowGids = validateIdList(options.allowGids, 'options.allowGids');
  if (tcp && (allowUids || allowGids)) {
    throw new ArgValueError("The options 'allowUids' and 'allowGids' need a Unix socket: TCP has no peer credentials");
  }
  let fd: number;
  try {
    fd = native.sockListen(KIND_CODE[settings.kind], resolved.family, resolved.name, resolved.port, backlog, mode, replaceStale);
  } catch (err) {
    throw located(err, resolved);
  }
  try {
    let actual = resolved;
    if (tcp) {
      const [, name, port] = native.sockLocalAddress(fd);
      actual = { family: FAMILY_TCP, name, port };
    }
    return openServer({ fd, settings, address: actual, allowUids, allowGids });
  } catch (err) {
    native.closeFd(fd);
    if (resolved.family === FAMILY_PATH) unlinkSync(resolved.name);
    throw err;
  }
}

/**
 * Connects to a server and returns the channel. It carries Buffers (`codec: 'raw'`, the default), or
 * with `codec: 'v8'` any value (`unknown`, or the type given as `connect<T>(..., { codec: 'v8' })`).
 */
export function connect<T = unknown>(address: SocketAddress, options: ConnectOptions & { codec: 'v8' }): Promise<Channel<T>>;
export function connect(address: SocketAddress, options?: ConnectOptions & { codec?: 'raw' }): Promise<Channel<Buffer>>;
export function connect(address: SocketAddress, options?: ConnectOptions): Promise<Channel<unknown>>;
// biome-ignore lint/suspicious/noExplicitAny: the overloads above give the message type
export async function connect(address: SocketAddress, options: ConnectOptions = {}): Promise<Channel<any>> {
  validateObject(options, 'options');
  validateOptionNames(options, 'options', CONNECT_OPTIONS);
  const ms = validateTimeout(options.timeout, 'options.timeout');
  const signal: unknown = options.signal;
  validateAbortSignal(signal, 'options.signal');
  const resolved = await resolveAddress(address);
  const tcp = resolved.family === FAMILY_TCP;
  const settings = settingsFrom(options, tcp);
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  let fd: number, pending: boolean;
  try {
    [fd, pending] = native.sockConnect(KIND_CODE[settings.kind], resolved.family, resolved.name, resolved.port);
  } catch (err) {
    throw kindMismatch(err, resolved, settings.kind) ?? located(err, resolved);
  }
  try {
    if (pending) await connected(fd, ms, signal, resolved);
    let peer: PeerCredentials | null = null;
    if (!tcp && settings.kind !== 'datagram') {
      const [pid, uid, gid] = native.sockPeerCred(fd);
      peer = { pid, uid, gid };
    }
    return openChannel({ fd, settings, peer, remote: resolved });
  } catch (err) {
    native.closeFd(fd);
    throw err;
  }
}

/**
 * A system error about a socket address, shaped as `net` shapes it: `address` and `port` for TCP (the
 * native layer names every address in `path`), `path` for a Unix socket file or abstract name.
 */
function located(err: unknown, a: ResolvedAddress): unknown {
  if (!(err instanceof Error) || a.family !== FAMILY_TCP) return err;
  const e = err as Error & { path?: string; address?: string; port?: number };
  delete e.path;
  e.address = a.name;
  e.port = a.port;
  return err;
}

// A Unix connect refused because the socket there is of another kind (EPROTOTYPE for a socket file;
// ECONNREFUSED for an abstract name, which the kernel looks up by name and kind): an error that says so.
function kindMismatch(err: unknown, a: ResolvedAddress, kind: SocketKind): InterprocError | null {
  const code = codeOf(err);
  if (a.family === FAMILY_TCP || (code !== 'EPROTOTYPE' && code !== 'ECONNREFUSED')) return null;
  const there = kindsListeningAt(a).filter((k) => k !== kind);
  if (there.length === 0 && code !== 'EPROTOTYPE') return null;
  const what = there.length > 0 ? `a ${there.join(' and a ')} socket` : `not a ${kind} socket`;
  const fix = there.length > 0 ? `connect with { kind: '${there[0]}' }` : 'connect with the kind the server listens with';
  return Object.assign(
    new InterprocError(
      'ERR_SOCKET_KIND_MISMATCH',
      `The server at '${describeAddress(a)}' is ${what}, and this connect asked for '${kind}': ${fix} (both ends use one kind)`,
      { cause: err },
    ),
    { path: describeAddress(a), kind, serverKinds: there },
  );
}

// Waits until a non-blocking connect finishes and rejects with its error, if any. Its timeout is a
// TimeoutError that also says what a system error would: syscall 'connect' and the address.
function connected(fd: number, ms: number | undefined, signal: AbortSignal | undefined, a: ResolvedAddress): Promise<void> {
  // The system error's message names the address as the native layer does (host:port for TCP).
  const where = a.family === FAMILY_TCP ? describeAddress(a).slice('tcp://'.length) : describeAddress(a);
  let watcher: FdWatcher | null = null;
  const stop = () => {
    watcher?.close();
    watcher = null;
  };
  const d = new Deferred<void>({ timeout: ms, signal, what: `Channel connect to '${where}'`, onCancel: stop });
  if (!d.settled) {
    watcher = new native.FdWatcher(fd, (status) => {
      stop();
      if (status < 0) {
        d.reject(located(pollError(status, fd, where), a));
        return;
      }
      try {
        native.sockConnectResult(fd, where);
        d.resolve();
      } catch (err) {
        // The kernel's own TCP timeout is a timeout too: a TimeoutError, the system error its cause.
        d.reject(
          codeOf(err) === 'ETIMEDOUT'
            ? new TimeoutError(`Channel connect to '${where}'`, undefined, { cause: located(err, a) })
            : located(err, a),
        );
      }
    });
    watcher.start(POLL_WRITABLE);
  }
  return d.promise.catch((err: unknown) => {
    if (err instanceof TimeoutError) {
      Object.assign(err, { syscall: 'connect' });
      if (a.family === FAMILY_TCP) Object.assign(err, { address: a.name, port: a.port });
      else Object.assign(err, { path: where });
    }
    throw err;
  });
}
