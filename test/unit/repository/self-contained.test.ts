// The repository stands on its own: a clone with nothing beside it builds, tests and reads. Every relative path
// written in a tracked file resolves inside the repository, and comments cite docs/ rather than section numbers or
// bug codes of documents that are not here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SKIP = new Set(['node_modules', '.git', 'dist', 'fixtures']);
const TEXT = /\.(ts|js|mjs|cjs|json|ya?ml|md|sh|txt|mod)$|^(Procfile|run|\.[a-z]+ignore|\.npmrc)$/;

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (SKIP.has(name)) return [];
    if (statSync(path).isDirectory()) return files(path);
    return TEXT.test(name) && name !== 'package-lock.json' ? [path] : [];
  });

const all = files(root);
const outsideDocs = all.filter((f) => !relative(root, f).startsWith(`docs${sep}`));

/** Relative paths written in `text` (`../x`, `../../x/y`) that resolve above `root` from `dir`. */
export const escapingPaths = (text: string, dir: string, top: string): string[] =>
  [...text.matchAll(/(?:\.\.\/)+[\w./-]*/g)]
    .map((m) => m[0])
    .filter((p) => relative(top, resolve(dir, p)).startsWith('..'));

describe('the repository stands on its own', () => {
  it('finds what it checks: the walk reads this file and the docs', () => {
    expect(all).to.include(fileURLToPath(import.meta.url));
    expect(all.some((f) => f.endsWith(join('docs', 'qbo-compatibility.md')))).to.equal(true);
  });

  it('detects an escaping path (the check can fail)', () => {
    expect(escapingPaths("x = '../../shared/design.md'", join(root, 'test'), root)).to.deep.equal([
      '../../shared/design.md',
    ]);
    expect(escapingPaths("import '../../shared/names.js'", join(root, 'test', 'unit'), root)).to.deep.equal(
      [],
    );
  });

  it('has no relative path that leaves the repository', () => {
    const found = all.flatMap((f) =>
      escapingPaths(readFileSync(f, 'utf8'), dirname(f), root).map((p) => `${relative(root, f)}: ${p}`),
    );
    expect(found).to.deep.equal([]);
  });

  it('joins no path above the repository root', () => {
    const found = all.filter((f) => /repoRoot,\s*'\.\.'/.test(readFileSync(f, 'utf8')));
    expect(found.map((f) => relative(root, f))).to.deep.equal([]);
  });

  it('cites docs/ anchors, not section signs or bare QBO bug codes, outside docs/', () => {
    const found = outsideDocs.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => [line, i + 1] as const)
        .filter(([line]) => /\u00a7|\bB(?:[1-9]|1[0-2])\b/.test(line))
        .map(([line, n]) => `${relative(root, f)}:${String(n)}: ${line.trim()}`),
    );
    expect(found).to.deep.equal([]);
  });

  it('every docs/ anchor that code cites exists', () => {
    const anchorsOf = (doc: string): Set<string> =>
      new Set(
        [...readFileSync(join(root, 'docs', doc), 'utf8').matchAll(/<a id="([^"]+)"><\/a>/g)].map(
          (m) => m[1] ?? '',
        ),
      );
    const docs = new Map<string, Set<string>>();
    const missing = outsideDocs.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/docs\/([\w-]+\.md)#([\w-]+)/g)].flatMap((m) => {
        const [, doc = '', anchor = ''] = m;
        if (!docs.has(doc)) docs.set(doc, anchorsOf(doc));
        return docs.get(doc)?.has(anchor) === true ? [] : [`${relative(root, f)}: docs/${doc}#${anchor}`];
      }),
    );
    expect(missing).to.deep.equal([]);
  });
});
