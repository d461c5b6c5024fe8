// JSON values as the emulator handles them, and JSON text written the way Quay's Python writes it.
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Python's truth value of a decoded JSON value (`if value:`). */
export const pythonTruthy = (value: Json | undefined): boolean => {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isJsonObject(value)) return Object.keys(value).length > 0;
  return true;
};

/** Python's float repr: the shortest round-trip digits, like JS, but with a two-digit signed exponent. */
export const pythonNumber = (n: number): string => {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  const text = String(n);
  const exp = /e([+-])(\d+)$/.exec(text);
  if (exp === null) return text.includes('.') ? text : `${text}.0`;
  const mantissa = text.slice(0, exp.index);
  return `${mantissa}e${exp[1] ?? '+'}${(exp[2] ?? '').padStart(2, '0')}`;
};

const escapeJsonString = (s: string): string => {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const ch = s[i] ?? '';
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    // ensure_ascii=True: everything outside printable ASCII as \uXXXX (surrogates stay pairs, as in Python).
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
};

/**
 * `json.dumps` text. Flask-RESTful writes successes with Python's default separators (", " and ": ") and a trailing
 * newline; Flask's `jsonify` (error shape B) is compact and sorts keys.
 */
export const pythonJson = (value: Json, style: 'restful' | 'jsonify' | 'dumps'): string => {
  const [comma, colon] = style === 'jsonify' ? [',', ':'] : [', ', ': '];
  const write = (v: Json): string => {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return pythonNumber(v);
    if (typeof v === 'string') return escapeJsonString(v);
    if (Array.isArray(v)) return `[${(v as readonly Json[]).map(write).join(comma)}]`;
    const entries = Object.entries(v as JsonObject);
    if (style === 'jsonify') entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${escapeJsonString(k)}${colon}${write(x)}`).join(comma)}}`;
  };
  return style === 'dumps' ? write(value) : `${write(value)}\n`;
};
