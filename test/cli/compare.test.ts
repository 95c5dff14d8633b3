// `interproc compare` with a tiny budget: the output is complete and well-formed (every row and
// every column, the store's included, JSON that parses, a Markdown table of one shape), written to a
// fresh temporary folder when no --out is given; its figures are not judged.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columns } from '../../lib/cli/compare/columns';
import { rowDefs } from '../../lib/cli/compare/rows';

const MAIN = path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const run = promisify(execFile);

describe('interproc compare', () => {
  let out: string;
  let stdout: string;
  let stderr: string;
  beforeAll(async () => {
    // no --out: the results go to a folder of its own under the temporary directory, named on stderr
    ({ stdout, stderr } = await run(process.execPath, [MAIN, 'compare', '--budget', '3'], {
      timeout: 120_000,
      maxBuffer: 1 << 24,
    }));
    out = path.dirname(/^wrote (.*)$/m.exec(stderr)?.[1] ?? '');
  }, 130_000);
  afterAll(() => {
    if (out.startsWith(path.join(os.tmpdir(), 'interproc-compare-results-'))) rmSync(out, { recursive: true, force: true });
  });

  it('writes into a fresh temporary folder by default, never into the repository', () => {
    expect(path.dirname(out)).toBe(os.tmpdir());
    expect(path.basename(out)).toMatch(/^interproc-compare-results-/);
    expect(readdirSync(out).sort()).toEqual(['compare.json', 'compare.md', 'compare.txt']);
  });

  it('writes JSON with every row and a cell for every column, each with the seed word and a verdict', () => {
    const table = JSON.parse(readFileSync(path.join(out, 'compare.json'), 'utf8'));
    expect(table.columns.map((c: { id: string }) => c.id)).toEqual(columns.map((c) => c.id));
    expect(table.rows.map((r: { id: string }) => r.id)).toEqual(rowDefs.map((r) => r.id));
    for (const row of table.rows) {
      for (const c of columns) {
        const cell = row.cells[c.id];
        expect(cell, `${row.id} / ${c.id}`).toBeDefined();
        expect(typeof cell.text).toBe('string');
        expect(cell.text.length).toBeGreaterThan(0);
        expect(['High', 'Low', 'Explicit', 'Implicit', 'Direct', 'Copied']).toContain(cell.word);
        expect(['agrees', 'disagrees', 'no difference', 'undecided', 'n/a']).toContain(cell.verdict);
      }
    }
    // every model is built, the store's included, and measured: its cells carry figures, not failures
    expect(columns.filter((k) => k.unavailable).map((k) => k.id)).toEqual([]);
    const cell = (id: string, c: string) => table.rows.find((r: { id: string }) => r.id === id).cells[c];
    for (const c of columns) {
      for (const id of ['performance.rtt64', 'performance.tput64', 'performance.tput64k', 'syncOverhead.cpu', 'complexity.loc']) {
        expect(cell(id, c.id).text, `${id} / ${c.id}`).not.toMatch(/^failed|not measured/);
        expect(typeof cell(id, c.id).score).toBe('number');
      }
      // the other rows: what the host allows (TCP namespaces, another uid) may be skipped, nothing may fail
      for (const row of table.rows)
        expect(row.cells[c.id].text, `${row.id} / ${c.id}`).not.toMatch(/^failed|not measured|no example|no fault/);
    }
    // the store's column says what it measures: operations on the other process's blocks
    expect(cell('performance.rtt64', 'store').text).toMatch(/an add on a cell the other process owns/);
    expect(cell('performance.tput64', 'store').text).toMatch(/ops\/s .*read back and checked/);
    expect(cell('performance.tput64k', 'store').text).toMatch(/MB\/s .*64 KiB/);
    for (const n of [1, 2, 4]) expect(cell(`scalability.pairs${n}`, 'store').text).toMatch(/ops\/s/);
    expect(cell('syncOverhead.explicit', 'store').text).toMatch(/ns: a lock over the store/);
    expect(cell('faultTolerance.damage', 'store').text).toMatch(/^torn \d+; lost \d+/);
    expect(cell('security.mode', 'store').text).toMatch(/^0[0-7]{3} \/dev\/shm/);
    expect(cell('complexity.loc', 'store').text).toMatch(/^\d+ lines \(examples\/counter\/store\.cjs\)$/);
    expect(table.env.node).toBe(process.version);
    expect(table.notes.join('\n')).toMatch(/pinned|unpinned/);
  });

  it('writes a Markdown table of one shape, and prints the aligned table with every row label', () => {
    const md = readFileSync(path.join(out, 'compare.md'), 'utf8');
    const lines = md.split('\n').filter((l) => l.startsWith('|'));
    expect(lines).toHaveLength(2 + rowDefs.length);
    const pipes = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (const l of lines) expect(pipes(l)).toBe(columns.length + 4);
    expect(lines[1]).toMatch(/^\|(---\|)+$/);
    const txt = readFileSync(path.join(out, 'compare.txt'), 'utf8');
    expect(stdout).toBe(txt);
    for (const d of rowDefs) expect(txt.replace(/\s+/g, ' ')).toContain(d.label.split(' ')[0]);
    const widths = new Set(
      txt
        .split('\n')
        .filter((l) => l.startsWith('|') || l.startsWith('+'))
        .map((l) => [...l].length),
    );
    expect(widths.size).toBe(1);
    expect(stderr).toMatch(/\[1\/\d+\]/);
  });

  it('leaves nothing of its own in /dev/shm', () => {
    expect(readdirSync('/dev/shm').filter((f) => f.startsWith('interproc-compare-'))).toEqual([]);
  });

  it('knows --help, and refuses an unknown command or option', async () => {
    const help = await run(process.execPath, [MAIN, '--help']);
    expect(help.stdout).toMatch(/compare/);
    await expect(run(process.execPath, [MAIN, 'nope'])).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [MAIN, 'compare', '--budget', 'x'])).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [MAIN, 'compare', '--bogus'])).rejects.toMatchObject({ code: 2 });
  });
});
