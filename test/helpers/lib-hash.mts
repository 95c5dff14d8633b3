// One hash over lib/'s TypeScript sources (paths and contents), for test/helpers/build-dist.mts and
// test/internal/dist.test.ts.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** lib/'s .ts files, relative to lib/, sorted. */
export function libSources(root: string): string[] {
  const lib = path.join(root, 'lib');
  return readdirSync(lib, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

export function libHash(root: string): string {
  const h = createHash('sha256');
  for (const f of libSources(root))
    h.update(`${f}\0`)
      .update(readFileSync(path.join(root, 'lib', f)))
      .update('\0');
  return h.digest('hex');
}
