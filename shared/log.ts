// Structured JSON logs: one line per event handled (see runtime/handler.ts), plus the odd warning. Values pass
// through a replacer that masks anything token-shaped, as a second line of defence behind the Token class.

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly info: (msg: string, fields?: LogFields) => void;
  readonly warn: (msg: string, fields?: LogFields) => void;
  readonly error: (msg: string, fields?: LogFields) => void;
}

export interface LogEnv {
  readonly log: Logger;
}

const SECRET_KEYS = /^(token|password|auth|authorization|\.?dockerconfigjson)$/i;

const redact = (key: string, value: unknown): unknown =>
  key !== '' && SECRET_KEYS.test(key) && typeof value === 'string' ? '[redacted]' : value;

export const formatLine = (level: string, msg: string, fields: LogFields | undefined, now: Date): string =>
  JSON.stringify({ level, time: now.toISOString(), msg, ...fields }, redact);

export const jsonLogger = (write: (line: string) => void, now: () => Date = () => new Date()): Logger => ({
  info: (msg, fields) => {
    write(formatLine('info', msg, fields, now()));
  },
  warn: (msg, fields) => {
    write(formatLine('warn', msg, fields, now()));
  },
  error: (msg, fields) => {
    write(formatLine('error', msg, fields, now()));
  },
});

export const stdoutLogger = (): Logger =>
  jsonLogger((line) => {
    process.stdout.write(line + '\n');
  });

/** Collects lines, for tests. */
export const memoryLogger = (): Logger & { readonly lines: Record<string, unknown>[] } => {
  const lines: Record<string, unknown>[] = [];
  const push =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      lines.push(JSON.parse(formatLine(level, msg, fields, new Date(0))) as Record<string, unknown>);
    };
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
};
