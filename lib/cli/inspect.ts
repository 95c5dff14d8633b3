// `interproc inspect NAME`: one object in detail. A mailbox group: its members (pid, state) and
// each ring's fill; a lock: its holder and whether threads wait; a barrier: its parties; a
// semaphore: its value and holders; a store: its layout and the owner of each member's blocks.
import path from 'node:path';
import type { RingFill } from '../mailbox/segment';
import { parse, segmentName, UsageError } from './args';
import { type Paint, painter, wantsColour } from './format/colour';
import { table } from './format/table';
import { age, bytes, mode } from './format/units';
import type { ObjectInfo, RecordedUser } from './objects/model';
import type { MemberRow } from './objects/read-mailbox';
import type { OwnerRow } from './objects/read-store';
import { survey } from './objects/survey';
import { usersHue } from './render';

export const usage = `interproc inspect [options] NAME
  Shows one object of /dev/shm ('/name' or 'name') in detail, or a Unix socket file (a path with
  a folder, e.g. ./app.sock): a mailbox group's members (pid, state) and each ring's fill; a
  mutex's or rwlock's holder and waiters; a barrier's parties; a semaphore's value and holders; a
  store's layout and owners; who maps it or holds it open.
  --json          print the object as JSON (ls's fields and a kind-specific 'detail')
  -h, --help      this text`;

const stateHue = (s: string) =>
  s === 'alive'
    ? ('green' as const)
    : s === 'dead'
      ? ('red' as const)
      : s === 'free' || s === 'left'
        ? ('dim' as const)
        : undefined;

function sleepName(flag: number): string {
  return flag === 1 ? 'futex' : flag === 2 ? 'eventfd' : '';
}

function mailboxLines(d: Record<string, unknown>, paint: Paint): string[] {
  const slots = (d.slots as MemberRow[] | undefined) ?? [];
  const rings = (d.rings as RingFill[] | undefined) ?? [];
  const out = [`members: ${d.members}, rings of ${bytes(Number(d.ringCapacity))}`];
  out.push(
    ...table(
      [{ title: 'MEMBER', align: 'right' }, { title: 'PID', align: 'right' }, { title: 'STATE' }],
      slots.map((s) => [String(s.id), s.pid === null ? '-' : String(s.pid), { text: s.state, hue: stateHue(s.state) }]),
      paint,
    ).map((l) => `  ${l}`),
  );
  // Every ring between members that hold their slot, and any ring that holds bytes.
  const held = new Set(slots.filter((s) => s.pid !== null).map((s) => s.id));
  const shown = rings.filter((r) => r.bytes > 0 || !r.intact || (held.has(r.from) && held.has(r.to)));
  out.push(`rings: ${shown.length} of ${rings.length} shown (between held slots, or not empty)`);
  if (shown.length > 0)
    out.push(
      ...table(
        [
          { title: 'FROM', align: 'right' },
          { title: 'TO', align: 'right' },
          { title: 'FILL', align: 'right' },
          { title: 'BYTES', align: 'right' },
          { title: 'ASLEEP' },
        ],
        shown.map((r) => {
          const asleep = [
            r.consumerSleep ? `receiver (${sleepName(r.consumerSleep)})` : '',
            r.producerSleep ? `sender (${sleepName(r.producerSleep)})` : '',
          ].filter(Boolean);
          return [
            String(r.from),
            String(r.to),
            r.intact ? `${((100 * r.bytes) / r.capacity).toFixed(1)}%` : { text: 'corrupt', hue: 'red' as const },
            `${r.bytes}/${r.capacity}`,
            asleep.join(', ') || '-',
          ];
        }),
        paint,
      ).map((l) => `  ${l}`),
    );
  return out;
}

function whoLine(u: RecordedUser | undefined, none: string): string {
  if (u === undefined) return none;
  if (u.tid === undefined) return 'died holding it (owner-dead: the next taker is told, and must repair)';
  const proc = u.pid === null ? 'no such thread now' : `process ${u.pid}`;
  return `thread ${u.tid} (${proc}, ${u.alive ? 'alive' : 'dead'})`;
}

function holderTable(users: RecordedUser[], paint: Paint, aux?: (i: number) => string): string[] {
  if (users.length === 0) return ['  none'];
  return table(
    [{ title: 'ROLE' }, { title: 'TID', align: 'right' }, { title: 'PID', align: 'right' }, { title: 'STATE' }],
    users.map((u) => [
      u.role,
      u.tid === undefined ? '-' : String(u.tid),
      u.pid === null ? '-' : String(u.pid),
      {
        text: u.alive ? 'alive' : u.tid === undefined ? 'gone (died, or left)' : 'dead',
        hue: u.alive ? ('green' as const) : ('red' as const),
      },
    ]),
    paint,
  ).map((l, i) => `  ${l}${i > 0 && aux ? aux(i - 1) : ''}`);
}

