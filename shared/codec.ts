// Helpers shared by every io-ts codec of the project.
import * as t from 'io-ts';

/** One line per failed path, e.g. `spec.quayHostname: expected string, got 42`; values are never echoed whole. */
export const formatDecodeError = (errors: t.Errors): string => {
  const lines = errors.slice(0, 5).map((e) => {
    const path = e.context
      .map((c) => c.key)
      .filter((k) => k !== '' && !/^\d+$/.test(k))
      .join('.');
    const expected = e.context[e.context.length - 1]?.type.name ?? 'value';
    return `${path === '' ? '<root>' : path}: expected ${expected}, got ${describe(e.value)}`;
  });
  const more = errors.length > 5 ? ` (and ${errors.length - 5} more)` : '';
  return lines.join('; ') + more;
};

const describe = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
};
