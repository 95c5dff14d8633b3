// Every repository path a doc cites must exist: backquoted paths, bare paths in prose and code blocks, and
// Markdown links (relative ones resolved from the doc, with their #anchors checked against its headings).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const PREFIXES = ['lib', 'native', 'test', 'bench', 'docs', 'scripts', 'examples'];

/** The docs to check, relative to the root: docs/**\/*.md, README.md, CONTRIBUTING.md, CHANGELOG.md. */
function docFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.md')) out.push(rel);
    }
  };
  if (fs.existsSync(path.join(root, 'docs'))) walk('docs');
  for (const f of ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md']) if (fs.existsSync(path.join(root, f))) out.push(f);
  return out.sort();
}

/** `a/{b,c}/d.{hpp,cpp}` -> every combination. */
function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(',').flatMap((alt) => expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}

/**
 * Whether a repository path exists. `*` matches within one name, `**` any number of folders; a
 * pattern must match at least one file.
 */
function exists(root: string, p: string): boolean {
  if (!p.includes('*')) return fs.existsSync(path.join(root, p));
  const fixed = p.slice(0, p.indexOf('*'));
  const base = fixed.includes('/') ? fixed.slice(0, fixed.lastIndexOf('/')) : '.';
  if (!fs.existsSync(path.join(root, base))) return false;
  const escapeRe = (t: string) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(
    `^${p
      .split('**/')
      .map((part) => part.split('*').map(escapeRe).join('[^/]*'))
      .join('(?:[^/]+/)*')}$`,
  );
  const names = fs.readdirSync(path.join(root, base), { recursive: true }) as string[];
  return names.some((n) => re.test(base === '.' ? n : `${base}/${n}`));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/**
 * Every citation in `text` (a doc at `file`, relative to `root`) that does not resolve, as
 * "file: what (why)". Repository paths are cited as `lib/...` etc., backquoted or not; placeholders
 * (`<part>`) and paths inside a longer path or URL are not citations.
 */
function brokenCitations(root: string, file: string, text: string): string[] {
  const broken: string[] = [];
  const seen = new Set<string>();
  const report = (what: string, why: string) => {
    const line = `${file}: ${what} (${why})`;
    if (!seen.has(line)) broken.push(line);
    seen.add(line);
  };

  // Repository paths: a prefix at a word start (not inside another path or a URL), then path characters.
  const pathRe = new RegExp(`(?<![\\w./@:~-])((?:${PREFIXES.join('|')})/[\\w./{},*<>@+-]*)`, 'g');
  for (const m of text.matchAll(pathRe)) {
    let p = m[1]!.replace(/[.,:;)]+$/, '');
    if (p.includes('<')) continue; // a placeholder such as test/<part>/
    p = p.replace(/\/$/, '');
    for (const q of expandBraces(p)) if (!exists(root, q)) report(q, 'no such file or directory');
  }

  // Markdown links: [text](target) and [text]: target
  const linkRe = /\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\[[^\]]+\]:\s*(\S+)/gm;
  for (const m of text.matchAll(linkRe)) {
    const target = (m[1] ?? m[2])!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [rawPath, anchor] = target.split('#') as [string, string | undefined];
    if (rawPath === '') {
      if (anchor !== undefined && !anchorsOf(text).has(anchor)) report(target, `no heading #${anchor} in ${file}`);
      continue;
    }
    const resolved = path.normalize(path.join(path.dirname(file), decodeURIComponent(rawPath)));
    if (resolved.startsWith('..') || path.isAbsolute(resolved)) {
      report(target, 'points outside the repository');
      continue;
    }
    if (!fs.existsSync(path.join(root, resolved))) {
      report(target, 'no such file or directory');
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md')) {
      const body = fs.readFileSync(path.join(root, resolved), 'utf8');
      if (!anchorsOf(body).has(anchor)) report(target, `no heading #${anchor} in ${resolved}`);
    }
  }
  return broken;
}

describe('docs cite only what exists', () => {
  const files = docFiles(ROOT);

  it('finds the docs', () => {
    expect(files).toContain('README.md');
    expect(files).toContain(path.join('docs', 'architecture.md'));
  });

  it('every cited path and every relative link resolves', () => {
    const broken = files.flatMap((f) => brokenCitations(ROOT, f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(broken).toEqual([]);
  });
});

describe('the checker itself', () => {
  const check = (text: string) => brokenCitations(ROOT, path.join('docs', 'made-up.md'), text);

  it('fails on made-up paths, backquoted, bare, braced or linked', () => {
    expect(check('see `lib/shm/no-such-file.ts`')).toEqual([
      'docs/made-up.md: lib/shm/no-such-file.ts (no such file or directory)',
    ]);
    expect(check('in native/core/nowhere/x.cpp, as said')).toHaveLength(1);
    expect(check('`native/core/shm/futex.{hpp,cpp,zzz}`')).toEqual([
      'docs/made-up.md: native/core/shm/futex.zzz (no such file or directory)',
    ]);
    expect(check('[the design](design/nothing.md)')).toEqual(['docs/made-up.md: design/nothing.md (no such file or directory)']);
    expect(check('[up](../../outside.md)')).toHaveLength(1);
    expect(check('[a section](architecture.md#no-such-heading)')).toHaveLength(1);
    expect(check('[here](#nowhere)\n# Somewhere')).toHaveLength(1);
    expect(check('`scripts/*.nope`')).toHaveLength(1);
    expect(check('`test/**/*.nope.ts`')).toHaveLength(1);
  });

  it('passes on real paths, placeholders, URLs and anchors that exist', () => {
    expect(
      check('`lib/shm/futex.ts`, native/core/shm/futex.{hpp,cpp}, `test/<part>/`, `scripts/*.cjs`, `test/**/*.test.ts`, lib/.'),
    ).toEqual([]);
    expect(check('[arch](architecture.md#the-layers) [gh](https://github.com/a/lib/x.ts) [here](#top)\n# Top')).toEqual([]);
  });
});