function kindLines(o: ObjectInfo, paint: Paint): string[] {
  const d = o.detail;
  const yes = (b: unknown) => (b ? 'yes' : 'no');
  switch (o.kind) {
    case 'mailbox-group':
      return mailboxLines(d, paint);
    case 'mutex': {
      const lock = d.lock as { waiters: boolean } | undefined;
      return [
        `holder: ${d.notRecoverable ? 'none: not recoverable (unlocked after an owner death without markConsistent)' : whoLine(o.recorded[0], 'none (free)')}`,
        `consistent: ${yes(d.consistent)}`,
        `waiters: ${lock?.waiters ? 'yes (threads sleep on it; the kernel does not say which)' : 'no'}`,
      ];
    }
    case 'rwlock': {
      const writer = o.recorded.find((u) => u.role === 'writer');
      const readers = o.recorded.filter((u) => u.role === 'reader');
      const w = d.writer as { waiters: boolean } | undefined;
      return [
        `writer: ${d.notRecoverable ? 'none: not recoverable' : whoLine(writer, 'none')}`,
        `consistent: ${yes(d.consistent)}`,
        `waiters: ${w?.waiters ? 'yes' : 'no'}`,
        `readers: ${readers.length}`,
        ...(readers.length ? holderTable(readers, paint) : []),
      ];
    }
    case 'barrier':
      return [
        `parties: ${d.parties}, arrived: ${d.arrived}, generation: ${d.generation}, broken: ${yes(d.broken)}`,
        ...holderTable(o.recorded, paint),
      ];
    case 'semaphore': {
      const lines = [`value: ${d.value}, robust: ${yes(d.robust)}, waiting: ${d.sleepers ?? 0}`];
      if (d.robust) {
        const slots = ((d.holders as { tid: number; ownerDied: boolean; aux: number }[]) ?? []).filter(
          (h) => h.tid !== 0 || h.ownerDied,
        );
        lines.push('holders:', ...holderTable(o.recorded, paint, (i) => `  permits ${slots[i]?.aux ?? '?'}`));
      }
      return lines;
    }
    case 'condition':
      return [`sequence: ${d.sequence}, waiting: ${d.sleepers ?? 0}`];
    case 'store': {
      const owners = (d.owners as OwnerRow[] | undefined) ?? [];
      const lines = [
        `store ${d.store}: ${d.members} members, ${d.size} bytes in ${d.blocks} blocks of ${d.blockSize}, ${d.ownership} ownership`,
      ];
      if (d.note) lines.push(String(d.note));
      lines.push(
        'owners:',
        ...table(
          [{ title: 'MEMBER', align: 'right' }, { title: 'PID', align: 'right' }, { title: 'STATE' }, { title: 'BLOCKS' }],
          owners.map((r) => [
            String(r.member),
            r.pid === null ? '-' : String(r.pid),
            { text: r.state, hue: stateHue(r.state) },
            r.blocks.count === 0
              ? 'none'
              : `${r.blocks.count} (${r.blocks.first}${r.blocks.count > 1 ? `, ${r.blocks.first + r.blocks.stride}, ...` : ''})`,
          ]),
          paint,
        ).map((l) => `  ${l}`),
      );
      return lines;
    }
    case 'group-area':
      return [
        `process group of ${d.size}${d.group ? ` (${d.group})` : ''}: slots of ${bytes(Number(d.smallBytes))}, regions of ${bytes(Number(d.largeBytes))}`,
        'members (from its mailbox group):',
        ...holderTable(o.recorded, paint),
      ];
    case 'unfinished':
      return [
        `creator: ${o.recorded[0]?.pid} (${o.recorded[0]?.alive ? 'alive: still creating it' : 'dead: it never published it'})`,
      ];
    case 'socket':
      return [`bound sockets: ${((d.socketInodes as number[]) ?? []).length}`];
    default:
      return o.summary ? [o.summary] : [];
  }
}

function text(o: ObjectInfo, paint: Paint): string {
  const lines = [
    `${paint('bold', o.name)}  ${o.kind}${o.ours ? '' : " (not identified as the library's)"}`,
    `size ${o.kind === 'socket' ? '-' : `${bytes(o.size)} (${o.size} bytes)`}, mode ${mode(o.mode)}, uid ${o.uid}, gid ${o.gid}, age ${age(o.ageMs)}`,
    `users: ${paint(usersHue[o.users], o.users)}${o.pids.length ? ` (${o.pids.join(', ')})` : ''}`,
    `mapped or held open by: ${o.mappedBy.length ? o.mappedBy.join(', ') : 'no process'}${o.unseen ? `; ${o.unseen} processes could not be checked` : ''}`,
  ];
  if (o.damaged !== null) lines.push(paint('red', `damaged: ${o.damaged}`));
  else lines.push(...kindLines(o, paint));
  return `${lines.join('\n')}\n`;
}

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('inspect', argv, { json: { type: 'boolean', default: false } }, true);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(`inspect: give one NAME (got ${positionals.length})\nSee 'interproc inspect --help'.`);
  const arg = positionals[0] as string;
  // A path with a folder names a socket file; anything else is a segment name.
  const isPath = arg.startsWith('.') || arg.indexOf('/', 1) > 0;
  const wanted = isPath ? path.resolve(arg) : segmentName('inspect', arg);
  const s = isPath ? survey({ names: [], socketDirs: [path.dirname(wanted)] }) : survey({ names: [wanted] });
  const o = s.objects.find((x) => x.name === wanted);
  if (o === undefined) {
    process.stderr.write(`interproc inspect: ${wanted}: ${isPath ? 'no socket file there' : 'no such object in /dev/shm'}\n`);
    return 1;
  }
  if (values.json) process.stdout.write(`${JSON.stringify(o, null, 1)}\n`);
  else process.stdout.write(text(o, painter(wantsColour(process.stdout))));
  return 0;
}
