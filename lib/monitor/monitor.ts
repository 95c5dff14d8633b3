// Monitors, as Erlang has them: monitor(target) gives one 'down' event (and a promise) when the
// target ends. On one host the target is a process (a pid, a ChildProcess, or the process holding
// a mailbox member) and the kernel says at once that it ended (a pidfd, lib/internal/process-
// watch.ts), with the exit code or signal where it tells this process (its children); across
// hosts the target is a channel, and its close is the down event. Design: docs/design/monitor.md.
import type { ChildProcess } from 'node:child_process';
import { Channel } from '../channel/channel';
import { type DeathWatcher, native } from '../internal/binding';
import { InterprocError } from '../internal/errors';
import { startTimeOf } from '../internal/liveness';
import { type ProcessExit, type ProcessWatch, watchProcess } from '../internal/process-watch';
import { TypedEmitter } from '../internal/typed-emitter';
import { invalidType, validateInteger } from '../internal/validate';
import { MailboxGroup } from '../mailbox/group';
import { deathWordsWatched } from '../mailbox/peer-watch';

/** A mailbox member: monitored through the process that holds its slot now. */
export interface MemberTarget {
  group: MailboxGroup;
  member: number;
}

/** What can be monitored: a pid, a ChildProcess, a mailbox member, or a channel (any host). */
export type MonitorTarget = number | ChildProcess | MemberTarget | Channel;

/**
 * How the target ended. 'exited' and 'killed' when the kernel gave the status (a child of this
 * process); 'ended' when only the end is known (any other process); 'closed' for a channel;
 * 'noproc' when there was no such process (or member holder) when the monitor began.
 */
export type DownReason = 'exited' | 'killed' | 'ended' | 'closed' | 'noproc';

export interface DownInfo {
  reason: DownReason;
  /** The process, when the target is one; null for a channel. */
  pid: number | null;
  /** The mailbox member id, when the target was a member. */
  member?: number;
  /** The exit code ('exited'), else null. */
  code: number | null;
  /** The signal that killed it ('killed'), else null. */
  signal: NodeJS.Signals | null;
  /**
   * How it was learnt: 'pidfd' (the kernel, at once), 'death-word' (a member's death word, which the
   * kernel marks as the exit begins: sooner than a pidfd, but with no status: reason 'ended'),
   * 'liveness' (the fallback's check), 'child-process' (Node's 'exit'), 'channel'.
   */
  via: 'pidfd' | 'death-word' | 'liveness' | 'child-process' | 'channel';
  /** A channel's error, when it closed with one. */
  error?: Error;
  /** Words for messages: "pid 123 (mailbox member 2) was killed by SIGKILL". */
  description: string;
}

export type MonitorEvents = {
  /** Once, when the target ends. */
  down: (info: DownInfo) => void;
};

function describe(info: Omit<DownInfo, 'description'>): string {
  const who =
    info.pid === null
      ? 'the channel'
      : info.member === undefined
        ? `pid ${info.pid}`
        : `pid ${info.pid} (mailbox member ${info.member})`;
  switch (info.reason) {
    case 'exited':
      return `${who} exited with code ${info.code}`;
    case 'killed':
      return `${who} was killed by ${info.signal}`;
    case 'ended':
      return `${who} ended (its exit status is known only to its parent)`;
    case 'closed':
      return info.error === undefined ? `${who} closed` : `${who} closed (${info.error.message})`;
    case 'noproc':
      return info.member === undefined
        ? `${who} was not running`
        : `mailbox member ${info.member} was held by no running process`;
  }
}

function fromExit(e: ProcessExit, member: number | undefined): Omit<DownInfo, 'description'> {
  const reason: DownReason = !e.known ? 'ended' : e.signal !== null ? 'killed' : 'exited';
  return { reason, pid: e.pid, ...(member === undefined ? {} : { member }), code: e.code, signal: e.signal, via: e.via };
}

function isChildProcess(v: unknown): v is ChildProcess {
  const c = v as Partial<ChildProcess> | null;
  return typeof c === 'object' && c !== null && typeof c.kill === 'function' && 'exitCode' in c && 'signalCode' in c;
}

const CONSTRUCT: unique symbol = Symbol('interproc.Monitor');

/** One monitor of one target: 'down' fires once; `down` resolves with the same record. */
export class Monitor extends TypedEmitter<MonitorEvents> {
  /** Resolves once, when the target ends; stays pending after demonitor(). */
  readonly down: Promise<DownInfo>;
  #resolve!: (info: DownInfo) => void;
  #info: DownInfo | undefined;
  #active = true;
  #watch: ProcessWatch | undefined;
  #death: DeathWatcher | undefined;
  #unhook: (() => void) | undefined;
  #refed = true;

