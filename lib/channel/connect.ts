// listen() and connect(): options and addresses checked and resolved, the socket made by the native
// layer, then a Server or a Channel around it. Both reject (never throw) on bad arguments.
import { unlinkSync } from 'node:fs';
import { native, type FdWatcher } from '../internal/binding';
import { AbortError, codeOf, TimeoutError } from '../internal/errors';
import { Deferred } from '../internal/deferred';
import {
  ArgValueError,
  invalidType,
  validateAbortSignal,
  validateBoolean,
  validateInteger,
  validateObject,
  validateTimeout,
} from '../internal/validate';
import { describeAddress, resolveAddress, type SocketAddress } from './address';
import { openChannel, type Channel } from './channel';
import { FAMILY_PATH, FAMILY_TCP, KIND_CODE, POLL_WRITABLE } from './constants';
import { pollError } from './io';
import { openServer, type Server } from './server';
import { optionalInteger, settingsFrom } from './settings';
import type { ConnectOptions, ListenOptions, PeerCredentials } from './types';

function validateIdList(value: unknown, name: string): number[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) throw invalidType(name, 'an array of integers', value);
  for (let i = 0; i < value.length; i++) validateInteger(value[i], `${name}[${i}]`, 0, 2 ** 32 - 1);
  return [...value];
}

/**
 * Listens on a Unix socket path, an abstract name or a TCP host:port. The returned server yields
 * channels ('connection' events or for-await); for datagram, a channel per sending peer address.
 */
export async function listen<T = Buffer>(address: SocketAddress, options: ListenOptions = {}): Promise<Server<T>> {
  validateObject(options, 'options');
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
  const fd = native.sockListen(
    KIND_CODE[settings.kind],
    resolved.family,
    resolved.name,
    resolved.port,
    backlog,
    mode,
    replaceStale,
  );
  try {
    let actual = resolved;
    if (tcp) {
      const [, name, port] = native.sockLocalAddress(fd);
      actual = { family: FAMILY_TCP, name, port };
    }
    return openServer<T>({ fd, settings, address: actual, allowUids, allowGids });
  } catch (err) {
    native.closeFd(fd);
    if (resolved.family === FAMILY_PATH) unlinkSync(resolved.name);
    throw err;
  }
}

/** Connects to a server and returns the channel. */
export async function connect<T = Buffer>(address: SocketAddress, options: ConnectOptions = {}): Promise<Channel<T>> {
  validateObject(options, 'options');
  const ms = validateTimeout(options.timeout, 'options.timeout');
  const signal: unknown = options.signal;
  validateAbortSignal(signal, 'options.signal');
  const resolved = await resolveAddress(address);
  const tcp = resolved.family === FAMILY_TCP;
  const settings = settingsFrom(options, tcp);
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  const [fd, pending] = native.sockConnect(KIND_CODE[settings.kind], resolved.family, resolved.name, resolved.port);
  try {
    if (pending) await connected(fd, ms, signal, describeAddress(resolved));
    let peer: PeerCredentials | null = null;
    if (!tcp && settings.kind !== 'datagram') {
      const [pid, uid, gid] = native.sockPeerCred(fd);
      peer = { pid, uid, gid };
    }
    return openChannel<T>({ fd, settings, peer, remote: resolved });
  } catch (err) {
    native.closeFd(fd);
    throw err;
  }
}

// Waits until a non-blocking connect finishes and rejects with its error, if any. Its timeout is a
// TimeoutError that also says what a system error would: syscall 'connect' and the address.
function connected(fd: number, ms: number | undefined, signal: AbortSignal | undefined, where: string): Promise<void> {
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
        d.reject(pollError(status, fd, where));
        return;
      }
      try {
        native.sockConnectResult(fd, where);
        d.resolve();
      } catch (err) {
        // The kernel's own TCP timeout is a timeout too: a TimeoutError, the system error its cause.
        d.reject(
          codeOf(err) === 'ETIMEDOUT' ? new TimeoutError(`Channel connect to '${where}'`, undefined, { cause: err }) : err,
        );
      }
    });
    watcher.start(POLL_WRITABLE);
  }
  return d.promise.catch((err: unknown) => {
    if (err instanceof TimeoutError) Object.assign(err, { syscall: 'connect', address: where });
    throw err;
  });
}
