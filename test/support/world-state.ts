// The state of the world a scenario leaves behind, normalised so that two runs of the same scenario compare equal:
// run-specific names (namespaces carry a run id) and the emulator's address are replaced by placeholders, and robot
// tokens, which differ from run to run, are replaced by whether the Secret agrees with Quay (its auth decodes to
// `<robot>:<the token Quay holds now>`).
import type { KubeRest } from '../event-path/kube-rest.js';
import type { QuayEmulator } from '../quay-emulator/index.js';
import { CLUSTER_ID } from './world.js';

export interface RegistryAuth {
  /** The robot the auth names, normalised. */
  readonly user: string;
  /** auth (and password, if any) carry the token Quay holds now for that robot. */
  readonly consistent: boolean;
  /** Other fields of the auths entry, normalised. */
  readonly other: Readonly<Record<string, unknown>>;
}

export interface SecretState {
  readonly type: string;
  readonly labels: Readonly<Record<string, string>>;
  /** auths by normalised registry host. */
  readonly auths: Readonly<Record<string, RegistryAuth>>;
  /** Keys of data other than .dockerconfigjson, with their decoded values. */
  readonly otherData: Readonly<Record<string, string>>;
}

export interface NamespaceState {
  readonly phase: string;
  readonly finalizers: readonly string[];
  readonly secrets: Readonly<Record<string, SecretState>>;
  /** Per ServiceAccount, the robot Secrets it links (secrets / imagePullSecrets). */
  readonly links: Readonly<
    Record<string, { readonly secrets: string[]; readonly imagePullSecrets: string[] }>
  >;
}

export interface OrganizationState {
  readonly robots: readonly string[];
  /** Default permissions: role(s) per delegate (robots by name); two roles for one delegate show as `read,write`. */
  readonly prototypes: Readonly<Record<string, string>>;
  readonly repositories: Readonly<
    Record<string, { readonly visibility: string; readonly permissions: Readonly<Record<string, string>> }>
  >;
}

export interface WorldState {
  readonly organizations: Readonly<Record<string, OrganizationState>>;
  readonly namespaces: Readonly<Record<string, NamespaceState | 'absent'>>;
}

export interface Normaliser {
  readonly runId: string;
  readonly registryHost: string;
}

const normalise = (n: Normaliser, s: string): string =>
  s.split(n.runId).join('RUN').split(n.registryHost).join('QUAY');

const sorted = <A>(xs: readonly A[]): A[] => [...xs].sort();

const sortedRecord = <V>(entries: readonly (readonly [string, V])[]): Record<string, V> =>
  Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

interface K8sSecret {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly type?: string;
  readonly data?: Record<string, string>;
}

interface K8sServiceAccount {
  readonly metadata: { readonly name: string };
  readonly secrets?: { readonly name?: string }[];
  readonly imagePullSecrets?: { readonly name?: string }[];
}

const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

const isOurSecretName = (name: string): boolean => name.endsWith(`-quay-${CLUSTER_ID}`);

const secretState = (n: Normaliser, s: K8sSecret, tokens: ReadonlyMap<string, string>): SecretState => {
  const data = s.data ?? {};
  const auths: [string, RegistryAuth][] = [];
  const raw = data['.dockerconfigjson'];
  if (raw !== undefined) {
    const parsed = JSON.parse(b64(raw)) as { auths?: Record<string, Record<string, unknown>> };
    for (const [host, entry] of Object.entries(parsed.auths ?? {})) {
      const auth = typeof entry.auth === 'string' ? b64(entry.auth) : '';
      const colon = auth.indexOf(':');
      const user = colon < 0 ? auth : auth.slice(0, colon);
      const token = colon < 0 ? '' : auth.slice(colon + 1);
      const current = tokens.get(user);
      const password = entry.password;
      const consistent =
        current !== undefined && token === current && (password === undefined || password === current);
      const other = Object.fromEntries(
        Object.entries(entry)
          .filter(([k]) => k !== 'auth' && k !== 'password')
          .map(([k, v]) => [k, typeof v === 'string' ? normalise(n, v) : v]),
      );
      auths.push([normalise(n, host), { user: normalise(n, user), consistent, other }]);
    }
  }
  return {
    type: s.type ?? '',
    labels: sortedRecord(
      Object.entries(s.metadata.labels ?? {}).filter(
        ([k]) => k.startsWith('app.kubernetes.io/') || k.includes('quay'),
      ),
    ),
    auths: sortedRecord(auths),
    otherData: sortedRecord(
      Object.entries(data)
        .filter(([k]) => k !== '.dockerconfigjson')
        .map(([k, v]) => [k, normalise(n, b64(v))] as const),
    ),
  };
};

