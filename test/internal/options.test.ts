// Every options object of the public API refuses properties it does not know (a misspelt option
// would otherwise be ignored in silence): ERR_INVALID_ARG_VALUE naming each, and nothing changes.
// The channel's options are checked in test/channel/errors.test.ts.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Barrier, Condition, futex, Mailbox, MailboxGroup, Mutex, RwLock, Semaphore, SharedMemory } from '../../lib';
import { validateOptionNames } from '../../lib/internal/validate';
import { leftoverShm, uniqueName } from '../helpers/util';

const refused = (...names: string[]) =>
  expect.objectContaining({
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: expect.stringMatching(new RegExp(names.map((n) => `'${n}'`).join('.*'))),
  });

describe('validateOptionNames', () => {
  it('names every unknown property and what the call takes; ignores inherited, symbol and non-object values', () => {
    expect(() => validateOptionNames({ a: 1, b: 2, c: 3 }, 'options', ['a'])).toThrow(refused('b', 'c'));
    expect(() => validateOptionNames({ b: 2 }, 'options', ['a'])).toThrow(/unknown property 'b'; it takes 'a'/);
    expect(() => validateOptionNames(Object.create({ inherited: 1 }), 'options', [])).not.toThrow();
    expect(() => validateOptionNames({ [Symbol('x')]: 1 }, 'options', [])).not.toThrow();
    for (const v of [undefined, null, 'abc', 5]) expect(() => validateOptionNames(v, 'options', [])).not.toThrow();
  });
});

describe('unknown options are refused, and nothing is made', () => {
  it('SharedMemory and futex', async () => {
    const name = uniqueName('opts');
    expect(() => SharedMemory.create(name, { size: 4096, mod: 0o600 } as never)).toThrow(refused('mod'));
    expect(existsSync(`/dev/shm${name}`)).toBe(false);
    expect(() => SharedMemory.openOrCreate(name, { size: 4096, exclusive: true } as never)).toThrow(refused('exclusive'));
    expect(() => SharedMemory.anonymous({ size: 4096, name: 'x' } as never)).toThrow(refused('name'));
    expect(() => SharedMemory.open(name, { readOnly: true } as never)).toThrow(refused('readOnly'));
    const shm = SharedMemory.anonymous({ size: 4096 });
    try {
      expect(() => SharedMemory.fromFd(shm.fd, { sealed: true } as never)).toThrow(refused('sealed'));
      const view = new Int32Array(shm.buffer);
      await expect(futex.waitAsync(view, 0, 0, 1, { timeout: 5 } as never)).rejects.toThrow(refused('timeout'));
    } finally {
      shm.close();
    }
  });

  it('Mutex, Semaphore, Condition, Barrier, RwLock (create, initAt and every wait)', async () => {
    const name = uniqueName('opts');
    expect(() => Mutex.create(name, { robust: true } as never)).toThrow(refused('robust'));
    expect(() => Condition.create(name, { mdoe: 0o600 } as never)).toThrow(refused('mdoe'));
    expect(() => RwLock.create(name, { writerFirst: true } as never)).toThrow(refused('writerFirst'));
    expect(() => Semaphore.create(name, { initial: 3 } as never)).toThrow(refused('initial'));
    expect(() => Barrier.create(name, { parties: 2, count: 2 } as never)).toThrow(refused('count'));
    expect(existsSync(`/dev/shm${name}`)).toBe(false);
    const shm = SharedMemory.anonymous({ size: 4096 });
    try {
      expect(() => Semaphore.initAt(shm, 0, { value: 1, mode: 0o600 } as never)).toThrow(refused('mode')); // mode is for create()
      expect(() => Barrier.initAt(shm, 0, { parties: 2, mode: 0o600 } as never)).toThrow(refused('mode'));
      const m = Mutex.initAt(shm, 0);
      await expect(m.lock({ timout: 10 } as never)).rejects.toThrow(refused('timout'));
      expect(() => m.lockSync({ timeOut: 10 } as never)).toThrow(refused('timeOut'));
      expect(m.tryLock()).toBe(true); // the refused calls took nothing
      m.unlock();
    } finally {
      shm.close();
    }
  });

  it('MailboxGroup and Mailbox (create, join, send, receive and their sync forms)', async () => {
    const name = uniqueName('opts');
    expect(() => MailboxGroup.create(name, { members: 2, ringsize: 4096 } as never)).toThrow(refused('ringsize'));
    expect(() => Mailbox.create(name, { members: 2 } as never)).toThrow(refused('members'));
    expect(existsSync(`/dev/shm${name}`)).toBe(false);
    const a = Mailbox.create(name, { ringSize: 4096 });
    try {
      expect(() => Mailbox.open(name, { member: 1 } as never)).toThrow(refused('member'));
      expect(() => MailboxGroup.join(name, { doorBell: 'futex' } as never)).toThrow(refused('doorBell'));
      const b = Mailbox.open(name);
      try {
        await expect(a.send('x', { timeOut: 5 } as never)).rejects.toThrow(refused('timeOut'));
        expect(() => a.sendSync('x', { wait: 5 } as never)).toThrow(refused('wait'));
        await expect(b.receive({ max: 5 } as never)).rejects.toThrow(refused('max')); // max is receiveMany's
        await expect(b.receiveMany({ maximum: 5 } as never)).rejects.toThrow(refused('maximum'));
        expect(() => b.receiveSync({ signal: undefined, spinn: 1 } as never)).toThrow(refused('spinn'));
        expect(b.tryReceive()).toBeUndefined(); // nothing was sent by the refused calls
      } finally {
        b.close();
      }
    } finally {
      a.close();
      Mailbox.unlink(name);
    }
    expect(leftoverShm()).toEqual([]);
  });
});
