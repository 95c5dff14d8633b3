// Long-lived side processes, one set per column: pair k is side a on CPU 0 and side b on CPU 1.
// Starting a Node process costs a few hundred milliseconds of CPU, seconds on a loaded 2-CPU
// machine, and the table would start about a hundred of them if every measurement had its own; from
// a pool each column starts at most eight (four pairs) for all its round-trip, stream, scaling and
// synchronisation rows, so the run's time goes to measuring. A side runs one task at a time, and
// every task pairs afresh (its own segment or socket). A task that fails or overruns its deadline
// ends its process, and so does the fault run's SIGKILL (fault.ts); the next task gets a fresh one.
import type { Placement } from './pin';
import { spawnSide, type Side } from './spawn-side';

export interface Task {
  /** The next line the task prints. */
  next(): Promise<Record<string, unknown>>;
  tell(o: Record<string, unknown>): void;
  /** Resolves once the side has ended the task (its other lines are dropped); rejects if it died. */
  finish(): Promise<void>;
  /** Ends the side's process: the task is abandoned. */
  abort(): void;
  /** Resolves when the side's process has exited. */
  exited: Promise<number | string>;
}

export class SidePool {
  readonly #sides = new Map<string, Side>();
  readonly #place: Placement;
  readonly #wrap: { a: string[]; b: string[] } | undefined;
  /** Processes started so far (the engine plans with it). */
  started = 0;

  constructor(place: Placement, wrap?: { a: string[]; b: string[] }) {
    this.#place = place;
    this.#wrap = wrap;
  }

  #side(column: string, pair: number, which: 'a' | 'b'): Side {
    const key = `${column} pair ${pair} side ${which}`;
    let side = this.#sides.get(key);
    if (side === undefined || side.dead) {
      const wrap = which === 'a' ? this.#wrap?.a : this.#wrap?.b;
      side = spawnSide(this.#place, which === 'a' ? 0 : 1, null, { wrap, label: key });
      this.#sides.set(key, side);
      this.started++;
    }
    return side;
  }

  /** Starts `args` (a role of side.ts) on side `which` of pair `pair` of the column `args.column`. */
  task(pair: number, which: 'a' | 'b', args: Record<string, unknown> & { column: string }, deadlineMs: number): Task {
    const side = this.#side(args.column, pair, which);
    side.tell({ task: args });
    const watchdog = setTimeout(() => side.child.kill('SIGKILL'), deadlineMs);
    let finished: Promise<void> | undefined;
    return {
      next: () => side.next(),
      tell: (o) => side.tell(o),
      finish() {
        finished ??= (async () => {
          try {
            while (!(await side.next()).taskEnd);
          } finally {
            clearTimeout(watchdog);
          }
        })();
        return finished;
      },
      abort() {
        clearTimeout(watchdog);
        side.child.kill('SIGKILL');
      },
      exited: side.exited,
    };
  }

  /** Ends every side: stdin closes (a side then exits), and whatever is still there after 2 s is killed. */
  async close(): Promise<void> {
    const sides = [...this.#sides.values()];
    this.#sides.clear();
    for (const s of sides) s.child.stdin?.end();
    await Promise.race([Promise.all(sides.map((s) => s.exited)), new Promise((r) => setTimeout(r, 2000))]);
    for (const s of sides) if (!s.dead) s.child.kill('SIGKILL');
  }
}

/** Waits up to `ms` for every task to end; aborts those that have not (their sides are then started afresh). */
export async function finishAll(tasks: Task[], ms = 3000): Promise<void> {
  const done = tasks.map(() => false);
  await Promise.race([
    Promise.all(
      tasks.map((t, i) =>
        t.finish().then(
          () => (done[i] = true),
          () => {},
        ),
      ),
    ),
    new Promise((r) => setTimeout(r, ms)),
  ]);
  tasks.forEach((t, i) => {
    if (!done[i]) t.abort();
  });
}
