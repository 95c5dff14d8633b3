// The checked options of a channel (shared by listen, connect and every channel a server accepts).
import { ArgValueError, validateInteger } from '../internal/validate';
import { KIND_CODE, MAX_FDS } from './constants';
import { HEADER_SIZE } from './frame';
import type { ChannelOptions, Codec, SocketKind } from './types';

const MIB = 1024 * 1024;

/** The options every channel takes (ChannelOptions), and those of each call, for validateOptionNames. */
export const CHANNEL_OPTIONS = [
  'kind',
  'codec',
  'maxMessageSize',
  'maxFds',
  'highWaterMark',
  'maxQueuedBytes',
  'maxBufferedMessages',
  'spin',
] as const;
export const CONNECT_OPTIONS: readonly string[] = [...CHANNEL_OPTIONS, 'timeout', 'signal'];
export const LISTEN_OPTIONS: readonly string[] = [
  ...CHANNEL_OPTIONS,
  'mode',
  'backlog',
  'replaceStale',
  'allowUids',
  'allowGids',
];
export const SEND_OPTIONS: readonly string[] = ['fds'];
export const WAIT_OPTIONS: readonly string[] = ['timeout', 'signal'];
export const CLOSE_OPTIONS: readonly string[] = ['timeout'];

export interface Settings {
  kind: SocketKind;
  tcp: boolean;
  codec: Codec;
  maxMessageSize: number;
  maxFds: number;
  highWaterMark: number;
  maxQueuedBytes: number;
  maxBufferedMessages: number;
  /** Microseconds to poll the socket after a send or a delivery before the loop sleeps (0: never). */
  spin: number;
}

export function optionalInteger(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  validateInteger(value, name, min, max);
  return value;
}

export function settingsFrom(options: ChannelOptions, tcp: boolean): Settings {
  const kind = options.kind ?? 'stream';
  if (!(kind in KIND_CODE))
    throw new ArgValueError(
      `The property 'options.kind' must be one of 'stream', 'seqpacket', 'datagram'. Received '${String(kind)}'`,
    );
  if (tcp && kind !== 'stream')
    throw new ArgValueError(`The property 'options.kind' must be 'stream' for a TCP address. Received '${kind}'`);
  const codec = options.codec ?? 'raw';
  if (codec !== 'raw' && codec !== 'v8')
    throw new ArgValueError(`The property 'options.codec' must be 'raw' or 'v8'. Received '${String(codec)}'`);
  const packet = kind !== 'stream';
  const maxMessageSize = optionalInteger(
    options.maxMessageSize,
    'options.maxMessageSize',
    packet ? 256 * 1024 : 16 * MIB,
    1,
    packet ? 64 * MIB : 2 ** 32 - 1,
  );
  const maxFds = optionalInteger(options.maxFds, 'options.maxFds', tcp ? 0 : 64, 0, tcp ? 0 : MAX_FDS);
  const highWaterMark = optionalInteger(options.highWaterMark, 'options.highWaterMark', MIB, 1, Number.MAX_SAFE_INTEGER);
  const maxQueuedBytes = optionalInteger(
    options.maxQueuedBytes,
    'options.maxQueuedBytes',
    Math.max(16 * MIB, highWaterMark, maxMessageSize + HEADER_SIZE),
    highWaterMark,
    Number.MAX_SAFE_INTEGER,
  );
  const maxBufferedMessages = optionalInteger(options.maxBufferedMessages, 'options.maxBufferedMessages', 1024, 1, 2 ** 31 - 1);
  const spin = optionalInteger(options.spin, 'options.spin', 0, 0, 1_000_000);
  return { kind, tcp, codec, maxMessageSize, maxFds, highWaterMark, maxQueuedBytes, maxBufferedMessages, spin };
}
