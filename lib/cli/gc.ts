// `interproc gc`: removes the library's objects that no live process uses (the stale-segment sweep).
// An object is removed only when it carries the library's mark, its layout reads, and neither
// measure finds a live user (its layout's records, /proc maps and descriptors), with nothing left
// unreadable. Candidates are surveyed a second time just before removal, by name and inode.
import { globMatcher, parse } from './args';
import { painter, wantsColour } from './format/colour';
import { keepReason, type ObjectInfo, removable } from './objects/model';
import { survey } from './objects/survey';
import { removeObject } from './remove';
import { brief, objectTable, unseenNote } from './render';

export const usage = `interproc gc [options]
  Removes the objects of the library in /dev/shm that no live process uses: each carries the
  library's mark (magic and version), its layout reads, every user its layout records is dead,
  and no live process maps it or holds it open. Never removes a file it cannot identify as the
  library's (plain SharedMemory segments included), a damaged one, one a live process uses, or
  one whose users could not all be checked. Socket files are never removed.
  --dry-run       list what would be removed; remove nothing
  --match GLOB    only names that match ('*', '?'; repeatable), e.g. --match '/myapp-*'
  --json          print JSON: { dryRun, removed: [...], failed: [...], kept: [{ name, kind, reason }] }
  -h, --help      this text`;

export async function gcCommand(argv: string[]): Promise<number> {
  const { values } = parse(
    'gc',
    argv,
    {
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      match: { type: 'string', multiple: true },
    },
    false,
  );
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const dryRun = values['dry-run'] === true;
  const match = globMatcher((values.match as string[] | undefined) ?? []);
  const first = survey(match ? { match } : {});
  const kept = first.objects
    .filter((o) => !removable(o))
    .map((o) => ({ name: o.name, kind: o.kind, reason: keepReason(o) ?? '' }));
  let candidates = first.objects.filter(removable);
  const removed: ObjectInfo[] = [];
  const failed: { name: string; kind: string; reason: string }[] = [];
  if (!dryRun && candidates.length > 0) {
    // Again, just before: a process may have opened one since.
    const again = new Map(survey({ names: candidates.map((o) => o.name) }).objects.map((o) => [o.name, o]));
    const stillStale: ObjectInfo[] = [];
    for (const o of candidates) {
      const now = again.get(o.name);
      if (now === undefined || now.inode !== o.inode) continue; // gone, or another file now
      if (removable(now)) stillStale.push(now);
      else kept.push({ name: o.name, kind: o.kind, reason: keepReason(now) ?? '' });
    }
    candidates = stillStale;
    for (const o of candidates) {
      const r = removeObject(o);
      if (r.removed) removed.push(o);
      else if (r.reason !== 'already gone') failed.push({ name: o.name, kind: o.kind, reason: r.reason });
    }
  }
  const listed = dryRun ? candidates : removed;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ dryRun, removed: listed.map(brief), failed, kept }, null, 1)}\n`);
    return failed.length > 0 ? 1 : 0;
  }
  const paint = painter(wantsColour(process.stdout));
  if (listed.length === 0) process.stdout.write(dryRun ? 'nothing to remove\n' : 'nothing removed\n');
  else {
    process.stdout.write(`${dryRun ? 'would remove' : 'removed'} ${listed.length}:\n`);
    process.stdout.write(objectTable(listed, paint));
  }
  const ours = kept.filter((k) => k.kind !== 'unknown' && k.kind !== 'socket');
  for (const k of ours) process.stdout.write(`kept ${k.name} (${k.kind}): ${k.reason}\n`);
  const others = kept.length - ours.length;
  if (others > 0) process.stdout.write(`kept ${others} other files not identified as the library's\n`);
  for (const f of failed) process.stderr.write(`interproc gc: could not remove ${f.name}: ${f.reason}\n`);
  const unseen = Math.max(0, ...first.objects.map((o) => o.unseen));
  if (unseen > 0) process.stderr.write(unseenNote(unseen));
  return failed.length > 0 ? 1 : 0;
}
