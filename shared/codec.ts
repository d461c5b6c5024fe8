// Helpers shared by every io-ts codec of the project.
import type * as t from 'io-ts';

/**
 * One clause per failing field, e.g. `spec.quayHostname: expected string, got 42`. The expected type is the one
 * declared for the field (not the member of an intersection or union that happened to fail), each field is named
 * once, and a value is never echoed whole (it may be a token).
 */
export const formatDecodeError = (errors: t.Errors): string => {
  const seen = new Map<string, string>();
  for (const e of errors) {
    const keyed = e.context.filter((c, i) => i > 0 && c.key !== '' && !/^\d+$/.test(c.key));
    const last = keyed[keyed.length - 1];
    const path = keyed.map((c) => c.key).join('.');
    const expected = (last ?? e.context[0])?.type.name ?? 'value';
    const field = path === '' ? '<root>' : path;
    if (!seen.has(field)) seen.set(field, `${field}: expected ${expected}, got ${describe(e.value)}`);
  }
  const clauses = [...seen.values()];
  const more = clauses.length > 5 ? ` (and ${clauses.length - 5} more)` : '';
  return clauses.slice(0, 5).join('; ') + more;
};

const describe = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
};
