// The store's API in one process: the ownership rule, the Atomics vocabulary against a real
// Int32Array/BigInt64Array, read/write across blocks, the batch form, timeouts, close, misuse,
// and layouts that do not match.
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist';
import { Layout } from '../../dist/store/ownership';
import { leftoverShm, uniqueName } from '../helpers/util';

const open: Store[] = [];
const names: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const n of names.splice(0)) Store.unlink(n);
});

function pair(
  options: { size?: number; blockSize?: number; ownership?: 'cyclic' | 'range'; timeout?: number } = {},
): [Store, Store] {
  const name = uniqueName('store-api');
  names.push(name);
  const a = Store.create(name, { members: 2, size: 65536, ...options });
  open.push(a);
  const b = Store.join(name);
  open.push(b);
  return [a, b];
}

describe('the ownership rule', () => {
  it.each([
    [65536, 4096, 3, 'cyclic'],
    [65536, 4096, 3, 'range'],
    [1 << 20, 64, 7, 'cyclic'],
    [1 << 20, 64, 7, 'range'],
    [4096 * 5, 4096, 8, 'range'],
  ] as const)('size %d, blocks of %d, %d members, %s: every block has one owner, stored once', (size, bs, members, rule) => {
    const L = new Layout(size, bs, members, rule);
    const seen = new Set<string>();
    let counted = 0;
    for (let m = 0; m < members; m++) {
      const set = L.blocksOf(m);
      counted += set.count;
      for (let k = 0; k < set.count; k++) {
        const b = set.first + k * set.stride;
        expect(L.ownerOfBlock(b)).toBe(m);
        const off = L.localOffset(b * bs + bs - 1);
        expect(off).toBeLessThan(L.ownedBytes(m));
        seen.add(`${m}:${off}`);
      }
    }
    expect(counted).toBe(size / bs);
    expect(seen.size).toBe(size / bs);
    if (rule === 'cyclic') expect(L.ownerOf(bs * (members + 1))).toBe(1);
    else expect(L.ownerOf(0)).toBe(0);
  });

  it('rejects layouts that are not valid', () => {
    expect(() => new Layout(65536, 3000, 2, 'cyclic')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Layout(65536 + 8, 4096, 2, 'cyclic')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Layout(65536, 4096, 0, 'cyclic')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Layout(65536, 4096, 2, 'striped' as 'cyclic')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => Store.create(uniqueName('bad'), { members: 2, size: 65536, blockSize: 1 << 20, ringSize: 4096 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(leftoverShm()).toEqual([]);
  });
});

describe('Store operations', () => {
  it('every Atomics operation gives what Atomics gives on an Int32Array and a BigInt64Array (local and remote cells)', async () => {
    const [a, b] = pair({ blockSize: 64 });
    await a.ready({ timeout: 5000 });
    const ref32 = new Int32Array(64);
    const ref64 = new BigInt64Array(32);
    const v32 = a.int32(0, 64); // 64 cells over 4 blocks: members 0, 1, 0, 1
    const v64 = a.bigInt64(256, 32); // blocks 4..7
    const ops = ['load', 'store', 'add', 'sub', 'and', 'or', 'xor', 'exchange', 'compareExchange'] as const;
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const values = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 12345, 2 ** 32 + 5];
    // One random sequence on both; compareExchange expects the current value half of the time.
    for (let k = 0; k < 600; k++) {
      const op = ops[Math.floor(rand() * ops.length)] as (typeof ops)[number];
      const i = Math.floor(rand() * 64);
      const x = values[Math.floor(rand() * values.length)] as number;
      const y = values[Math.floor(rand() * values.length)] as number;
      const e = rand() < 0.5 ? (ref32[i] as number) : x;
      const want =
        op === 'load'
          ? Atomics.load(ref32, i)
          : op === 'compareExchange'
            ? Atomics.compareExchange(ref32, i, e, y)
            : Atomics[op](ref32, i, x);
      const got =
        op === 'load' ? await v32.load(i) : op === 'compareExchange' ? await v32.compareExchange(i, e, y) : await v32[op](i, x);
      expect(got, `${op}(${i}, ${x})`).toBe(op === 'store' ? (want as number) | 0 : want);
      const j = i % 32;
      const bx = BigInt(x) * 3n ** 20n;
      const be = rand() < 0.5 ? (ref64[j] as bigint) : bx;
      const want64 =
        op === 'load'
          ? Atomics.load(ref64, j)
          : op === 'compareExchange'
            ? Atomics.compareExchange(ref64, j, be, BigInt(y))
            : Atomics[op](ref64, j, bx);
      const got64 =
        op === 'load'
          ? await v64.load(j)
          : op === 'compareExchange'
            ? await v64.compareExchange(j, be, BigInt(y))
            : await v64[op](j, bx);
      expect(got64, `64-bit ${op}(${j}, ${bx})`).toBe(op === 'store' ? BigInt.asIntN(64, want64 as bigint) : want64);
    }
    // The other member sees the same memory.
    const w32 = b.int32(0, 64);
    expect(await Promise.all(Array.from({ length: 64 }, (_, i) => w32.load(i)))).toEqual(Array.from(ref32));
  });

  it('read and write across blocks and owners; the batch form; requests made together travel together', async () => {
    const [a, b] = pair({ blockSize: 256, ownership: 'range' });
    await a.ready({ timeout: 5000 });
    expect(a.ownerOf(0)).toBe(0);
    expect(a.ownerOf(65535)).toBe(1);
    const data = Buffer.alloc(40000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    await a.write(10000, data);
    expect((await b.read(10000, 40000)).equals(data)).toBe(true);
    expect((await a.read(0, 0)).length).toBe(0);
    const v = b.int32();
    const p = b.pipeline();
    const cell = (k: number) => 12600 + k * 100; // bytes 50400.., past the data written above
    for (let i = 0; i < 5000; i++) p.add(v, cell(i % 10), 1);
    p.load(v, cell(0)).compareExchange(v, cell(0), 500, 7).exchange(v, cell(0), 3);
    const results = await p.exec();
    expect(results).toHaveLength(5003);
    expect(results.slice(5000)).toEqual([500, 500, 7]);
    expect(await Promise.all(Array.from({ length: 10 }, (_, k) => v.load(cell(k))))).toEqual([
      3, 500, 500, 500, 500, 500, 500, 500, 500, 500,
    ]);
    expect(() => p.add(v, 0, 1)).toThrow(TypeError);
    expect(() => b.pipeline().add(v, -1, 1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('misuse rejects (never throws) with Node codes; nothing is sent', async () => {
    const [a] = pair();
    const v = a.int32();
    await expect(v.add(v.length, 1)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(v.add(1.5, 1)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(v.add(0, '1' as unknown as number)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(a.bigInt64().add(0, 1 as unknown as bigint)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(a.read(65530, 7)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(a.write(0, 'x' as unknown as Uint8Array)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(v.waitAsync(0, 0, 'soon' as unknown as number)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(() => a.int32(2)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => a.bigInt64(0, 8193)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(a.blocksOf(1)).toEqual({ first: 1, stride: 2, count: 8 });
  });

  it('a request to an owner that never comes times out (ETIMEDOUT); close rejects what is pending and what follows', async () => {
    const name = uniqueName('store-api');
    names.push(name);
    const a = Store.create(name, { members: 2, size: 65536, timeout: 100 });
    open.push(a);
    const v = a.int32();
    await expect(v.add(1024, 1)).rejects.toMatchObject({ code: 'ETIMEDOUT' }); // block 1: member 1, never joined
    expect(await v.add(0, 1)).toBe(0); // own block: local
    const pending = v.load(1024);
    await a.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(v.load(0)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(a.ready()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(() => Store.join(uniqueName('missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('requests to an owner that has not joined yet are held until it does', async () => {
    const name = uniqueName('store-api');
    names.push(name);
    const a = Store.create(name, { members: 2, size: 65536, timeout: 200 });
    open.push(a);
    // Requests queued to slot 1 before anyone holds it are held by a until member 1 is up ...
    const early = a.int32().add(1024, 1);
    const b = Store.join(name);
    open.push(b);
    expect(await early).toBe(0);
    expect(await b.int32().load(1024)).toBe(1);
  });
});

describe('Store over sockets', () => {
  it('a peer with another layout, or not the member asked for, is refused with ERR_STORE_INCOMPATIBLE', async () => {
    const m1 = await Store.open({ members: 2, size: 65536, id: 1, listen: { host: '127.0.0.1', port: 0 } });
    open.push(m1);
    const at = m1.address as { host: string; port: number };
    const other = await Store.open({ members: 2, size: 65536 * 2, id: 0 });
    open.push(other);
    await expect(other.connect(1, at)).rejects.toMatchObject({ code: 'ERR_STORE_INCOMPATIBLE' });
    const three = await Store.open({ members: 3, size: 65536, id: 2 });
    open.push(three);
    await expect(three.connect(1, at)).rejects.toMatchObject({ code: 'ERR_STORE_INCOMPATIBLE' });
    const wrong = await Store.open({ members: 2, size: 65536, id: 1 });
    open.push(wrong);
    await expect(wrong.connect(0, at)).rejects.toMatchObject({ code: 'ERR_STORE_INCOMPATIBLE' }); // at is member 1, not 0
    // A client (id -1) with the right layout works; it owns nothing, so every block is remote.
    const client = await Store.open({ members: 2, size: 65536 });
    open.push(client);
    await client.connect(1, at);
    expect(client.id).toBe(-1);
    expect(await client.int32().add(1024, 2)).toBe(0);
    expect(await m1.int32().load(1024)).toBe(2);
    await expect(client.listen({ host: '127.0.0.1', port: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });
});
