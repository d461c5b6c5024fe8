// The steps' code builds no ICU collator: the first localeCompare (or Intl.Collator) of a process costs about 3 MB
// of resident memory, which showed as the resync step's idle RSS over 70 MB (docs/design.md#packaging). Order
// strings with byCodeUnits (shared/names.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const tsFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });

/** The lines of `text` that would build a collator. */
export const collatorUses = (text: string): string[] =>
  text.split('\n').filter((l) => /\.localeCompare\(|\bIntl\.Collator\b/.test(l));

describe('no ICU collator in the steps', () => {
  const files = [...tsFiles(join(root, 'functions')), ...tsFiles(join(root, 'shared'))];

  it('finds what it checks, and detects a use (the check can fail)', () => {
    expect(files.some((f) => f.endsWith(join('resync', 'plan.ts')))).to.equal(true);
    expect(collatorUses('xs.sort((a, b) => a.localeCompare(b));')).to.have.length(1);
    expect(collatorUses('xs.sort(byCodeUnits);')).to.deep.equal([]);
  });

  it('calls neither localeCompare nor Intl.Collator in functions/ or shared/', () => {
    const found = files.flatMap((f) =>
      collatorUses(readFileSync(f, 'utf8')).map((l) => `${relative(root, f)}: ${l.trim()}`),
    );
    expect(found).to.deep.equal([]);
  });
});
