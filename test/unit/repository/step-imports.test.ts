// No step imports another: work that more than one step does lives once, in shared/ (shared/sync/ for the Quay and
// cluster work), so that there is one implementation of each piece and a step's folder holds only what it alone
// does. And shared/ imports no step. Only functions/index.ts and functions/bundle.ts, which choose the step a
// process runs, reach into the step folders.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const functions = join(root, 'functions');

const tsFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });

/** Every module specifier of `text`: static imports and re-exports, dynamic import(). */
export const specifiers = (text: string): string[] =>
  [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');

/** The step folder (functions/<step>/) a path is in, if any. */
const stepOf = (path: string): string | undefined => {
  const rel = relative(functions, path);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : undefined;
};

/** `file: specifier` for each import of `file` (whose text is `text`) into another step's folder. */
export const crossings = (file: string, text: string): string[] => {
  const from = stepOf(file);
  const inShared = !relative(join(root, 'shared'), file).startsWith('..');
  return specifiers(text)
    .filter((s) => s.startsWith('.'))
    .filter((s) => {
      const to = stepOf(resolve(dirname(file), s));
      return to !== undefined && (inShared || (from !== undefined && to !== from));
    })
    .map((s) => `${relative(root, file)}: ${s}`);
};

describe('no step imports another', () => {
  const stepFiles = tsFiles(functions).filter((f) => stepOf(f) !== undefined);
  const sharedFiles = tsFiles(join(root, 'shared'));

  it('finds what it checks: the steps and shared/', () => {
    for (const step of ['namespace', 'service-account', 'image-stream', 'resync', 'build', 'build-webhook'])
      expect(
        stepFiles.some((f) => stepOf(f) === step),
        step,
      ).to.equal(true);
    expect(sharedFiles.some((f) => f.endsWith(join('sync', 'robot.ts')))).to.equal(true);
  });

  it('detects a step importing another, and shared/ importing a step (the check can fail)', () => {
    const sa = join(functions, 'service-account', 'handle.ts');
    expect(crossings(sa, "import { x } from '../namespace/plan.js';")).to.have.length(1);
    expect(crossings(sa, "export { x } from '../resync/robots.js';")).to.have.length(1);
    expect(crossings(sa, "const m = await import('../image-stream/handle.js');")).to.have.length(1);
    expect(
      crossings(join(root, 'shared', 'sync', 'robot.ts'), "import '../../functions/resync/plan.js';"),
    ).to.have.length(1);
    // What is allowed: a step's own files, shared/, and the entry point choosing a step.
    expect(
      crossings(sa, "import { y } from './plan.js';\nimport { z } from '../../shared/sync/robot.js';"),
    ).to.deep.equal([]);
    expect(crossings(join(functions, 'index.ts'), "import('./namespace/handle.js')")).to.deep.equal([]);
  });

  it('has no step importing another step', () => {
    expect(stepFiles.flatMap((f) => crossings(f, readFileSync(f, 'utf8')))).to.deep.equal([]);
  });

  it('has nothing in shared/ importing a step', () => {
    expect(sharedFiles.flatMap((f) => crossings(f, readFileSync(f, 'utf8')))).to.deep.equal([]);
  });
});
