// The shared pieces of the terminal output of ls, gc and rm: one row per object, coloured by what
// its users say.
import type { Hue, Paint } from './format/colour';
import { type Cell, type ColumnSpec, table } from './format/table';
import { age, bytes, mode } from './format/units';
import type { ObjectInfo, Users } from './objects/model';

export const usersHue: Record<Users, Hue> = { alive: 'green', dead: 'red', none: 'dim', unknown: 'yellow' };

const columns: ColumnSpec[] = [
  { title: 'NAME' },
  { title: 'KIND' },
  { title: 'SIZE', align: 'right' },
  { title: 'MODE' },
  { title: 'UID', align: 'right' },
  { title: 'AGE', align: 'right' },
  { title: 'USERS' },
  { title: 'PIDS' },
  { title: 'NOTE' },
];

function pidList(pids: number[]): string {
  if (pids.length === 0) return '-';
  return pids.length <= 4 ? pids.join(',') : `${pids.slice(0, 3).join(',')},+${pids.length - 3}`;
}

export function objectRow(o: ObjectInfo): Cell[] {
  return [
    { text: o.name },
    { text: o.kind, hue: o.ours ? undefined : 'dim' },
    { text: o.kind === 'socket' ? '-' : bytes(o.size) },
    { text: mode(o.mode) },
    { text: String(o.uid) },
    { text: age(o.ageMs) },
    { text: o.users, hue: usersHue[o.users] },
    { text: pidList(o.pids) },
    { text: o.damaged !== null ? `damaged: ${o.damaged}` : o.summary, hue: o.damaged !== null ? 'red' : undefined },
  ];
}

export function objectTable(objects: readonly ObjectInfo[], paint: Paint): string {
  return `${table(columns, objects.map(objectRow), paint).join('\n')}\n`;
}

/** ls --json and gc --json: an object without its kind-specific detail (that is inspect's). */
export function brief(o: ObjectInfo): Omit<ObjectInfo, 'detail'> {
  const { detail: _detail, ...rest } = o;
  return rest;
}

export function unseenNote(unseen: number): string {
  return `note: ${unseen} processes could not be inspected (another user's, or not dumpable); objects they could open show users 'unknown'. Run as root to see every process.\n`;
}