const get = async <A>(rest: KubeRest, path: string): Promise<A | undefined> => {
  const a = await rest.request('GET', path);
  if (a.status === 404) return undefined;
  if (a.status !== 200) throw new Error(`GET ${path}: HTTP ${a.status} ${a.body.slice(0, 200)}`);
  return a.json as A;
};

const namespaceState = async (
  rest: KubeRest,
  n: Normaliser,
  name: string,
  tokens: ReadonlyMap<string, string>,
): Promise<NamespaceState | 'absent'> => {
  const ns = await get<{
    metadata: { finalizers?: string[] };
    status?: { phase?: string };
  }>(rest, `/api/v1/namespaces/${name}`);
  if (ns === undefined) return 'absent';
  const secrets =
    (await get<{ items: K8sSecret[] }>(rest, `/api/v1/namespaces/${name}/secrets`))?.items ?? [];
  const accounts =
    (await get<{ items: K8sServiceAccount[] }>(rest, `/api/v1/namespaces/${name}/serviceaccounts`))?.items ??
    [];
  const ours = (refs: { readonly name?: string }[] | undefined): string[] =>
    sorted((refs ?? []).map((r) => r.name ?? '').filter(isOurSecretName));
  return {
    phase: ns.status?.phase ?? '',
    finalizers: sorted(ns.metadata.finalizers ?? []),
    secrets: sortedRecord(
      secrets
        .filter(
          (s) =>
            isOurSecretName(s.metadata.name) ||
            s.metadata.labels?.['app.kubernetes.io/managed-by'] === 'quay-bridge',
        )
        .map((s) => [s.metadata.name, secretState(n, s, tokens)] as const),
    ),
    links: sortedRecord(
      accounts
        .map(
          (sa) =>
            [
              sa.metadata.name,
              { secrets: ours(sa.secrets), imagePullSecrets: ours(sa.imagePullSecrets) },
            ] as const,
        )
        .filter(([, l]) => l.secrets.length + l.imagePullSecrets.length > 0),
    ),
  };
};

/** The state of the namespaces named and of their organizations (`openshift_<namespace>`). */
export const worldState = async (
  rest: KubeRest,
  quay: QuayEmulator,
  runId: string,
  namespaces: readonly string[],
): Promise<WorldState> => {
  const n: Normaliser = { runId, registryHost: quay.registryHost };
  const q = quay.state();
  const tokens = new Map(q.robots.map((r) => [r.name, r.token]));
  const orgNames = new Set(namespaces.map((ns) => `${CLUSTER_ID}_${ns}`));
  const shortName = (org: string, member: string): string =>
    member.startsWith(`${org}+`) ? `+${member.slice(org.length + 1)}` : normalise(n, member);
  const organizations = q.organizations
    .filter((o) => orgNames.has(o.name))
    .map((o): readonly [string, OrganizationState] => [
      normalise(n, o.name),
      {
        robots: sorted(
          q.robots.filter((r) => r.name.startsWith(`${o.name}+`)).map((r) => shortName(o.name, r.name)),
        ),
        prototypes: sortedRecord(
          [
            ...q.prototypes
              .filter((p) => p.org === o.name)
              .reduce((m, p) => {
                const key = `${p.delegate.kind}:${shortName(o.name, p.delegate.name)}`;
                return m.set(key, [...(m.get(key) ?? []), p.role]);
              }, new Map<string, string[]>()),
          ].map(([k, roles]) => [k, sorted(roles).join(',')] as const),
        ),
        repositories: sortedRecord(
          q.repositories
            .filter((r) => r.namespace === o.name)
            .map(
              (r) =>
                [
                  r.name,
                  {
                    visibility: r.visibility,
                    permissions: sortedRecord(
                      Object.entries(r.userPermissions).map(
                        ([u, role]) => [shortName(o.name, u), role] as const,
                      ),
                    ),
                  },
                ] as const,
            ),
        ),
      },
    ]);
  const nsStates: (readonly [string, NamespaceState | 'absent'])[] = [];
  for (const ns of namespaces) nsStates.push([normalise(n, ns), await namespaceState(rest, n, ns, tokens)]);
  return { organizations: sortedRecord(organizations), namespaces: sortedRecord(nsStates) };
};
