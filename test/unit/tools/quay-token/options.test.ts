// The command line and the password sources of quay-token: what it accepts, what it refuses and why, and the
// terminal prompt (a fake TTY: nothing typed is echoed, Backspace edits, Ctrl-C gives up).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { parseOptions, type Options } from '../../../../tools/quay-token/options.js';
import { readPassword, type Terminal } from '../../../../tools/quay-token/password.js';

const options = (argv: readonly string[]): Options => {
  const parsed = parseOptions(argv);
  if (E.isLeft(parsed))
    throw new Error(parsed.left._tag === 'Usage' ? parsed.left.message : parsed.left._tag);
  if (parsed.right.kind !== 'run') throw new Error('help');
  return parsed.right.options;
};
const refusal = (argv: readonly string[]): string => {
  const parsed = parseOptions(argv);
  if (E.isRight(parsed) || parsed.left._tag !== 'Usage') throw new Error(`accepted: ${argv.join(' ')}`);
  return parsed.left.message;
};

const BASE = ['--quay', 'https://quay.example.com', '--org', 'platform'];

describe('quay-token options', () => {
  it('defaults: user quayadmin, the terminal, application quay-bridge, the QuayIntegration Secret', () => {
    expect(options(BASE)).to.deep.equal({
      quay: 'https://quay.example.com',
      org: 'platform',
      user: 'quayadmin',
      password: { kind: 'terminal' },
      appName: 'quay-bridge',
      createOrg: false,
      initialize: false,
      email: undefined,
      output: { kind: 'secret', secret: undefined, key: undefined, kubeconfig: undefined },
      caFile: undefined,
      insecure: false,
    });
  });

  it('reads --secret, --password-env, --print and normalises --quay to its origin', () => {
    const o = options([
      '--quay',
      'https://quay.example.com:8443/',
      '--org',
      'p',
      '--secret',
      'ns/name',
      '--key',
      'k',
    ]);
    expect(o.quay).to.equal('https://quay.example.com:8443');
    expect(o.output).to.deep.equal({
      kind: 'secret',
      secret: { namespace: 'ns', name: 'name' },
      key: 'k',
      kubeconfig: undefined,
    });
    expect(options([...BASE, '--password-env', 'P', '--print'])).to.include({ appName: 'quay-bridge' });
    expect(options([...BASE, '--password-env', 'P', '--print']).output).to.deep.equal({ kind: 'print' });
    expect(options(['--quay', 'http://q', '--initialize']).org).to.equal(undefined);
  });

  it('refuses, with the reason: a password argument, two password sources, missing or odd values', () => {
    expect(refusal([...BASE, '--password', 'x'])).to.include('never taken from the command line');
    expect(refusal([...BASE, '--password=x'])).to.include('never taken from the command line');
    expect(refusal([...BASE, '--password-file', 'f', '--password-env', 'P'])).to.include('one way');
    expect(refusal(['--org', 'p'])).to.include('--quay <url> is required');
    expect(refusal(['--quay', 'https://q'])).to.include('--org <organization> is required');
    expect(refusal(['--quay', 'https://q/quay', '--org', 'p'])).to.include('no path');
    expect(refusal(['--quay', 'quay.example.com', '--org', 'p'])).to.include('is not a URL');
    expect(refusal([...BASE, '--secret', 'no-slash'])).to.include('<namespace>/<name>');
    expect(refusal([...BASE, '--print', '--secret', 'a/b'])).to.include('--print writes no Secret');
    expect(refusal([...BASE, '--insecure', '--ca-file', 'x'])).to.include('does not go with --ca-file');
    expect(refusal([...BASE, '--initialize', '--create-org'])).to.include(
      '--create-org does not go with --initialize',
    );
    expect(refusal([...BASE, '--email', 'a@b.c'])).to.include('--email goes with --initialize only');
    expect(refusal([...BASE, '--bogus'])).to.include("Unknown option '--bogus'");
  });
});

/** A terminal whose keystrokes the test types. */
const fakeTerminal = (): Terminal & { typed: (s: string) => void; shown: () => string; raw: boolean[] } => {
  const input = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode: (raw: boolean) => void };
  const raw: boolean[] = [];
  input.isTTY = true;
  input.setRawMode = (r: boolean) => {
    raw.push(r);
  };
  const output = new PassThrough();
  let shown = '';
  output.on('data', (c: Buffer) => (shown += c.toString()));
  return { input, output, typed: (s) => input.write(s), shown: () => shown, raw };
};

describe('quay-token password sources', () => {
  it('the terminal: asks, echoes nothing, lets Backspace edit, and leaves raw mode', async () => {
    const t = fakeTerminal();
    const reading = readPassword({ kind: 'terminal' }, 'Password: ', {}, t);
    t.typed('s3crx');
    t.typed('\u007fet\r');
    expect(await reading).to.deep.equal(E.right('s3cret'));
    expect(t.shown()).to.equal('Password: \n');
    expect(t.raw).to.deep.equal([true, false]);
  });

  it('the terminal: Ctrl-C gives up, and without a TTY it says how else to give the password', async () => {
    const t = fakeTerminal();
    const reading = readPassword({ kind: 'terminal' }, 'Password: ', {}, t);
    t.typed('abc\u0003');
    const cancelled = await reading;
    expect(E.isLeft(cancelled) && cancelled.left._tag).to.equal('PasswordUnavailable');
    const notTty = await readPassword(
      { kind: 'terminal' },
      'Password: ',
      {},
      { input: new PassThrough(), output: new PassThrough() },
    );
    expect(E.isLeft(notTty) && notTty.left._tag === 'PasswordUnavailable' && notTty.left.message).to.include(
      '--password-file',
    );
  });

  it('a file (one trailing newline dropped, nothing else) and an environment variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quay-token-unit-'));
    try {
      const file = join(dir, 'p');
      writeFileSync(file, ' pass word \r\n');
      const t = fakeTerminal();
      expect(await readPassword({ kind: 'file', path: file }, '', {}, t)).to.deep.equal(
        E.right(' pass word '),
      );
      writeFileSync(file, '\n');
      const empty = await readPassword({ kind: 'file', path: file }, '', {}, t);
      expect(E.isLeft(empty) && empty.left._tag === 'PasswordUnavailable' && empty.left.message).to.include(
        'is empty',
      );
      const missing = await readPassword({ kind: 'file', path: join(dir, 'none') }, '', {}, t);
      expect(
        E.isLeft(missing) && missing.left._tag === 'PasswordUnavailable' && missing.left.message,
      ).to.include('ENOENT');
      expect(await readPassword({ kind: 'env', name: 'P' }, '', { P: 'x y' }, t)).to.deep.equal(
        E.right('x y'),
      );
      const unset = await readPassword({ kind: 'env', name: 'P' }, '', {}, t);
      expect(E.isLeft(unset)).to.equal(true);
      expect(t.shown()).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
