// A driver for test/shm/fixtures/shm-child.cjs: call(cmd, args) sends a command and resolves with the answer.
import type { ChildProcess } from 'node:child_process';
import { exited, forkFixture, nextMessage } from './util';

export class Child {
  readonly proc: ChildProcess;
  #next = 0;
  private constructor(proc: ChildProcess) {
    this.proc = proc;
  }
  static async start(fixture = 'shm/shm-child.cjs', options: Parameters<typeof forkFixture>[2] = {}): Promise<Child> {
    const proc = forkFixture(fixture, [], options);
    await nextMessage(proc, (m) => m?.ready);
    return new Child(proc);
  }
  async call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#next;
    const answer = nextMessage<{ ok: boolean; value: T; error: { message: string; code?: string } }>(
      this.proc,
      (m) => m && m.id === id,
    );
    this.proc.send({ id, cmd, ...args });
    const r = await answer;
    if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r.value;
  }
  async stop(): Promise<void> {
    const done = exited(this.proc);
    this.proc.kill();
    await done;
  }
}
