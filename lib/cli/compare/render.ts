// The three forms of the measured table: aligned text for the terminal, Markdown, and JSON.
import type { Column } from './column';
import type { Cell, Verdict } from './rows';
import { axisTitle, type Axis } from './seed';

export interface Table {
  env: Record<string, string | number | boolean>;
  columns: { id: string; title: string; model: string; reference: string; unavailable?: string }[];
  rows: { id: string; axis: Axis; group: string; label: string; cells: Record<string, Cell> }[];
  notes: string[];
}

const mark: Record<Verdict, string> = {
  agrees: '✓ agrees',
  disagrees: '✗ disagrees',
  'no difference': '✗ no difference measured',
  undecided: '~ undecided (spreads overlap)',
  'n/a': '',
};

const cellLines = (c: Cell): string => `${c.text}\n${c.word}${mark[c.verdict] ? ` ${mark[c.verdict]}` : ''}`;

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

export function terminal(t: Table, columns: readonly Column[], width = 32): string {
  const labelW = 30;
  const lines: string[] = [];
  const sep = `+${'-'.repeat(labelW + 2)}${columns.map(() => `+${'-'.repeat(width + 2)}`).join('')}+`;
  const emit = (cols: string[][]) => {
    const h = Math.max(...cols.map((c) => c.length));
    for (let i = 0; i < h; i++)
      lines.push(`| ${cols.map((c, k) => (c[i] ?? '').padEnd(k === 0 ? labelW : width)).join(' | ')} |`);
  };
  lines.push(sep);
  emit([wrap('', labelW), ...columns.map((c) => wrap(c.title, width))]);
  let group = '';
  for (const r of t.rows) {
    if (r.group !== group) {
      group = r.group;
      lines.push(sep);
      lines.push(`| ${group.toUpperCase().padEnd(labelW + columns.length * (width + 3))} |`);
    }
    lines.push(sep.replace(/-/g, '·'));
    emit([wrap(r.label, labelW), ...columns.map((c) => wrap(cellLines(r.cells[c.id]), width))]);
  }
  lines.push(sep);
  return `${lines.join('\n')}\n`;
}

const mdEscape = (s: string) => s.replace(/\|/g, '\\|');

export function markdown(t: Table, columns: readonly Column[]): string {
  let md = `| seed row | measured | ${columns.map((c) => mdEscape(c.title)).join(' | ')} |\n`;
  md += `|---|---|${columns.map(() => '---').join('|')}|\n`;
  for (const r of t.rows) {
    const cells = columns.map((c) => {
      const cell = r.cells[c.id];
      return `${mdEscape(cell.text)}<br>**${cell.word}**${mark[cell.verdict] ? ` ${mark[cell.verdict]}` : ''}`;
    });
    md += `| ${axisTitle[r.axis]} | ${mdEscape(r.label)} | ${cells.join(' | ')} |\n`;
  }
  return md;
}

export function envLines(t: Table): string[] {
  return Object.entries(t.env).map(([k, v]) => `${k}: ${v}`);
}
