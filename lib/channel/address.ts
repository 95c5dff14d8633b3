// Addresses of message channels: a Unix socket file, a Linux abstract name, or TCP host:port.
// Strings: '/run/app.sock' or 'unix:/run/app.sock', '@name' or 'abstract:name', 'tcp://host:port'.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ArgValueError, invalidType, validateInteger, validateString } from '../internal/validate';
import { FAMILY_ABSTRACT, FAMILY_PATH, FAMILY_TCP, type Family } from './constants';

export type SocketAddress = string | { path: string } | { abstract: string } | { host: string; port: number };

/** A resolved address as the native layer takes it: a path, an abstract name, or TCP (numeric host). */
export interface ResolvedAddress {
  family: Family;
  name: string;
  port: number;
}

const MAX_UNIX_NAME = 107; // sizeof(sun_path) - 1

function badValue(name: string, why: string, value: unknown): ArgValueError {
  const shown = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return new ArgValueError(`The argument '${name}' ${why}. Received ${shown}`);
}

/** Every address form, for the errors that say which are accepted. */
export const ADDRESS_FORMS =
  "a socket path ('/run/app.sock', 'unix:/run/app.sock', { path }), an abstract name ('@name', 'abstract:name', " +
  "{ abstract }) or TCP ('tcp://host:port', { host, port })";

/** Parses and checks an address without resolving host names. */
export function parseAddress(
  address: unknown,
  argName = 'address',
): ResolvedAddress | { family: typeof FAMILY_TCP; host: string; port: number } {
  if (typeof address === 'string') {
    if (address.startsWith('tcp://')) {
      const rest = address.slice(6);
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(rest);
      if (!m) throw badValue(argName, "must be 'tcp://host:port' (an IPv6 host in brackets: 'tcp://[::1]:80')", address);
      return parseAddress({ host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) }, argName);
    }
    if (address.startsWith('abstract:')) return parseAddress({ abstract: address.slice(9) }, argName);
    if (address.startsWith('@')) return parseAddress({ abstract: address.slice(1) }, argName);
    if (address.startsWith('unix:')) return parseAddress({ path: address.slice(5) }, argName);
    // Another scheme, or a bare host:port, is a mistake far more often than a file of that name.
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address);
    if (scheme) throw badValue(argName, `has the scheme '${scheme[1]}:', which is not supported: use ${ADDRESS_FORMS}`, address);
    const hostPort = /^(\[[^\]]+\]|[^/:]+):(\d+)$/.exec(address);
    if (hostPort) {
      throw badValue(
        argName,
        `looks like host:port: for TCP write 'tcp://${address}' or { host, port }; for a socket file of that name, './${address}' or { path }`,
        address,
      );
    }
    return parseAddress({ path: address }, argName);
  }
  if (address === null || typeof address !== 'object')
    throw invalidType(argName, `of type string or object: ${ADDRESS_FORMS}`, address);
  const a = address as Record<string, unknown>;
  if ('path' in a) {
    validateString(a.path, `${argName}.path`);
    const bytes = Buffer.byteLength(a.path);
    if (bytes === 0) throw badValue(`${argName}.path`, 'must not be empty', a.path);
    if (bytes > MAX_UNIX_NAME) throw badValue(`${argName}.path`, `must be at most ${MAX_UNIX_NAME} bytes`, a.path);
    if (a.path.includes('\0')) throw badValue(`${argName}.path`, 'must not contain NUL characters', a.path);
    return { family: FAMILY_PATH, name: a.path, port: 0 };
  }
  if ('abstract' in a) {
    validateString(a.abstract, `${argName}.abstract`);
    const bytes = Buffer.byteLength(a.abstract);
    if (bytes === 0) throw badValue(`${argName}.abstract`, 'must not be empty', a.abstract);
    if (bytes > MAX_UNIX_NAME) throw badValue(`${argName}.abstract`, `must be at most ${MAX_UNIX_NAME} bytes`, a.abstract);
    return { family: FAMILY_ABSTRACT, name: a.abstract, port: 0 };
  }
  if ('host' in a || 'port' in a) {
    const host = a.host === undefined ? '127.0.0.1' : a.host;
    validateString(host, `${argName}.host`);
    validateInteger(a.port, `${argName}.port`, 0, 65535);
    if (host.length === 0) throw badValue(`${argName}.host`, 'must not be empty', host);
    return { family: FAMILY_TCP, host, port: a.port };
  }
  throw badValue(argName, `must be ${ADDRESS_FORMS}`, address);
}

/** Parses an address and resolves a TCP host name to a numeric address (dns.lookup). */
export async function resolveAddress(address: unknown, argName = 'address'): Promise<ResolvedAddress> {
  const p = parseAddress(address, argName);
  if (p.family !== FAMILY_TCP) return p as ResolvedAddress;
  const { host, port } = p as { host: string; port: number };
  if (isIP(host)) return { family: FAMILY_TCP, name: host, port };
  const found = await lookup(host);
  return { family: FAMILY_TCP, name: found.address, port };
}

/** The public form of a resolved address. */
export function publicAddress(a: ResolvedAddress): { path: string } | { abstract: string } | { host: string; port: number } {
  if (a.family === FAMILY_PATH) return { path: a.name };
  if (a.family === FAMILY_ABSTRACT) return { abstract: a.name };
  return { host: a.name, port: a.port };
}

export function describeAddress(a: ResolvedAddress): string {
  if (a.family === FAMILY_PATH) return a.name;
  if (a.family === FAMILY_ABSTRACT) return `@${a.name}`;
  return `tcp://${a.name.includes(':') ? `[${a.name}]` : a.name}:${a.port}`;
}
