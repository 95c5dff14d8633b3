// What every fault round shares (bench/faults/*.cjs): one round is one fresh driver process, started
// by bench/faults.cjs as `node bench/faults/<area>.cjs <scenario> '<json context>'`, which starts the
// processes of its scenario, makes the fault happen, watches what each process does, and prints one
// JSON line: { outcome, times: { label: ms | ms[] }, figures: { label: n | n[] } }. The same file, run
// as `node bench/faults/<area>.cjs role <name> '<json>'`, is a child of that driver.
//
// Clocks: every process stamps events with now() (process.hrtime, CLOCK_MONOTONIC, one clock for the
// whole machine), so a time from a fault in the driver to an outcome in a child is a difference of
// two stamps, without the IPC hop that reports it.
'use strict';
const { fork } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
/** The compiled package (dist/), as the other bench scripts load it. */
const dist = () => require(root);
/** A test fixture reused as a child: test/<part>/fixtures/<file>. */
const fixture = (part, file) => path.join(root, 'test', part, 'fixtures', file);

/** Milliseconds on the machine's monotonic clock. */
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const codeOf = (err) => (err && typeof err === 'object' && err.code ? err.code : String(err?.message ?? err));

/** How a child ended, once it has: 'exit 0', 'exit 3', 'SIGBUS'... */
function endOf(child) {
  return child.signalCode ?? `exit ${child.exitCode}`;
}

/**
 * The driver's side of a round: unique names under the runner's prefix (unlinked at the end), the
 * children it forks (SIGKILLed at the end), and the result line.
 */
class Round {
  constructor(argv = process.argv) {
    this.scenario = argv[2];
    this.ctx = JSON.parse(argv[3] ?? '{}');
    this.prefix = this.ctx.prefix ?? `interproc-faults-${process.pid}`;
    this.dir = this.ctx.dir; // a temporary folder of this round (sockets), removed by the runner
    this.children = [];
    this.made = [];
    this.cleanups = [];
    this.counter = 0;
  }

  /** A shared-memory name unique to this round; unlinked at the end of the round. */
  name(tag) {
    const n = `/${this.prefix}-${tag}-${this.counter++}`;
    this.made.push(n);
    return n;
  }

  /** Runs fn at the end of the round (before the children are killed). */
  onEnd(fn) {
    this.cleanups.push(fn);
  }

  /** Forks `file` with an IPC channel; the child's stderr is kept for the report of a crash. */
  fork(file, args = [], options = {}) {
    const child = fork(file, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], ...options });
    child.stderrText = '';
    child.stderr?.on('data', (d) => {
      if (child.stderrText.length < 4000) child.stderrText += d;
    });
    child.gone = new Promise((resolve) => child.once('exit', () => resolve(endOf(child))));
    this.children.push(child);
    return child;
  }

  /** Forks a role of the calling area file (`file role <name> <json>`). */
  role(file, name, task = {}) {
    return this.fork(file, ['role', name, JSON.stringify(task)]);
  }

  /** Resolves with the next IPC message of `child` that satisfies `pred`; rejects when it exits first or after `ms`. */
  message(child, pred = () => true, ms = 20_000, what = 'a message') {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(reject, new Error(`timeout: no ${what} within ${ms} ms`)), ms);
      const onMessage = (m) => pred(m) && finish(resolve, m);
      const onExit = () =>
        finish(reject, Object.assign(new Error(`child ended (${endOf(child)}) before ${what}`), { ended: endOf(child) }));
      const finish = (fn, v) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        fn(v);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  }

  /** Prints the result line, cleans up and exits. */
  async finish(result) {
    for (const fn of this.cleanups.splice(0)) {
      try {
        await fn();
      } catch {
        // the round's result is what counts; the runner removes what is left
      }
    }
    await this.killChildren();
    this.unlinkAll();
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
  }

  async killChildren() {
    for (const c of this.children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await c.gone;
    }
  }

  unlinkAll() {
    const { SharedMemory } = dist();
    for (const n of this.made.splice(0)) {
      try {
        SharedMemory.unlink(n);
      } catch {
        // already gone
      }
    }
  }

  /** Runs the scenario's driver function and reports; an exception is the outcome 'driver error: ...'. */
  run(drivers) {
    const fn = drivers[this.scenario];
    if (!fn) {
      process.stderr.write(`unknown scenario ${this.scenario}\n`);
      process.exit(2);
    }
    Promise.resolve()
      .then(() => fn(this))
      .then(
        (result) => this.finish(result),
        (err) =>
          this.finish({
            outcome: err?.crashed ? err.message : `driver error: ${String(err?.message ?? err).split('\n')[0]}`,
            crashed: err?.crashed === true,
            detail: err?.detail ?? String(err?.stack),
          }),
      );
  }
}

/** In a child: sends `m` and resolves once it is written (so the process may block or exit after). */
function report(m) {
  return new Promise((resolve) => process.send(m, resolve));
}

/** In a child: sends the final report (stamped) and exits 0. */
function done(m) {
  process.send({ done: true, ...m }, () => process.exit(0));
}

/**
 * Entry point of an area file: `role <name> <json>` runs a child role, anything else a round driver.
 * A role that throws reports { done: true, crashed } and exits 3.
 */
function main(drivers, roles) {
  if (process.argv[2] === 'role') {
    const task = JSON.parse(process.argv[4] ?? '{}');
    Promise.resolve()
      .then(() => roles[process.argv[3]](task))
      .catch((err) => process.send({ done: true, crashed: String(err?.stack ?? err) }, () => process.exit(3)));
    return;
  }
  new Round().run(drivers);
}

module.exports = { Round, main, report, done, dist, fixture, now, sleep, codeOf, endOf, root };