  /** Monitors come from monitor(); the token cannot be had outside the library. */
  constructor(token: typeof CONSTRUCT, target: MonitorTarget) {
    super();
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use monitor()');
    this.down = new Promise((resolve) => (this.#resolve = resolve));
    if (typeof target === 'number') {
      validateInteger(target, 'pid', 1, 2 ** 31 - 1);
      this.#watchPid(target, startTimeOf(target), undefined);
    } else if (target instanceof Channel) {
      this.#watchChannel(target);
    } else if (isChildProcess(target)) {
      this.#watchChild(target);
    } else if (typeof target === 'object' && target !== null && (target as MemberTarget).group instanceof MailboxGroup) {
      this.#watchMember(target as MemberTarget);
    } else {
      throw invalidType('target', 'a pid, a ChildProcess, { group, member } or a Channel', target);
    }
  }

  /** The down record once it fired, else undefined. */
  get info(): DownInfo | undefined {
    return this.#info;
  }

  /** True until it fired or demonitor() was called. */
  get active(): boolean {
    return this.#active;
  }

  /** Stops watching: no 'down' will come (Erlang's demonitor). Idempotent. */
  demonitor(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#stop();
  }

  /** By default a monitor keeps the process alive while it waits (as a ChildProcess does); unref() lets it exit. */
  unref(): this {
    this.#refed = false;
    this.#watch?.unref();
    this.#death?.unref();
    return this;
  }

  ref(): this {
    this.#refed = true;
    this.#watch?.ref();
    this.#death?.ref();
    return this;
  }

  #stop(): void {
    this.#watch?.close();
    this.#watch = undefined;
    this.#death?.close();
    this.#death = undefined;
    this.#unhook?.();
    this.#unhook = undefined;
  }

  #fire(info: Omit<DownInfo, 'description'>): void {
    if (!this.#active) return;
    this.#active = false;
    this.#stop();
    const full: DownInfo = { ...info, description: describe(info) };
    this.#info = full;
    this.#resolve(full);
    this.emit('down', full);
  }

  #watchPid(pid: number, start: number, member: number | undefined): void {
    if (start === -1) {
      // Not running now (or a zombie: then the pidfd still gives its status).
      this.#watch = watchProcess(pid, undefined, (e) => this.#fire(e.known ? fromExit(e, member) : noproc(pid, member)));
    } else {
      this.#watch = watchProcess(pid, start, (e) => this.#fire(fromExit(e, member)));
    }
    if (this.#refed) this.#watch.ref();
  }

  #watchMember({ group, member }: MemberTarget): void {
    validateInteger(member, 'member', 0, group.members - 1);
    if (member === group.id) throw new InterprocError('ERR_INVALID_ARG_VALUE', 'a member cannot monitor itself');
    const slot = MailboxGroup.segmentOf(group).read(member);
    if (slot.state !== 'alive') {
      // Free or left: nobody to watch. Dead: its pid may already name another process, so say so now.
      const info: Omit<DownInfo, 'description'> =
        slot.state === 'dead'
          ? { reason: 'ended', pid: slot.pid, member, code: null, signal: null, via: 'liveness' }
          : noproc(null, member);
      const t = setImmediate(() => this.#fire(info));
      this.#unhook = () => clearImmediate(t);
      return;
    }
    this.#watchPid(slot.pid, slot.start, member);
    // The death word, when the holder keeps one: its mark comes as the exit begins, before the pidfd.
    const segment = MailboxGroup.segmentOf(group);
    const tid = deathWordsWatched() ? segment.deathHolder(member) : 0;
    if (tid === 0) return;
    const { pid, gen } = slot;
    this.#death = new native.DeathWatcher(segment.handle, member, tid, () => {
      this.#death = undefined;
      let died = false;
      try {
        died = segment.gen(member) === gen && segment.diedMark(member);
      } catch {
        // The group was closed meanwhile (its memory is gone): the pidfd watch goes on alone.
      }
      if (!died) return; // left, or rewritten: the pidfd tells
      this.#fire({ reason: 'ended', pid, member, code: null, signal: null, via: 'death-word' });
    });
    if (!this.#refed) this.#death.unref();
  }

  #watchChild(child: ChildProcess): void {
    const pid = child.pid;
    const fromNode = (code: number | null, signal: NodeJS.Signals | null) =>
      this.#fire({
        reason: signal !== null ? 'killed' : 'exited',
        pid: pid ?? null,
        code: signal !== null ? null : code,
        signal,
        via: 'child-process',
      });
    if (child.exitCode !== null || child.signalCode !== null || pid === undefined) {
      const t = setImmediate(() =>
        pid === undefined ? this.#fire(noproc(null, undefined)) : fromNode(child.exitCode, child.signalCode),
      );
      this.#unhook = () => clearImmediate(t);
      return;
    }
    // Node's own 'exit' is the fallback for the status: libuv may reap the child before the
    // pidfd's turn comes, and then waitid can no longer read it.
    let byPidfd: ProcessExit | undefined;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (byPidfd === undefined) fromNode(code, signal);
    };
    child.once('exit', onExit);
    this.#unhook = () => child.off('exit', onExit);
    this.#watch = watchProcess(pid, startTimeOf(pid), (e) => {
      if (!e.known) return; // wait for Node's 'exit', which knows
      byPidfd = e;
      this.#fire(fromExit(e, undefined));
    });
    this.#watch.unref(); // the ChildProcess keeps the loop alive as long as it should
  }

  #watchChannel(channel: Channel): void {
    const onClose = () =>
      this.#fire({
        reason: 'closed',
        pid: null,
        code: null,
        signal: null,
        via: 'channel',
        ...(channel.errored ? { error: channel.errored } : {}),
      });
    if (channel.closed) {
      const t = setImmediate(onClose);
      this.#unhook = () => clearImmediate(t);
      return;
    }
    channel.once('close', onClose);
    this.#unhook = () => channel.off('close', onClose);
  }
}

function noproc(pid: number | null, member: number | undefined): Omit<DownInfo, 'description'> {
  return { reason: 'noproc', pid, ...(member === undefined ? {} : { member }), code: null, signal: null, via: 'liveness' };
}

/** Watches `target` until it ends: one 'down' event (and `monitor.down` resolves). */
export function monitor(target: MonitorTarget): Monitor {
  return new Monitor(CONSTRUCT, target);
}
