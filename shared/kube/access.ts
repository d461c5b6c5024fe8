// Where the API server is and how to authenticate to it, read without @kubernetes/client-node: loading client-node
// costs a step process about 800 modules, most of a second and some 45 MB (its generated API comes with its
// KubeConfig), and a pod needs none of it. The common cases are read here: in the cluster (the pod's ServiceAccount),
// and one kubeconfig file in JSON (which is also YAML) with a token, a token file, a client certificate or a basic
// login. Anything else — YAML, several files, exec plugins, auth providers, impersonation — is left to client-node's
// KubeConfig, imported only then, so every kubeconfig that worked before still works.
import { existsSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { formatDecodeError } from '../codec.js';

/**
 * What createKubeClient needs of a kubeconfig. client-node's KubeConfig has this shape (tests pass theirs), and so
 * has what this module reads.
 */
export interface KubeAccess {
  getCurrentCluster(): { readonly server: string } | null;
  /** Sets the TLS material and the credentials (headers, `auth`) of one request; tokens are re-read each time. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** Where the kubelet mounts a pod's ServiceAccount token, its CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface Material {
  readonly server: string;
  readonly ca?: () => Buffer;
  readonly cert?: () => Buffer;
  readonly key?: () => Buffer;
  readonly token?: () => string;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly insecure: boolean;
  readonly servername?: string;
}

const access = (m: Material): KubeAccess => ({
  getCurrentCluster: () => ({ server: m.server }),
  applyToHTTPSOptions: (opts) => {
    if (m.ca !== undefined) opts.ca = m.ca();
    if (m.cert !== undefined) opts.cert = m.cert();
    if (m.key !== undefined) opts.key = m.key();
    if (m.insecure) opts.rejectUnauthorized = false;
    if (m.servername !== undefined) opts.servername = m.servername;
    if (m.token !== undefined) {
      // Node's type also allows a raw header list; nothing here sets one.
      const headers = (opts.headers ?? {}) as http.OutgoingHttpHeaders;
      opts.headers = { ...headers, Authorization: `Bearer ${m.token()}` };
    }
    if (m.basic !== undefined) opts.auth = `${m.basic.username}:${m.basic.password}`;
    return Promise.resolve();
  },
});

const file = (path: string) => (): Buffer => readFileSync(path);

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The pod's own ServiceAccount, as client-go and client-node read it: KUBERNETES_SERVICE_HOST and _PORT, the CA and
 * the token in `dir`. The token is read again at every call: the kubelet rotates projected tokens.
 */
export const inClusterAccess = (env: Env, dir: string = SERVICE_ACCOUNT_DIR): KubeAccess => {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host === undefined || host === '' || port === undefined || port === '')
    throw new Error('in the cluster, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set');
  // client-node's choice, kept so that nothing changes for a cluster that works today.
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  return access({
    server: `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    ca: file(join(dir, 'ca.crt')),
    token: () => readFileSync(join(dir, 'token'), 'utf8').trim(),
    insecure: false,
  });
};

const Cluster = t.intersection([
  t.type({ server: t.string }),
  t.partial({
    'certificate-authority': t.string,
    'certificate-authority-data': t.string,
    'insecure-skip-tls-verify': t.boolean,
    'tls-server-name': t.string,
  }),
]);

const User = t.partial({
  token: t.string,
  tokenFile: t.string,
  'client-certificate': t.string,
  'client-certificate-data': t.string,
  'client-key': t.string,
  'client-key-data': t.string,
  username: t.string,
  password: t.string,
});

/** The kubeconfig fields read here (non-exact: other fields are checked by name below). */
const Kubeconfig = t.type({
  clusters: t.array(t.type({ name: t.string, cluster: Cluster })),
  users: t.union([t.array(t.type({ name: t.string, user: t.union([User, t.null]) })), t.null, t.undefined]),
  contexts: t.array(
    t.type({
      name: t.string,
      context: t.intersection([t.type({ cluster: t.string }), t.partial({ user: t.string })]),
    }),
  ),
  'current-context': t.string,
});

/** User fields that need client-node (plugins, providers, impersonation). */
const DELEGATED_USER_FIELDS = ['exec', 'auth-provider', 'as', 'as-uid', 'as-groups', 'as-user-extra'];

/**
 * One kubeconfig file, or `undefined` when it needs client-node (not JSON, or a user this module does not handle).
 * Relative paths in it are relative to the file, as kubectl reads them. A kubeconfig that is JSON but wrong throws.
 */
export const kubeconfigAccess = (path: string): KubeAccess | undefined => {
  const text = readFileSync(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const config = pipe(
    Kubeconfig.decode(json),
    E.getOrElseW((errors) => {
      throw new Error(`kubeconfig ${path}: ${formatDecodeError(errors)}`);
    }),
  );
  const current = config['current-context'];
  const context = config.contexts.find((c) => c.name === current)?.context;
  if (context === undefined) throw new Error(`kubeconfig ${path}: no context named "${current}"`);
  const cluster = config.clusters.find((c) => c.name === context.cluster)?.cluster;
  if (cluster === undefined) throw new Error(`kubeconfig ${path}: no cluster named "${context.cluster}"`);
  const named = context.user === undefined ? undefined : config.users?.find((u) => u.name === context.user);
  if (context.user !== undefined && context.user !== '' && named === undefined)
    throw new Error(`kubeconfig ${path}: no user named "${context.user}"`);
  const user = named?.user ?? {};
  // io-ts keeps the fields it does not declare, so the decoded user still carries them.
  if (DELEGATED_USER_FIELDS.some((f) => f in user)) return undefined;
  const relative = (p: string): string => (isAbsolute(p) ? p : join(dirname(path), p));
  const material = (data: string | undefined, filePath: string | undefined): (() => Buffer) | undefined =>
    data !== undefined
      ? () => Buffer.from(data, 'base64')
      : filePath !== undefined
        ? file(relative(filePath))
        : undefined;
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(user['client-certificate-data'], user['client-certificate']);
  const key = material(user['client-key-data'], user['client-key']);
  const { token: fixed, tokenFile } = user;
  const token =
    fixed !== undefined && fixed !== ''
      ? () => fixed
      : tokenFile !== undefined && tokenFile !== ''
        ? () => readFileSync(relative(tokenFile), 'utf8').trim()
        : undefined;
  return access({
    server: cluster.server.replace(/\/$/, ''),
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(token === undefined ? {} : { token }),
    ...(user.username === undefined
      ? {}
      : { basic: { username: user.username, password: user.password ?? '' } }),
    insecure: cluster['insecure-skip-tls-verify'] === true,
    ...(cluster['tls-server-name'] === undefined ? {} : { servername: cluster['tls-server-name'] }),
  });
};

/** client-node's reading of kubeconfig files (its loadFromDefault with these files), for what is left to it. */
const viaClientNode = async (files: readonly string[]): Promise<KubeAccess> => {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  files.forEach((f, i) => {
    if (i === 0) kc.loadFromFile(f);
    else {
      const more = new KubeConfig();
      more.loadFromFile(f);
      kc.mergeConfig(more);
    }
  });
  return kc;
};

/**
 * The access the process was given, in client-go's order: the files in KUBECONFIG, else ~/.kube/config, else the
 * pod's ServiceAccount; with none of them the start fails (client-node would try http://localhost:8080). `dir` and
 * `home` are for tests.
 */
export const loadKubeAccess = async (
  env: Env,
  o: { readonly dir?: string; readonly home?: string } = {},
): Promise<KubeAccess> => {
  const dir = o.dir ?? SERVICE_ACCOUNT_DIR;
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  const home = join(o.home ?? homedir(), '.kube', 'config');
  const files = listed.length > 0 ? listed : existsSync(home) ? [home] : [];
  if (files.length === 0) {
    if (existsSync(join(dir, 'token'))) return inClusterAccess(env, dir);
    throw new Error(`no kubeconfig (KUBECONFIG, ${home}) and no ServiceAccount token in ${dir}`);
  }
  const only = files.length === 1 ? files[0] : undefined;
  return (only === undefined ? undefined : kubeconfigAccess(only)) ?? viaClientNode(files);
};
