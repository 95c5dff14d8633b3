// A process group's shared segment (`<group>-shared`, lib/group/shared-area.ts): its header, and
// the group's mailbox segment (`<group>`) whose members are its users.
import { areaShape } from '../../group/shared-area';
import type { Reading } from './model';

const SUFFIX = '-shared';

export function readGroupArea(name: string, head: Uint8Array, size: number): Reading {
  const shape = areaShape(head, size);
  if (shape === null) return { kind: 'group-area', damaged: 'a header this build does not read', recorded: [] };
  const group = name.endsWith(SUFFIX) ? name.slice(0, -SUFFIX.length) : null;
  return {
    kind: 'group-area',
    recorded: [],
    related: group && group.length > 1 ? [group] : [],
    summary: `group of ${shape.size}${group ? ` (${group})` : ''}`,
    detail: { ...shape, group },
  };
}
