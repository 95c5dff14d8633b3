// The stream frame decoder on its own: any split of the byte stream gives the same frames, and
// random bytes give frames or a coded error, never anything else.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InterprocError } from '../../lib/internal/errors';
import { BODY_INITIAL, encodeHeader, FrameDecoder } from '../../lib/channel/frame';

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('FrameDecoder', () => {
  it('decodes 10 000 fuzzed frame streams the same at random split points', () => {
    const rand = rng(42);
    let mismatches = 0;
    let partial = 0;
    for (let round = 0; round < 10_000; round++) {
      const frames: { payload: Buffer; fds: number }[] = [];
      const count = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < count; i++) {
        const payload = Buffer.alloc(Math.floor(rand() ** 4 * 3000));
        for (let k = 0; k < payload.length; k++) payload[k] = Math.floor(rand() * 256);
        frames.push({ payload, fds: Math.floor(rand() * 3) });
      }
      const stream = Buffer.concat(frames.flatMap((f) => [encodeHeader(f.payload.length, f.fds), f.payload]));
      const got: { payload: Buffer; fds: number }[] = [];
      const d = new FrameDecoder(4096, 8, (payload, fds) => got.push({ payload, fds }));
      for (let at = 0; at < stream.length; ) {
        const n = 1 + Math.floor(rand() * 40);
        d.feed(stream, at, Math.min(stream.length, at + n));
        at += n;
      }
      if (d.partial) partial++;
      if (got.length !== frames.length || got.some((g, i) => g.fds !== frames[i].fds || !g.payload.equals(frames[i].payload)))
        mismatches++;
    }
    expect(partial).toBe(0);
    expect(mismatches).toBe(0);
  });

  it('random bytes give frames or a coded InterprocError, nothing else', () => {
    const rand = rng(7);
    const codes = new Set<string>();
    for (let round = 0; round < 2000; round++) {
      const junk = Buffer.alloc(1 + Math.floor(rand() * 200));
      for (let k = 0; k < junk.length; k++) junk[k] = rand() < 0.5 ? 0 : Math.floor(rand() * 256);
      const d = new FrameDecoder(64, 4, () => {});
      try {
        d.feed(junk, 0, junk.length);
      } catch (err) {
        expect(err).toBeInstanceOf(InterprocError);
        codes.add((err as InterprocError).code);
      }
    }
    expect([...codes].sort()).toEqual(['ERR_INVALID_FRAME', 'ERR_MESSAGE_TOO_LARGE', 'ERR_TOO_MANY_FDS']);
  });

  it('checks the header before allocating the payload', () => {
    const d = new FrameDecoder(1000, 0, () => {});
    expect(() => d.feed(encodeHeader(0xffffffff, 0), 0, 8)).toThrow(expect.objectContaining({ code: 'ERR_MESSAGE_TOO_LARGE' }));
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('reserves what arrived, not what a header announces, and grows the body as bytes come', () => {
    const got: Buffer[] = [];
    const d = new FrameDecoder(16 * 1024 * 1024, 0, (payload) => got.push(payload));
    d.feed(encodeHeader(16 * 1024 * 1024, 0), 0, 8);
    const pending = d.pendingBody();
    expect(pending?.[0].length).toBe(BODY_INITIAL); // 64 KiB for a 16 MiB announcement
    expect(d.partial).toBe(true);
  });

  it('decodes large frames fed and read directly in random pieces, through every growth step', () => {
    const rand = rng(99);
    for (let round = 0; round < 40; round++) {
      const sizes = [Math.floor(rand() * 700_000), Math.floor(rand() * 100), BODY_INITIAL, BODY_INITIAL + 1];
      const payloads = sizes.map((n) => {
        const b = Buffer.allocUnsafe(n);
        for (let k = 0; k < n; k += 997) b[k] = Math.floor(rand() * 256);
        return b;
      });
      const stream = Buffer.concat(payloads.flatMap((p) => [encodeHeader(p.length, 0), p]));
      const got: Buffer[] = [];
      const d = new FrameDecoder(1 << 20, 0, (payload) => got.push(payload));
      for (let at = 0; at < stream.length; ) {
        const body = d.pendingBody();
        if (body !== null && rand() < 0.5) {
          // the stream reader's direct read: straight into the body buffer
          const n = Math.min(body[2], stream.length - at, 1 + Math.floor(rand() * 200_000));
          stream.copy(body[0], body[1], at, at + n);
          d.bodyFilled(n);
          at += n;
        } else {
          const n = Math.min(stream.length - at, 1 + Math.floor(rand() * 300_000));
          d.feed(stream, at, at + n);
          at += n;
        }
      }
      expect(d.partial).toBe(false);
      expect(got.map((g) => g.length)).toEqual(sizes);
      for (let i = 0; i < sizes.length; i++) expect(got[i].equals(payloads[i])).toBe(true);
    }
  });

  it('an allocation failure is ERR_MEMORY_ALLOCATION_FAILED, not a bare RangeError', () => {
    const d = new FrameDecoder(16 * 1024 * 1024, 0, () => {});
    d.feed(encodeHeader(1024 * 1024, 0), 0, 8);
    const more = Buffer.alloc(BODY_INITIAL + 10);
    const whole = Buffer.concat([encodeHeader(10, 0), Buffer.alloc(10)]);
    vi.spyOn(Buffer, 'allocUnsafe').mockImplementation(() => {
      throw new RangeError('Array buffer allocation failed');
    });
    expect(() => d.feed(more, 0, more.length)).toThrow(
      expect.objectContaining({ code: 'ERR_MEMORY_ALLOCATION_FAILED', cause: expect.any(RangeError) }),
    );
    expect(() => new FrameDecoder(100, 0, () => {}).feed(whole, 0, whole.length)).toThrow(
      expect.objectContaining({ code: 'ERR_MEMORY_ALLOCATION_FAILED' }),
    );
  });
});
