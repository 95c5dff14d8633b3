// `interproc compare [--budget S] [--quick] [--out DIR] [--json]`: measures the seed's table on this
// machine and writes compare.txt, compare.md and compare.json into DIR (a fresh temporary folder by
// default), printing the table.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compare } from './engine';
import { envLines, markdown, terminal } from './render';

export const usage = `interproc compare [options]
  Measures the seed's comparison table (message passing, shared memory, and each emulated on the
  other) on this machine and prints it; also writes compare.{txt,md,json}.
  --budget SECONDS  about how long the run takes (default 40)
  --quick           a short run (budget 12 s): figures with wider spreads
  --out DIR         where to write the results (default: a new temporary folder)
  --json            print the JSON instead of the table
  -h, --help        this text`;

export async function compareCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      budget: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const budget = values.budget !== undefined ? Number(values.budget) : values.quick ? 12 : 40;
  if (!Number.isFinite(budget) || budget <= 0)
    throw new RangeError(`--budget must be a positive number of seconds, not ${values.budget}`);
  const outDir = values.out ? path.resolve(values.out) : fs.mkdtempSync(path.join(os.tmpdir(), 'interproc-compare-results-'));
  fs.mkdirSync(outDir, { recursive: true });
  const { table, columns } = await compare({ budget, log: (l) => process.stderr.write(`${l}\n`) });
  const text = `${terminal(table, columns)}\n${[...envLines(table), ...table.notes].join('\n')}\n`;
  const md = `${markdown(table, columns)}\n${[...envLines(table), ...table.notes].map((l) => `- ${l}`).join('\n')}\n`;
  fs.writeFileSync(path.join(outDir, 'compare.txt'), text);
  fs.writeFileSync(path.join(outDir, 'compare.md'), md);
  fs.writeFileSync(path.join(outDir, 'compare.json'), `${JSON.stringify(table, null, 1)}\n`);
  process.stdout.write(values.json ? `${JSON.stringify(table, null, 1)}\n` : text);
  process.stderr.write(`wrote ${path.join(outDir, 'compare.{txt,md,json}')}\n`);
  return 0;
}
