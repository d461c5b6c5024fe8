// The command line of `quay-token`, parsed into what to do (pure: no file, terminal or network is touched here).
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import type { TokenError } from './errors.js';

export const USAGE = `Usage: npm run quay-token -- --quay <url> --org <organization> [--user <name>] [options]
       node dist/tools/quay-token/main.js …   (the same, in the image: knative/quay-token/)

Gets quay-bridge's Quay OAuth token without Quay's UI: signs in as the UI does, creates (or reuses, by name) an OAuth
application in the organization, has Quay issue a token for it with the scopes quay-bridge needs, checks it, and
writes it into the QuayIntegration's credentials Secret (or prints it).

  --quay <url>              Quay's URL, e.g. https://quay.example.com (required)
  --org <organization>      the organization that holds the OAuth application (required unless --initialize)
  --user <name>             the Quay user to sign in as; an admin of --org (default quayadmin)
  --password-file <file>    read the password from this file (one trailing newline is ignored)
  --password-env <NAME>     read the password from the environment variable NAME
                            (with neither, the password is asked for on the terminal, without echo;
                            it is never taken from the command line)
  --app-name <name>         the OAuth application's name (default quay-bridge)
  --create-org              create --org if it does not exist (the user becomes its admin)
  --initialize              on a brand-new Quay (FEATURE_USER_INITIALIZE): create --user as the first user and
                            use the token Quay returns for it (all scopes; it EXPIRES after about 2.5 hours)
  --email <address>         the first user's e-mail, with --initialize (needed when Quay sends mail)
  --print                   print the token on stdout instead of writing a Secret
  --secret <ns>/<name>      the Secret to write (default: the QuayIntegration's spec.credentialsSecret)
  --key <key>               the key in that Secret (default: the QuayIntegration's, else token)
  --kubeconfig <file>       the cluster to write to (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --ca-file <file>          PEM certificates to trust for Quay, besides the system's
  --insecure                do not verify Quay's TLS certificate (a test Quay only)
  -h, --help                this text`;

export type PasswordSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'terminal' };

export interface Options {
  readonly quay: string;
  readonly org: string | undefined;
  readonly user: string;
  readonly password: PasswordSource;
  readonly appName: string;
  readonly createOrg: boolean;
  readonly initialize: boolean;
  readonly email: string | undefined;
  readonly output:
    | { readonly kind: 'print' }
    | {
        readonly kind: 'secret';
        readonly secret: { readonly namespace: string; readonly name: string } | undefined;
        readonly key: string | undefined;
        readonly kubeconfig: string | undefined;
      };
  readonly caFile: string | undefined;
  readonly insecure: boolean;
}

export type Parsed = { readonly kind: 'help' } | { readonly kind: 'run'; readonly options: Options };

const usage = (message: string): TokenError => ({ _tag: 'Usage', message });

/** scheme://host[:port], nothing else: Quay's paths are absolute. */
const quayUrl = (raw: string): E.Either<TokenError, string> => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return E.left(usage(`--quay "${raw}" is not a URL (e.g. https://quay.example.com)`));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return E.left(usage(`--quay "${raw}" must be an http or https URL`));
  if (
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== ''
  )
    return E.left(usage(`--quay "${raw}" must be scheme://host[:port], with no path, query or credentials`));
  return E.right(url.origin);
};

export const parseOptions = (argv: readonly string[]): E.Either<TokenError, Parsed> => {
  // A password on the command line would be in the shell's history and in every `ps`: refused by name.
  if (argv.some((a) => a === '--password' || a.startsWith('--password=')))
    return E.left(
      usage(
        'the password is never taken from the command line: use --password-file, --password-env, or the prompt',
      ),
    );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quay: { type: 'string' },
        org: { type: 'string' },
        user: { type: 'string' },
        'password-file': { type: 'string' },
        'password-env': { type: 'string' },
        'app-name': { type: 'string' },
        'create-org': { type: 'boolean' },
        initialize: { type: 'boolean' },
        email: { type: 'string' },
        print: { type: 'boolean' },
        secret: { type: 'string' },
        key: { type: 'string' },
        kubeconfig: { type: 'string' },
        'ca-file': { type: 'string' },
        insecure: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return E.left(usage(e instanceof Error ? e.message : String(e)));
  }
  const str = (k: string): string | undefined => {
    const v = values[k];
    return typeof v === 'string' ? v : undefined;
  };
  const flag = (k: string): boolean => values[k] === true;
  if (flag('help')) return E.right({ kind: 'help' });

  const rawQuay = str('quay');
  if (rawQuay === undefined) return E.left(usage('--quay <url> is required'));
  const quay = quayUrl(rawQuay);
  if (E.isLeft(quay)) return quay;
  const initialize = flag('initialize');
  const org = str('org');
  if (org === undefined && !initialize) return E.left(usage('--org <organization> is required'));
  if (initialize && flag('create-org')) return E.left(usage('--create-org does not go with --initialize'));
  if (str('email') !== undefined && !initialize) return E.left(usage('--email goes with --initialize only'));

  const file = str('password-file');
  const env = str('password-env');
  if (file !== undefined && env !== undefined)
    return E.left(usage('give the password one way: --password-file or --password-env'));
  const password: PasswordSource =
    file !== undefined
      ? { kind: 'file', path: file }
      : env !== undefined
        ? { kind: 'env', name: env }
        : { kind: 'terminal' };

  const print = flag('print');
  const secretArg = str('secret');
  if (print && (secretArg !== undefined || str('key') !== undefined || str('kubeconfig') !== undefined))
    return E.left(usage('--print writes no Secret: it does not go with --secret, --key or --kubeconfig'));
  let secret: { namespace: string; name: string } | undefined;
  if (secretArg !== undefined) {
    const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(secretArg);
    if (m === null) return E.left(usage(`--secret "${secretArg}" must be <namespace>/<name>`));
    secret = { namespace: m[1] ?? '', name: m[3] ?? '' };
  }
  if (flag('insecure') && str('ca-file') !== undefined)
    return E.left(usage('--insecure checks no certificate: it does not go with --ca-file'));

  return E.right({
    kind: 'run',
    options: {
      quay: quay.right,
      org,
      user: str('user') ?? 'quayadmin',
      password,
      appName: str('app-name') ?? 'quay-bridge',
      createOrg: flag('create-org'),
      initialize,
      email: str('email'),
      output: print
        ? { kind: 'print' }
        : { kind: 'secret', secret, key: str('key'), kubeconfig: str('kubeconfig') },
      caFile: str('ca-file'),
      insecure: flag('insecure'),
    },
  });
};
