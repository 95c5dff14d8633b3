// The programming-complexity row: lines of code of the same counter service in each model, counted
// from the files shipped in examples/counter/ (blank lines and comment-only lines not counted).
import fs from 'node:fs';
import path from 'node:path';

export const EXAMPLES = path.join(__dirname, '..', '..', '..', 'examples', 'counter');

export function linesOfCode(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
  } catch {
    return null;
  }
  let inBlock = false;
  let n = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (inBlock) {
      if (line.includes('*/')) inBlock = false;
      continue;
    }
    if (line === '' || line.startsWith('//')) continue;
    if (line.startsWith('/*')) {
      inBlock = !line.includes('*/');
      continue;
    }
    n++;
  }
  return n;
}
