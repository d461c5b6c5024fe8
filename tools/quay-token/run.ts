// `quay-token` from start to end: the Secret to write is found first (nothing is asked of Quay that cannot be
// stored), then the password, then Quay (initialize, or sign in → organization → application → token), the token
// is checked as the bridge checks it, and written or printed. Progress goes to stderr; stdout carries the token
// only with --print. Returns the exit status.
import * as E from 'fp-ts/lib/Either.js';
import type { KubeClient } from '../../shared/kube/client.js';
import { describe, exitCodeOf, type TokenError } from './errors.js';
import { parseOptions, USAGE, type Options } from './options.js';
import { readPassword, type Terminal } from './password.js';
import {
  checkToken,
  ensureApplication,
  ensureOrganization,
  grantToken,
  initialize,
  signIn,
  signOut,
} from './quay.js';
import { BRIDGE_SCOPES } from './scopes.js';
import { resolveTarget, writeToken, type SecretTarget } from './secret.js';
import { createQuayWeb, type QuayWeb } from './web.js';

export interface Io {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly terminal: Terminal;
  /** The cluster, from --kubeconfig or the usual places (lazily: --print needs none). */
  readonly kube: (kubeconfig: string | undefined) => Promise<KubeClient>;
}

/** How long Quay's /api/v1/user/initialize token lives (create_user_access_token's default, observed 9000 s). */
const INITIALIZE_TOKEN_SECONDS = 9000;

type Step<A> = Promise<E.Either<TokenError, A>>;

const target = async (
  options: Options,
  io: Io,
): Step<{ client: KubeClient; target: SecretTarget } | undefined> => {
  if (options.output.kind === 'print') return E.right(undefined);
  let client: KubeClient;
  try {
    client = await io.kube(options.output.kubeconfig);
  } catch (e) {
    return E.left({ _tag: 'KubeConfigMissing', message: e instanceof Error ? e.message : String(e) });
  }
  const resolved = await resolveTarget(client, options.output.secret, options.output.key);
  return E.isLeft(resolved) ? resolved : E.right({ client, target: resolved.right });
};

/** Signs in, makes sure of the organization and the application, and has Quay grant the token. */
const tokenBySignin = async (options: Options, web: QuayWeb, password: string, io: Io): Step<string> => {
  const org = options.org ?? '';
  const session = await signIn(web, options.user, password);
  if (E.isLeft(session)) return session;
  io.stderr(`signed in to ${web.url} as ${options.user}\n`);
  try {
    const orgState = await ensureOrganization(session.right, options.user, org, options.createOrg);
    if (E.isLeft(orgState)) return orgState;
    io.stderr(
      `organization ${org}: ${orgState.right === 'created' ? 'created, ' : ''}${options.user} is an admin\n`,
    );
    const app = await ensureApplication(session.right, options.user, org, options.appName);
    if (E.isLeft(app)) return app;
    io.stderr(
      `OAuth application ${options.appName} in ${org}: ${app.right.created ? 'created' : 'reused'} (client_id ${app.right.app.clientId})\n`,
    );
    const token = await grantToken(session.right, options.user, org, app.right.app);
    if (E.isRight(token)) io.stderr(`token issued with the scopes ${BRIDGE_SCOPES.join(', ')}\n`);
    return token;
  } finally {
    await signOut(session.right);
  }
};

const tokenByInitialize = async (options: Options, web: QuayWeb, password: string, io: Io): Step<string> => {
  const made = await initialize(web, { username: options.user, password, email: options.email });
  if (E.isLeft(made)) return made;
  const expires = new Date(Date.now() + INITIALIZE_TOKEN_SECONDS * 1000).toISOString();
  io.stderr(
    `created the first user ${options.user} on ${web.url}.\n` +
      `WARNING: this token is the one POST /api/v1/user/initialize returns: it has every scope (super:user too) and ` +
      `EXPIRES after about 2.5 hours (around ${expires}). Replace it before then with a token that lasts:\n` +
      `  npm run quay-token -- --quay ${web.url} --org <organization> --create-org --user ${options.user} …\n`,
  );
  return E.right(made.right.token);
};

const runWith = async (options: Options, io: Io): Step<void> => {
  const where = await target(options, io);
  if (E.isLeft(where)) return where;
  const integration = where.right?.target.integration;
  if (integration !== undefined) {
    const named = (() => {
      try {
        return new URL(
          /^[a-z]+:\/\//i.test(integration.quayHostname)
            ? integration.quayHostname
            : `https://${integration.quayHostname}`,
        ).origin;
      } catch {
        return integration.quayHostname;
      }
    })();
    if (named !== options.quay)
      io.stderr(
        `note: the QuayIntegration ${integration.name} names ${named}; the token comes from ${options.quay}\n`,
      );
  }
  const web = createQuayWeb(options.quay, { insecure: options.insecure, caFile: options.caFile });
  if (E.isLeft(web)) return web;
  if (options.insecure) io.stderr(`warning: --insecure: Quay's TLS certificate is not checked\n`);
  const { protocol, hostname } = new URL(options.quay);
  if (protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(hostname))
    io.stderr(
      `warning: ${options.quay} is plain http: the password and the token cross the network unencrypted\n`,
    );
  const password = await readPassword(
    options.password,
    `Password of ${options.user} at ${options.quay}: `,
    io.env,
    io.terminal,
  );
  if (E.isLeft(password)) return password;

  const token = options.initialize
    ? await tokenByInitialize(options, web.right, password.right, io)
    : await tokenBySignin(options, web.right, password.right, io);
  if (E.isLeft(token)) return token;
  const checked = await checkToken(web.right, options.user, token.right);
  if (E.isLeft(checked)) return checked;
  io.stderr(`Quay accepts the token (GET /api/v1/user/ answers ${checked.right})\n`);

  if (where.right === undefined) {
    io.stdout(`${token.right}\n`);
    return E.right(undefined);
  }
  const { client, target: secret } = where.right;
  const written = await writeToken(client, secret, token.right);
  if (E.isLeft(written)) return written;
  io.stderr(`Secret ${secret.namespace}/${secret.name}, key ${secret.key}: ${written.right}\n`);
  return E.right(undefined);
};

export const runQuayToken = async (argv: readonly string[], io: Io): Promise<number> => {
  const parsed = parseOptions(argv);
  let result: E.Either<TokenError, void>;
  if (E.isLeft(parsed)) result = parsed;
  else if (parsed.right.kind === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  } else result = await runWith(parsed.right.options, io);
  if (E.isRight(result)) return 0;
  io.stderr(`quay-token: ${describe(result.left)}\n`);
  return exitCodeOf(result.left);
};
