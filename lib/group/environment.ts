// Where a member finds its rank, the group's size and a name all members share, when it was started
// by a launcher: spawnGroup (INTERPROC_GROUP_*), Open MPI's mpirun (OMPI_COMM_WORLD_*), a PMI
// launcher such as MPICH's or Intel's mpiexec (PMI_RANK/PMI_SIZE), or Slurm's srun (SLURM_PROCID/
// SLURM_NTASKS). The first that is set wins, in that order, so `mpirun -np 4 node app.js` with
// `await joinGroup()` in app.js needs no other code.

export type Launcher = 'interproc' | 'openmpi' | 'pmi' | 'slurm';

export interface LaunchEnvironment {
  launcher: Launcher;
  rank: number;
  size: number;
  /** A name every member of this launch computes alike (the job's id), for the group's segments. */
  name: string;
  /** Whether the launcher put every member on this host; undefined when it does not say. */
  oneHost: boolean | undefined;
  /** INTERPROC_GROUP_ADDRESS: the rendezvous for members on several hosts ('host:port'). */
  address: string | undefined;
  /** INTERPROC_GROUP_TRANSPORT, if set. */
  transport: string | undefined;
  /** The rendezvous is served by the launcher, not by rank 0 (spawnGroup over TCP). */
  hosted: boolean;
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** A segment name from a launcher's job id: only characters a POSIX shm name takes. */
function nameOf(launcher: string, id: string): string {
  return `/interproc-group-${launcher}-${id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 160)}`;
}

/** The launch this process belongs to, or undefined when no launcher's variables are set. */
export function launchEnvironment(env: NodeJS.ProcessEnv = process.env): LaunchEnvironment | undefined {
  const common = {
    address: env.INTERPROC_GROUP_ADDRESS || undefined,
    transport: env.INTERPROC_GROUP_TRANSPORT || undefined,
    hosted: env.INTERPROC_GROUP_HOSTED === '1',
  };
  // The parent of every member on this host, when the launcher names no job: its launcher daemon.
  const parent = `ppid${process.ppid}`;
  let rank = int(env.INTERPROC_GROUP_RANK);
  let size = int(env.INTERPROC_GROUP_SIZE);
  if (rank !== undefined && size !== undefined) {
    const name = env.INTERPROC_GROUP_NAME || nameOf('interproc', parent);
    return { launcher: 'interproc', rank, size, name, oneHost: common.address === undefined ? true : undefined, ...common };
  }
  rank = int(env.OMPI_COMM_WORLD_RANK);
  size = int(env.OMPI_COMM_WORLD_SIZE);
  if (rank !== undefined && size !== undefined) {
    const job = env.PMIX_NAMESPACE || env.OMPI_MCA_ess_base_jobid || parent;
    const local = int(env.OMPI_COMM_WORLD_LOCAL_SIZE);
    return {
      launcher: 'openmpi',
      rank,
      size,
      name: nameOf('ompi', job),
      oneHost: local === undefined ? undefined : local === size,
      ...common,
    };
  }
  rank = int(env.PMI_RANK);
  size = int(env.PMI_SIZE);
  if (rank !== undefined && size !== undefined) {
    const job = env.PMI_KVSNAME || env.PMIX_NAMESPACE || parent;
    const local = int(env.MPI_LOCALNRANKS);
    return {
      launcher: 'pmi',
      rank,
      size,
      name: nameOf('pmi', job),
      oneHost: local === undefined ? undefined : local === size,
      ...common,
    };
  }
  rank = int(env.SLURM_PROCID);
  size = int(env.SLURM_NTASKS);
  if (rank !== undefined && size !== undefined) {
    const job = `${env.SLURM_JOB_ID ?? parent}.${env.SLURM_STEP_ID ?? '0'}`;
    const nodes = int(env.SLURM_STEP_NUM_NODES ?? env.SLURM_NNODES);
    return {
      launcher: 'slurm',
      rank,
      size,
      name: nameOf('slurm', job),
      oneHost: nodes === undefined ? undefined : nodes === 1,
      ...common,
    };
  }
  return undefined;
}
