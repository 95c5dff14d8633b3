// A one-for-one supervisor, as Erlang/OTP has them: it starts its children, monitors each one
// (lib/monitor: the kernel's pidfd says at once that a child ended), and restarts only the child
// that died. Restart intensity as in OTP: more than `maxRestarts` restarts within `periodMs` means
// something is wrong beyond a restart's help, and the supervisor gives up (stops every child and
// emits 'gave-up') instead of restarting forever.
'use strict';
const { EventEmitter } = require('node:events');
const { monitor } = require('../../dist');

class Supervisor extends EventEmitter {
  /** specs: [{ id, start: () => ChildProcess }] */
  constructor(specs, { maxRestarts = 10, periodMs = 5000 } = {}) {
    super();
    this.specs = specs;
    this.maxRestarts = maxRestarts;
    this.periodMs = periodMs;
    this.children = new Map(); // id -> { proc, monitor }
    this.restartTimes = [];
    this.stopped = false;
  }

  start() {
    for (const spec of this.specs) this.#startChild(spec);
    return this;
  }

  #startChild(spec) {
    const proc = spec.start();
    const m = monitor(proc).unref();
    m.on('down', (info) => this.#down(spec, proc, info));
    this.children.set(spec.id, { proc, monitor: m });
    this.emit('started', spec.id, proc);
  }

  #down(spec, proc, info) {
    if (this.stopped || this.children.get(spec.id)?.proc !== proc) return;
    const now = Date.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < this.periodMs);
    if (this.restartTimes.length >= this.maxRestarts) {
      this.emit('gave-up', spec.id, info);
      this.stop();
      return;
    }
    this.restartTimes.push(now);
    this.emit('down', spec.id, info);
    this.#startChild(spec); // one-for-one: the others go on untouched
  }

  /** Stops supervising and ends every child (SIGTERM); resolves when all have exited. */
  async stop() {
    this.stopped = true;
    const exits = [];
    for (const { proc, monitor: m } of this.children.values()) {
      m.demonitor();
      if (proc.exitCode === null && proc.signalCode === null) {
        exits.push(new Promise((r) => proc.once('exit', r)));
        proc.kill('SIGTERM');
      }
    }
    await Promise.all(exits);
  }
}

module.exports = { Supervisor };
