// A group started by Debian's Open MPI `mpirun -np N node app.js` finds its rank and size in the
// launcher's environment and forms the group with no more code; its ranks are the ones MPI itself
// gives (a tiny C MPI program run by the same mpirun).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/util';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const haveMpirun = have('mpirun');
const haveMpicc = have('mpicc');
const asRoot = process.getuid?.() === 0 ? ['--allow-run-as-root'] : [];

function mpirun(np: number, program: string[]): { rank: number; size: number; [k: string]: unknown }[] {
  const out = execFileSync(
    'mpirun',
    [...asRoot, '--oversubscribe', '--mca', 'btl', 'self,vader', '-np', String(np), ...program],
    {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, OMPI_MCA_plm_rsh_agent: '' },
    },
  );
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .sort((a, b) => a.rank - b.rank);
}

describe('a group started by mpirun', () => {
  if (!haveMpirun) {
    it('cannot run: mpirun (Debian openmpi-bin) is not installed; .ci/run installs it', () => {
      console.warn('mpirun not found: the mpirun group test did not run');
      expect(haveMpirun).toBe(false);
    });
    return;
  }
  it('gets the ranks and the size MPI gives, and its members reach each other', () => {
    const np = 3;
    const members = mpirun(np, [process.execPath, fixture('group', 'scenarios.cjs'), 'whoami']);
    expect(members.map((m) => [m.rank, m.size, m.sum, m.transport])).toEqual(
      [...Array(np).keys()].map((r) => [r, np, 3, 'mailbox']),
    );
    for (const m of members) expect(m.env).toEqual({ rank: String(m.rank), size: String(np) });
    if (!haveMpicc) {
      console.warn("mpicc not found (Debian libopenmpi-dev): compared with mpirun's environment only");
      return;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'interproc-mpi-'));
    try {
      const exe = path.join(dir, 'mpi_rank');
      execFileSync('mpicc', ['-O2', '-o', exe, fixture('group', 'mpi_rank.c')]);
      const mpi = mpirun(np, [exe]);
      expect(members.map((m) => [m.rank, m.size])).toEqual(mpi.map((m) => [m.rank, m.size]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
