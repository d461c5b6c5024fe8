// Python's repr() and pprint.pformat(width=72) of JSON values. Quay puts jsonschema's error text in `detail`, and
// that text embeds the failing schema and instance as Python's pprint writes them; reproducing it exactly keeps
// the emulator's 400s byte-for-byte comparable with a real Quay's (see the conformance test).
import { isJsonObject, pythonNumber, type Json } from './json.js';

/** Length in code points, as Python's len() counts. */
const pyLen = (s: string): number => Array.from(s).length;

const nonPrintable = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

const escapeCodePoint = (cp: number): string => {
  if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
};

export const pythonStrRepr = (s: string): string => {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch !== ' ' && nonPrintable.test(ch)) out += escapeCodePoint(cp);
    else out += ch;
  }
  return out + quote;
};

const byKey = ([a]: readonly [string, Json], [b]: readonly [string, Json]): number =>
  a < b ? -1 : a > b ? 1 : 0;

/** repr(); pprint's variant sorts dict keys. */
export const pythonRepr = (value: Json, sortDicts = false): string => {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') return pythonStrRepr(value);
  if (Array.isArray(value)) {
    return `[${(value as readonly Json[]).map((v) => pythonRepr(v, sortDicts)).join(', ')}]`;
  }
  const entries = Object.entries(value as Readonly<Record<string, Json>>);
  if (sortDicts) entries.sort(byKey);
  return `{${entries.map(([k, v]) => `${pythonStrRepr(k)}: ${pythonRepr(v, sortDicts)}`).join(', ')}}`;
};

// The line boundaries of str.splitlines: \n \r \v \f, the file/group/record separators, NEL, LS and PS.
const LINE_BREAKS = new Set([0x0a, 0x0d, 0x0b, 0x0c, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029]);

/** str.splitlines(keepends=True) */
const splitLinesKeepEnds = (s: string): string[] => {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (!LINE_BREAKS.has(s.charCodeAt(i))) continue;
    const end = s[i] === '\r' && s[i + 1] === '\n' ? i + 2 : i + 1;
    lines.push(s.slice(start, end));
    start = end;
    i = end - 1;
  }
  if (start < s.length) lines.push(s.slice(start));
  return lines;
};

/** pprint.PrettyPrinter(width).pformat, following CPython 3.11's _format/_pprint_dict/_pprint_list/_pprint_str. */
export const pythonPformat = (value: Json, width = 72): string => {
  const out: string[] = [];

  const format = (v: Json, indent: number, allowance: number, level: number): void => {
    const rep = pythonRepr(v, true);
    if (pyLen(rep) > width - indent - allowance) {
      if (typeof v === 'string') {
        formatStr(v, indent, allowance, level + 1);
        return;
      }
      if (Array.isArray(v)) {
        formatList(v as readonly Json[], indent, allowance, level + 1);
        return;
      }
      if (isJsonObject(v)) {
        formatDict(v, indent, allowance, level + 1);
        return;
      }
    }
    out.push(rep);
  };

  const formatDict = (
    v: Readonly<Record<string, Json>>,
    indent: number,
    allowance: number,
    level: number,
  ): void => {
    out.push('{');
    const items = Object.entries(v).sort(byKey);
    const inner = indent + 1;
    items.forEach(([key, entry], i) => {
      const last = i === items.length - 1;
      const rep = pythonStrRepr(key);
      out.push(rep, ': ');
      format(entry, inner + pyLen(rep) + 2, last ? allowance + 1 : 1, level);
      if (!last) out.push(`,\n${' '.repeat(inner)}`);
    });
    out.push('}');
  };

  const formatList = (v: readonly Json[], indent: number, allowance: number, level: number): void => {
    out.push('[');
    const inner = indent + 1;
    v.forEach((entry, i) => {
      const last = i === v.length - 1;
      if (i > 0) out.push(`,\n${' '.repeat(inner)}`);
      format(entry, inner, last ? allowance + 1 : 1, level);
    });
    out.push(']');
  };

  const formatStr = (s: string, indentIn: number, allowanceIn: number, level: number): void => {
    if (s.length === 0) {
      out.push(pythonStrRepr(s));
      return;
    }
    const indent = level === 1 ? indentIn + 1 : indentIn;
    const allowance = level === 1 ? allowanceIn + 1 : allowanceIn;
    const chunks: string[] = [];
    const lines = splitLinesKeepEnds(s);
    const maxWidth = width - indent;
    let maxWidth1 = maxWidth;
    let rep = '';
    lines.forEach((line, i) => {
      const lastLine = i === lines.length - 1;
      rep = pythonStrRepr(line);
      if (lastLine) maxWidth1 -= allowance;
      if (pyLen(rep) <= maxWidth1) {
        chunks.push(rep);
        return;
      }
      const parts = line.match(/\S*\s*/gu) ?? [];
      parts.pop();
      let maxWidth2 = maxWidth;
      let current = '';
      parts.forEach((part, j) => {
        const candidate = current + part;
        if (j === parts.length - 1 && lastLine) maxWidth2 -= allowance;
        if (pyLen(pythonStrRepr(candidate)) > maxWidth2) {
          if (current !== '') chunks.push(pythonStrRepr(current));
          current = part;
        } else {
          current = candidate;
        }
      });
      if (current !== '') chunks.push(pythonStrRepr(current));
    });
    if (chunks.length === 1) {
      out.push(rep);
      return;
    }
    if (level === 1) out.push('(');
    chunks.forEach((chunk, i) => {
      if (i > 0) out.push(`\n${' '.repeat(indent)}`);
      out.push(chunk);
    });
    if (level === 1) out.push(')');
  };

  format(value, 0, 0, 0);
  return out.join('');
};
