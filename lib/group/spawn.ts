// spawnGroup: the launcher for one host. It forks `size` Node processes of one script with the
// variables joinGroup reads (INTERPROC_GROUP_NAME/RANK/SIZE, and for TCP the rendezvous address,
// which the launcher then serves itself on a free port). For more hosts use a launcher that exists
// (mpirun, srun): joinGroup reads theirs too.
import { type ChildProcess, fork, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { InterprocError } from '../internal/errors';
import { validateInteger, validateObject, validateString } from '../internal/validate';
import { MailboxGroup } from '../mailbox/group';
import { SharedMemory } from '../shm/shared-memory';
import type { TransportKind } from './group';
import { serveRendezvous } from './rendezvous';

export interface SpawnGroupOptions {
  /** Number of members, 1..64. */
  size: number;
  /** Arguments after the script (the same for every member). */
  args?: string[];
  /** Variables added to this process's environment for every member. */
  env?: NodeJS.ProcessEnv;
  /** Node options of the members (default: this process's execArgv). */
  execArgv?: string[];
  /** The group's name (default: a fresh unique one). */
  name?: string;
  /** 'mailbox' (default) or 'tcp' (over loopback, through a rendezvous this process serves). */
  transport?: TransportKind;
  /** As for child_process.fork (default: inherit, with an IPC channel). */
  stdio?: StdioOptions;
  cwd?: string;
}

export interface MemberExit {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedGroup {
  readonly name: string;
  readonly size: number;
  /** The members' processes, by rank. */
  readonly processes: ChildProcess[];
  /** Resolves when every member has exited, with how each ended. */
  readonly exited: Promise<MemberExit[]>;
  /** Sends `signal` (default SIGTERM) to every member still running. */
  kill(signal?: NodeJS.Signals): void;
}

export async function spawnGroup(script: string, options: SpawnGroupOptions): Promise<SpawnedGroup> {
  validateString(script, 'script');
  validateObject(options, 'options');
  validateInteger(options.size, 'options.size', 1, 64);
  const size = options.size;
  const name = options.name ?? `/interproc-group-${process.pid}-${randomBytes(6).toString('hex')}`;
  const transport = options.transport ?? 'mailbox';
  if (transport !== 'mailbox' && transport !== 'tcp')
    throw new InterprocError('ERR_GROUP_MISMATCH', `unknown transport ${String(transport)}`);
  const extra: NodeJS.ProcessEnv = {
    INTERPROC_GROUP_NAME: name,
    INTERPROC_GROUP_SIZE: String(size),
    INTERPROC_GROUP_TRANSPORT: transport,
  };
  const rendezvous = transport === 'tcp' ? await serveRendezvous('127.0.0.1', 0, size) : undefined;
  if (rendezvous !== undefined) {
    extra.INTERPROC_GROUP_ADDRESS = `127.0.0.1:${(rendezvous.address as { port: number }).port}`;
    extra.INTERPROC_GROUP_HOSTED = '1';
  }
  const processes: ChildProcess[] = [];
  for (let rank = 0; rank < size; rank++) {
    processes.push(
      fork(script, options.args ?? [], {
        env: { ...process.env, ...options.env, ...extra, INTERPROC_GROUP_RANK: String(rank) },
        execArgv: options.execArgv ?? process.execArgv,
        stdio: options.stdio ?? ['inherit', 'inherit', 'inherit', 'ipc'],
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      }),
    );
  }
  const exited = Promise.all(
    processes.map(
      (child, rank) =>
        new Promise<MemberExit>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null)
            resolve({ rank, code: child.exitCode, signal: child.signalCode });
          else child.once('exit', (code, signal) => resolve({ rank, code, signal }));
        }),
    ),
  ).then(async (exits) => {
    // Members that died before everyone joined leave the names behind: remove them.
    if (transport === 'mailbox') {
      MailboxGroup.unlink(name);
      SharedMemory.unlink(`${name}-shared`);
    }
    await rendezvous?.close({ timeout: 1000 }).catch(() => {});
    return exits;
  });
  return {
    name,
    size,
    processes,
    exited,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill(signal);
    },
  };
}
