// Every code block marked as a program in README.md and docs/api*.md runs as written, on the Node that runs the
// suite (CI runs the oldest one package.json's engines allows), importing the package by its name.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { examples, packageSandbox, programBlocks, runExample, shmDir, shmNames } from '../helpers/markdown-programs';

const root = path.join(__dirname, '..', '..');
const pages = ['README.md', 'docs/api.md', ...fs.readdirSync(path.join(root, 'docs/api')).map((f) => `docs/api/${f}`)];
const sandbox = packageSandbox(root);
afterAll(() => fs.rmSync(sandbox, { recursive: true, force: true }));

function leftInShm(names: string[]): string[] {
  const entries = fs.readdirSync(shmDir);
  return entries.filter((e) => names.some((n) => e === n || e.startsWith(`${n}-`)));
}

it('README.md has a program for each part it shows', () => {
  expect(examples(programBlocks(path.join(root, 'README.md'))).length).toBeGreaterThanOrEqual(8);
});

it('no program block uses `using`, which Node 20 cannot parse', () => {
  for (const page of pages) {
    for (const block of programBlocks(path.join(root, page))) {
      expect(/^\s*(await\s+)?using\s/m.test(block.code), `${page}:${block.line}`).toBe(false);
    }
  }
});

for (const page of pages) {
  const blocks = programBlocks(path.join(root, page));
  if (blocks.length === 0) continue;
  describe(page, () => {
    for (const example of examples(blocks)) {
      const where = `${page}:${example.map((b) => b.line).join(',')}`;
      it(`${example[0].group ?? 'program'} at line ${example.map((b) => b.line).join(', ')} runs as written`, async () => {
        const names = example.flatMap((b) => shmNames(b.code));
        const dir = fs.mkdtempSync(path.join(sandbox, 'example-'));
        const runs = await runExample(example, dir, 45_000);
        const left = leftInShm(names);
        for (const n of left) fs.rmSync(path.join(shmDir, n), { force: true });
        for (const run of runs) {
          const report = `${where} (program at line ${run.block.line}):\n${run.stdout}${run.stderr}`;
          expect({ code: run.code, signal: run.signal }, report).toEqual({ code: 0, signal: null });
          expect(run.stderr, report).toBe('');
          expect(run.stdout.length, report).toBeGreaterThan(0);
        }
        expect(left, `${where} left these in ${shmDir}`).toEqual([]);
      });
    }
  });
}
