#!/usr/bin/env node
// The `interproc` command: a table of subcommands, each a module that parses its own arguments.
import { compareCommand, usage as compareUsage } from './compare/command';

interface Subcommand {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const subcommands: Record<string, Subcommand> = {
  compare: {
    summary: "measure the seed's comparison table (message passing vs shared memory) on this machine",
    usage: compareUsage,
    run: compareCommand,
  },
};

function help(): string {
  const names = Object.entries(subcommands).map(([n, s]) => `  ${n.padEnd(10)} ${s.summary}`);
  return `usage: interproc <command> [options]\n\ncommands:\n${names.join('\n')}\n\ninterproc <command> --help for its options\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 1 : 0;
  }
  const sub = subcommands[name];
  if (!sub) {
    process.stderr.write(`interproc: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  return sub.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`interproc: ${err?.message ?? err}\n`);
    process.exit(err instanceof TypeError || err instanceof RangeError || err?.code?.startsWith?.('ERR_PARSE_ARGS') ? 2 : 1);
  },
);
