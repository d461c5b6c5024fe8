// Where the password comes from: a file, an environment variable, or the terminal without echo. Never argv, and
// it goes nowhere but the sign-in's request body (and HTTP never logs it here).
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { TokenError } from './errors.js';
import type { PasswordSource } from './options.js';

/** What the prompt needs of a terminal: stdin in raw mode, and somewhere to write the question (stderr). */
export interface Terminal {
  readonly input: NodeJS.ReadableStream & {
    readonly isTTY?: boolean;
    setRawMode?: (raw: boolean) => unknown;
  };
  readonly output: NodeJS.WritableStream;
}

const unavailable = (message: string): TokenError => ({ _tag: 'PasswordUnavailable', message });

/** Characters typed until Enter; Backspace edits, Ctrl-C and Ctrl-D give up. Nothing is echoed. */
export const promptPassword = (prompt: string, terminal: Terminal): Promise<E.Either<TokenError, string>> => {
  const { input, output } = terminal;
  if (input.isTTY !== true || input.setRawMode === undefined)
    return Promise.resolve(
      E.left(
        unavailable(
          'no terminal to ask the password on (stdin is not a TTY): use --password-file <file> or --password-env <NAME>',
        ),
      ),
    );
  const setRawMode = input.setRawMode.bind(input);
  output.write(prompt);
  setRawMode(true);
  input.resume();
  return new Promise((resolve) => {
    let typed = '';
    const finish = (result: E.Either<TokenError, string>): void => {
      input.removeListener('data', onData);
      setRawMode(false);
      input.pause();
      output.write('\n');
      resolve(result);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') {
          finish(typed === '' ? E.left(unavailable('no password was typed')) : E.right(typed));
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish(E.left(unavailable('the password prompt was cancelled')));
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.on('data', onData);
  });
};

export const readPassword = async (
  source: PasswordSource,
  prompt: string,
  env: Readonly<Record<string, string | undefined>>,
  terminal: Terminal,
): Promise<E.Either<TokenError, string>> => {
  switch (source.kind) {
    case 'file': {
      let text: string;
      try {
        text = readFileSync(source.path, 'utf8');
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        return E.left(
          unavailable(
            `cannot read --password-file ${source.path}: ${typeof code === 'string' ? code : 'unreadable'}`,
          ),
        );
      }
      const password = text.replace(/\r?\n$/, '');
      return password === ''
        ? E.left(unavailable(`--password-file ${source.path} is empty`))
        : E.right(password);
    }
    case 'env': {
      const value = env[source.name];
      return value === undefined || value === ''
        ? E.left(unavailable(`the environment variable ${source.name} (--password-env) is not set or empty`))
        : E.right(value);
    }
    case 'terminal':
      return promptPassword(prompt, terminal);
  }
};
