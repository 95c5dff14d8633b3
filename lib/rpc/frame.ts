// The rpc wire format (docs/protocol/rpc.md): one transport message is one frame, an 8-byte header
// and a body. Requests and replies are matched by id; the body is the caller's bytes, or for an
// error reply a small JSON object with the thrown error's name, message and code.

/** Bytes before the body. */
export const HEADER = 8;
export const VERSION = 1;

export const KIND_REQUEST = 1;
export const KIND_REPLY = 2;
export const KIND_ERROR = 3;

/** The longest name, message or code an error reply carries (longer ones are cut). */
export const MAX_ERROR_TEXT = 4096;

/** One frame around `body` (copied once into a fresh buffer, which the transport keeps). */
export function encode(kind: number, id: number, body: Uint8Array | string | undefined): Buffer {
  let frame: Buffer;
  if (body === undefined) {
    frame = Buffer.allocUnsafe(HEADER);
  } else if (typeof body === 'string') {
    const n = Buffer.byteLength(body);
    frame = Buffer.allocUnsafe(HEADER + n);
    frame.write(body, HEADER, n, 'utf8');
  } else {
    frame = Buffer.allocUnsafe(HEADER + body.byteLength);
    frame.set(body, HEADER);
  }
  frame[0] = kind;
  frame[1] = VERSION;
  frame[2] = 0;
  frame[3] = 0;
  frame.writeUInt32LE(id, 4);
  return frame;
}

/** What an error reply says about the error its handler threw. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  code?: string;
}

function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v.length > MAX_ERROR_TEXT ? v.slice(0, MAX_ERROR_TEXT) : v;
}

/** The body of an error reply for `err` (anything may be thrown: a non-Error becomes its String()). */
export function errorBody(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  const isError = err instanceof Error;
  const info: RemoteErrorInfo = {
    name: (isError && text(e?.name)) || 'Error',
    message: isError ? (text(e?.message) ?? '') : (text(String(err)) ?? ''),
  };
  const code = isError ? text(e?.code) : undefined;
  if (code !== undefined) info.code = code;
  return JSON.stringify(info);
}

/** Reads an error reply's body; a body that is not what errorBody makes still gives a usable record. */
export function parseErrorBody(body: Buffer): RemoteErrorInfo {
  try {
    const v = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const info: RemoteErrorInfo = { name: text(v?.name) ?? 'Error', message: text(v?.message) ?? '' };
    const code = text(v?.code);
    if (code !== undefined) info.code = code;
    return info;
  } catch {
    return { name: 'Error', message: '(the error reply could not be read)' };
  }
}
