#!/usr/bin/env node
// The `interproc` command: a table of subcommands, each a module that parses its own arguments.
import { UsageError } from './args';
import { compareCommand, usage as compareUsage } from './compare/command';
import { gcCommand, usage as gcUsage } from './gc';
import { inspectCommand, usage as inspectUsage } from './inspect';
import { lsCommand, usage as lsUsage } from './ls';
import { rmCommand, usage as rmUsage } from './rm';

interface Subcommand {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const subcommands: Record<string, Subcommand> = {
  ls: {
    summary: 'list the objects in /dev/shm (and socket files of folders): kind, size, mode, owner, age, users alive',
    usage: lsUsage,
    run: lsCommand,
  },
  inspect: {
    summary: "one object in detail: a group's members and ring fill, a lock's holder, a barrier's parties, a store's owners",
    usage: inspectUsage,
    run: inspectCommand,
  },
  gc: {
    summary: "remove the library's objects that no live process uses (--dry-run to see which)",
    usage: gcUsage,
    run: gcCommand,
  },
  rm: {
    summary: 'remove named objects of the library',
    usage: rmUsage,
    run: rmCommand,
  },
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
    const usage =
      err instanceof UsageError ||
      err instanceof TypeError ||
      err instanceof RangeError ||
      err?.code?.startsWith?.('ERR_PARSE_ARGS');
    process.exit(usage ? 2 : 1);
  },
);
