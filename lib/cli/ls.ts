// `interproc ls [FOLDER...]`: every object in /dev/shm (and the Unix socket files of the folders
// given): kind, size, mode, owner, age, and whether a process that uses it is alive.
import { globMatcher, parse } from './args';
import { painter, wantsColour } from './format/colour';
import { brief, objectTable, unseenNote } from './render';
import { survey } from './objects/survey';

export const usage = `interproc ls [options] [FOLDER...]
  Lists the objects in /dev/shm: the library's (mailbox groups, stores, process-group areas,
  mutexes, semaphores, conditions, barriers, rwlocks, creations never finished) by the mark they
  carry, and every other file as 'unknown' (plain SharedMemory segments carry no mark). With
  FOLDERs, their Unix socket files too. USERS: alive (a live process uses it: recorded in its
  layout, or mapping it or holding it open), dead (every recorded user is dead), none, unknown.
  --ours          only the library's objects
  --match GLOB    only names that match ('*', '?'; repeatable), e.g. --match '/myapp-*'
  --json          print JSON: { objects: [...], processes, unseenProcesses }
  -h, --help      this text`;

export async function lsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    'ls',
    argv,
    {
      json: { type: 'boolean', default: false },
      ours: { type: 'boolean', default: false },
      match: { type: 'string', multiple: true },
    },
    true,
  );
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const match = globMatcher((values.match as string[] | undefined) ?? []);
  const s = survey({ socketDirs: positionals, ...(match ? { match } : {}) });
  const objects = values.ours ? s.objects.filter((o) => o.ours) : s.objects;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ objects: objects.map(brief), processes: s.processes, unseenProcesses: s.unseenProcesses }, null, 1)}\n`,
    );
    return 0;
  }
  if (objects.length === 0) process.stdout.write('no objects\n');
  else process.stdout.write(objectTable(objects, painter(wantsColour(process.stdout))));
  const unseen = Math.max(0, ...objects.map((o) => o.unseen));
  if (unseen > 0) process.stderr.write(unseenNote(unseen));
  return 0;
}
