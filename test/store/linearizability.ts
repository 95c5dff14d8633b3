// A linearizability checker for histories of one register per cell (load / store / compareExchange),
// written for the store's tests. The algorithm is Wing & Gong's search, with Lowe's memoisation of
// (set of operations linearized, register value) as Porcupine and Knossos use it, applied to each
// cell separately (linearizability is compositional: a history is linearizable iff every cell's is).
//
// The history is a list of call and return events in time order. The search walks it: at a call
// whose operation is legal on the current value, it linearizes that operation (lifts its call and
// return out of the list) and goes on from the start; at a return, the operation it belongs to
// could not be placed before operations that were still pending, so it backtracks. It ends with an
// empty list (linearizable) or with nothing left to undo (not).

export interface Operation {
  cell: number;
  op: 'load' | 'store' | 'cas';
  /** store: the value; cas: the expected value. */
  a: number;
  /** cas: the replacement. */
  b: number;
  /** What the operation returned: load the value; store the value stored; cas the old value. */
  result: number;
  /** Invocation and response times (any clock shared by every process). */
  call: number;
  ret: number;
}

/** The register's step: the new value if `o` may run on `value` and return what it did, else undefined. */
function step(value: number, o: Operation): number | undefined {
  switch (o.op) {
    case 'load':
      return o.result === value ? value : undefined;
    case 'store':
      return o.result === o.a ? o.a : undefined;
    case 'cas':
      if (o.result !== value) return undefined;
      return value === o.a ? o.b : value;
  }
}

interface Entry {
  id: number;
  call: boolean;
  time: number;
  op: Operation;
  match: Entry | undefined; // a call's return
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** Whether one cell's history (starting from `initial`) is linearizable. */
export function linearizableCell(ops: readonly Operation[], initial = 0): boolean {
  // Events in time order; at equal times calls come first (the operations then overlap: the lenient reading).
  const events: Entry[] = [];
  ops.forEach((op, id) => {
    const ret: Entry = { id, call: false, time: op.ret, op, match: undefined, prev: undefined, next: undefined };
    const call: Entry = { id, call: true, time: op.call, op, match: ret, prev: undefined, next: undefined };
    events.push(call, ret);
  });
  events.sort((x, y) => x.time - y.time || (x.call === y.call ? 0 : x.call ? -1 : 1));
  const head: Entry = {
    id: -1,
    call: false,
    time: 0,
    op: ops[0] as Operation,
    match: undefined,
    prev: undefined,
    next: undefined,
  };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  const lift = (e: Entry) => {
    for (const x of [e, e.match as Entry]) {
      (x.prev as Entry).next = x.next;
      if (x.next) x.next.prev = x.prev;
    }
  };
  const unlift = (e: Entry) => {
    for (const x of [e.match as Entry, e]) {
      (x.prev as Entry).next = x;
      if (x.next) x.next.prev = x;
    }
  };
  const linearized = new Uint8Array(ops.length);
  const seen = new Set<string>();
  const stack: { entry: Entry; value: number }[] = [];
  let value = initial;
  let entry = head.next;
  while (head.next !== undefined) {
    if (entry === undefined) return false; // cannot happen with a well-formed history
    if (entry.call) {
      const next = step(value, entry.op);
      let progressed = false;
      if (next !== undefined) {
        linearized[entry.id] = 1;
        const key = `${next}:${Buffer.from(linearized).toString('base64')}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry, value });
          value = next;
          lift(entry);
          entry = head.next;
          progressed = true;
        } else linearized[entry.id] = 0;
      }
      if (!progressed) entry = entry.next;
    } else {
      const top = stack.pop();
      if (top === undefined) return false;
      linearized[top.entry.id] = 0;
      value = top.value;
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return true;
}

/** Whether a whole history (any cells) is linearizable: each cell checked on its own. */
export function linearizable(ops: readonly Operation[], initial = 0): { ok: boolean; cell?: number } {
  const byCell = new Map<number, Operation[]>();
  for (const o of ops) {
    const list = byCell.get(o.cell) ?? [];
    list.push(o);
    byCell.set(o.cell, list);
  }
  for (const [cell, list] of byCell) if (!linearizableCell(list, initial)) return { ok: false, cell };
  return { ok: true };
}
