// The stream frame decoder on its own: any split of the byte stream gives the same frames, and
// random bytes give frames or a coded error, never anything else.
import { describe, expect, it } from 'vitest';
import { InterprocError } from '../../lib/internal/errors';
import { encodeHeader, FrameDecoder } from '../../lib/channel/frame';

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
});
