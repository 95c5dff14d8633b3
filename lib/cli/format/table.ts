// Aligned columns for the terminal: each column as wide as its widest cell, cells padded by their
// visible width (colour codes take no room), numbers right-aligned.
import type { Hue, Paint } from './colour';

export interface Cell {
  text: string;
  hue?: Hue;
}

export interface ColumnSpec {
  title: string;
  align?: 'left' | 'right';
}

/** The lines of a table with a header row; the last column is not padded (no trailing blanks). */
export function table(columns: readonly ColumnSpec[], rows: readonly (readonly (Cell | string)[])[], paint: Paint): string[] {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'string' ? { text: c } : c)));
  const widths = columns.map((col, i) => Math.max(col.title.length, ...cells.map((r) => (r[i]?.text ?? '').length)));
  const line = (row: readonly Cell[]) =>
    row
      .map((c, i) => {
        const last = i === columns.length - 1;
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - c.text.length));
        const text = paint(c.hue, c.text);
        if (columns[i]?.align === 'right') return pad + text;
        return last ? text : text + pad;
      })
      .join('  ');
  return [line(columns.map((c) => ({ text: c.title, hue: 'bold' as const }))), ...cells.map(line)];
}
