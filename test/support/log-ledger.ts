// Everything the steps wrote to a log during this mocha run (in-process sinks and child processes' stdout and
// stderr), and every token any Quay emulator of these tests ever issued, so that one test can prove that no token
// reached a log line. Module state on purpose: mocha loads the integration files into one process.

const lines: string[] = [];
const tokens = new Set<string>();

export const recordLogLine = (source: string, line: string): void => {
  if (line.trim() !== '') lines.push(`${source}\t${line}`);
};

/** Feeds a child's output stream, line by line, into the ledger. */
export const recordStream = (source: string, stream: NodeJS.ReadableStream | null): void => {
  if (stream === null) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) recordLogLine(source, p);
  });
  stream.on('end', () => {
    recordLogLine(source, rest);
  });
};

export const recordToken = (token: string): void => {
  if (token !== '') tokens.add(token);
};

export const loggedLines = (): readonly string[] => lines;
export const issuedTokens = (): ReadonlySet<string> => tokens;

/** The lines that contain a token, with the token masked in the report itself. */
export const linesWithTokens = (
  where: readonly string[] = lines,
  secrets: ReadonlySet<string> = tokens,
): string[] =>
  where.flatMap((line) => {
    const found = [...secrets].filter((s) => line.includes(s));
    return found.length === 0
      ? []
      : [found.reduce((l, s) => l.split(s).join(`<token ${s.slice(0, 4)}…>`), line).slice(0, 400)];
  });
