// Finds the code blocks of a Markdown file that are marked as programs, and runs them as written.
// A block whose info string is `mjs program` (or `cjs program`, `js program`) is a whole program; blocks marked
// `mjs program=NAME` are the programs of one example, started in the order they appear, each once the one before
// has printed its first line (so a server is listening before its client starts).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ProgramBlock {
  file: string;
  line: number;
  language: 'mjs' | 'cjs' | 'js';
  group: string | undefined;
  code: string;
}

const FENCE = /^```(\S*)\s*(.*)$/;

export function programBlocks(markdownFile: string): ProgramBlock[] {
  const lines = fs.readFileSync(markdownFile, 'utf8').split('\n');
  const blocks: ProgramBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${markdownFile}:${i + 1}: unclosed code block`);
    const [, language, info] = open;
    const marker = /(?:^|\s)program(?:=(\S+))?(?:\s|$)/.exec(info);
    if (marker && (language === 'mjs' || language === 'cjs' || language === 'js')) {
      blocks.push({ file: markdownFile, line: i + 1, language, group: marker[1], code: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return blocks;
}

/** The examples of a file: a lone program is an example of its own; a named group is one example. */
export function examples(blocks: ProgramBlock[]): ProgramBlock[][] {
  const byGroup = new Map<string, ProgramBlock[]>();
  const result: ProgramBlock[][] = [];
  for (const b of blocks) {
    if (b.group === undefined) result.push([b]);
    else if (byGroup.has(b.group)) byGroup.get(b.group)?.push(b);
    else {
      const list = [b];
      byGroup.set(b.group, list);
      result.push(list);
    }
  }
  return result;
}

export interface ProgramRun {
  block: ProgramBlock;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one example's programs from `dir` (which resolves `interproc` through its node_modules), each started once the
 * one before printed a line; resolves when all have exited or `guardMs` passed (then the rest are killed).
 */
export async function runExample(example: ProgramBlock[], dir: string, guardMs: number): Promise<ProgramRun[]> {
  const children: ChildProcess[] = [];
  const runs: Promise<ProgramRun>[] = [];
  const guard = setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
  }, guardMs);
  try {
    for (const [index, block] of example.entries()) {
      const file = path.join(dir, `program-${index}.${block.language}`);
      fs.writeFileSync(file, `${block.code}\n`);
      const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      let stderr = '';
      let printed: () => void = () => {};
      const firstLine = new Promise<void>((resolve) => {
        printed = resolve;
      });
      child.stdout?.on('data', (d) => {
        stdout += d;
        if (stdout.includes('\n')) printed();
      });
      child.stderr?.on('data', (d) => {
        stderr += d;
      });
      const exited = new Promise<ProgramRun>((resolve) =>
        child.on('exit', (code, signal) => {
          printed();
          resolve({ block, code, signal, stdout, stderr });
        }),
      );
      runs.push(exited);
      if (index < example.length - 1) await firstLine;
    }
    return await Promise.all(runs);
  } finally {
    clearTimeout(guard);
  }
}

/** A folder where `import 'interproc'` finds this checkout, as it would find an installed package. */
export function packageSandbox(packageRoot: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-snippets-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(packageRoot, path.join(dir, 'node_modules', 'interproc'), 'dir');
  return dir;
}

/** Names a program passes as '/name' string literals: where it would leave objects in /dev/shm. */
export function shmNames(code: string): string[] {
  return [...code.matchAll(/'\/([\w.-]+)'/g)].map((m) => m[1]);
}

export const shmDir = os.platform() === 'linux' ? '/dev/shm' : os.tmpdir();
