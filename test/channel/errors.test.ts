// Errors a user can act on: an address in a form connect() does not take says which forms it takes;
// a client of another socket kind than the server (another process) is told so, and which kind the
// server is; unknown options are refused by name.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connect, listen } from '../../lib';
import { channelTestKit, KINDS } from './helpers';

const { sock, child, server, cleanup } = channelTestKit();

describe('addresses connect() and listen() do not take say which they do', () => {
  for (const address of ['http://localhost:80', 'https://example.com/x', 'udp://1.2.3.4:5', 'ws://[::1]:80']) {
    it(`'${address}'`, async () => {
      for (const call of [(a: string) => connect(a), (a: string) => listen(a)]) {
        const err = await call(address).catch((e: unknown) => e as Error);
        expect(err).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
        expect((err as Error).message).toContain(`the scheme '${address.split(':')[0]}:'`);
        expect((err as Error).message).toContain("'tcp://host:port'");
        expect((err as Error).message).toContain("'@name'");
      }
    });
  }

  for (const address of ['localhost:80', '127.0.0.1:8080', '[::1]:80', 'my-host.example:443']) {
    it(`'${address}' (a bare host:port)`, async () => {
      const err = await connect(address).catch((e: unknown) => e as Error);
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      expect((err as Error).message).toContain(`'tcp://${address}'`);
      expect((err as Error).message).toContain(`'./${address}'`); // how to mean a file of that name
    });
  }

  it('an object with none of the address fields lists the forms', async () => {
    await expect(connect({ url: 'x' } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
      message: expect.stringContaining('{ host, port }'),
    });
  });
});

describe('a client of another kind than the server (in another process) is told so', () => {
  for (const form of ['path', 'abstract'] as const) {
    for (const serverKind of KINDS) {
      it(`${form}: a ${serverKind} server`, async () => {
        const peer = await child();
        const file = sock(`kind-${serverKind}`);
        const address =
          form === 'path' ? { path: file } : { abstract: `interproc-kind-${process.pid}-${serverKind}-${Date.now()}` };
        await peer.call('serveEcho', { address, options: { kind: serverKind } });
        if (form === 'path') cleanup.unshift(() => rmSync(file, { force: true })); // after the child is stopped
        for (const kind of KINDS.filter((k) => k !== serverKind)) {
          const err = (await connect(address, { kind }).catch((e: unknown) => e)) as Error & { cause?: { code?: string } };
          expect(err).toMatchObject({ code: 'ERR_SOCKET_KIND_MISMATCH', kind, serverKinds: [serverKind] });
          expect((err as Error).message).toContain(`is a ${serverKind} socket`);
          expect((err as Error).message).toContain(`{ kind: '${serverKind}' }`);
          expect(err.cause?.code).toBe(form === 'path' ? 'EPROTOTYPE' : 'ECONNREFUSED'); // what the kernel said
        }
        const ok = await connect(address, { kind: serverKind }); // the right kind connects
        await ok.close();
      });
    }
  }

  it('nobody listening is still ECONNREFUSED / ENOENT, not a kind mismatch', async () => {
    await expect(connect({ abstract: `interproc-nobody-${process.pid}` })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(connect({ path: sock('nobody') })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('unknown options are refused with ERR_INVALID_ARG_VALUE, naming them', () => {
  const refused = (names: string[]) => ({
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: expect.stringMatching(new RegExp(names.map((n) => `'${n}'`).join('.*'))),
  });

  it('listen(), connect(), and every options object of a Channel and a Server', async () => {
    const path = sock('options');
    await expect(listen(path, { kindd: 'stream' } as never)).rejects.toMatchObject(refused(['kindd']));
    await expect(listen(path, { maxMessageSize: 10, backlg: 1, modee: 0o600 } as never)).rejects.toMatchObject(
      refused(['backlg', 'modee']),
    );
    const s = await server(path);
    await expect(connect(path, { timout: 10 } as never)).rejects.toMatchObject(refused(['timout']));
    await expect(connect(path, { allowUids: [0] } as never)).rejects.toMatchObject(refused(['allowUids'])); // a listen option
    const ch = await connect(path);
    expect(() => ch.send('x', { fd: [0] } as never)).toThrow(expect.objectContaining(refused(['fd'])));
    await expect(ch.receive({ timeOut: 1 } as never)).rejects.toMatchObject(refused(['timeOut']));
    await expect(ch.drained({ signa: null } as never)).rejects.toMatchObject(refused(['signa']));
    await expect(ch.close({ force: true } as never)).rejects.toMatchObject(refused(['force']));
    await expect(s.close({ timeoutMs: 1 } as never)).rejects.toMatchObject(refused(['timeoutMs']));
    expect(ch.closed).toBe(false); // a refused call changed nothing
    expect(s.closed).toBe(false);
    await ch.close();
  });
});
