// `interproc rm NAME...`: removes named objects of the library. Refuses a file it cannot identify
// as the library's, and (unless --force) one a live process uses or whose users it cannot check.
import { parse, segmentName, UsageError } from './args';
import { keepReason } from './objects/model';
import { survey } from './objects/survey';
import { removeObject } from './remove';

export const usage = `interproc rm [options] NAME...
  Removes the named objects of the library from /dev/shm ('/name' or 'name'; as
  SharedMemory.unlink: processes that have it mapped keep their mapping). Refuses a file that does
  not carry the library's mark (a plain SharedMemory segment: remove it with SharedMemory.unlink
  or rm /dev/shm/NAME), and, unless --force, one that a live process uses or whose users cannot
  all be checked (a damaged one included).
  --force         remove even when in use or its users are unknown (never a file not the library's)
  --json          print JSON: { removed: [names], refused: [{ name, reason }] }
  -h, --help      this text`;

export async function rmCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    'rm',
    argv,
    { force: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    true,
  );
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("rm: no NAME given\nSee 'interproc rm --help'.");
  const names = positionals.map((n) => segmentName('rm', n));
  const found = new Map(survey({ names }).objects.map((o) => [o.name, o]));
  const removed: string[] = [];
  const refused: { name: string; reason: string }[] = [];
  for (const name of names) {
    const o = found.get(name);
    let reason: string | undefined;
    if (o === undefined) reason = 'no such object in /dev/shm';
    else if (!o.ours) reason = "it does not carry the library's mark (kind unknown): not removed";
    else if (!values.force && (o.users === 'alive' || o.users === 'unknown' || o.damaged !== null))
      reason = `${keepReason(o) ?? o.users} (--force removes it anyway)`;
    else {
      const r = removeObject(o);
      if (r.removed) removed.push(name);
      else reason = r.reason;
    }
    if (reason !== undefined) refused.push({ name, reason });
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ removed, refused }, null, 1)}\n`);
  else {
    for (const n of removed) process.stdout.write(`removed ${n}\n`);
    for (const r of refused) process.stderr.write(`interproc rm: ${r.name}: ${r.reason}\n`);
  }
  return refused.length > 0 ? 1 : 0;
}
