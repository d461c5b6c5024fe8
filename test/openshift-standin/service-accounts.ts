// OpenShift's project service accounts: `builder`, `deployer` and `default` in every namespace, recreated when
// deleted; with the image registry capability, each also gets a `<sa>-dockercfg-<suffix>` pull Secret linked in
// both `secrets` and `imagePullSecrets`.
import { createHash } from 'node:crypto';
import { describeAnswer, expectOk, paths, type KubeHttp } from './kube-http.js';
import { decodeOrThrow, Namespace, ServiceAccount } from './objects.js';

export const projectServiceAccounts = ['builder', 'deployer', 'default'] as const;

/** Where the stand-in's made-up integrated registry would be (no registry runs there). */
export const integratedRegistryHost = 'image-registry.openshift-image-registry.svc:5000';

/** OpenShift uses a random suffix; the stand-in derives it from the ServiceAccount's uid so retries converge. */
export const dockercfgSecretName = (serviceAccount: string, uid: string): string =>
  `${serviceAccount}-dockercfg-${createHash('sha256').update(uid).digest('hex').slice(0, 5)}`;

export const isDockercfgSecretOf = (serviceAccount: string, secretName: string): boolean =>
  secretName.startsWith(`${serviceAccount}-dockercfg-`);

/** The merge patch that links the pull Secret, keeping every other entry; undefined when already linked. */
export const dockercfgLinkPatch = (sa: ServiceAccount, secretName: string): object | undefined => {
  const secrets = sa.secrets ?? [];
  const pulls = sa.imagePullSecrets ?? [];
  const inSecrets = secrets.some((s) => s.name === secretName);
  const inPulls = pulls.some((s) => s.name === secretName);
  if (inSecrets && inPulls) return undefined;
  return {
    // Lists are replaced whole by a merge patch: the resourceVersion makes it fail rather than drop a concurrent
    // addition.
    metadata: { resourceVersion: sa.metadata.resourceVersion },
    ...(inSecrets ? {} : { secrets: [...secrets, { name: secretName }] }),
    ...(inPulls ? {} : { imagePullSecrets: [...pulls, { name: secretName }] }),
  };
};

const dockercfgSecret = (sa: ServiceAccount, name: string, uid: string): object => {
  const password = 'stand-in-not-a-token';
  const dockercfg = {
    [integratedRegistryHost]: {
      username: 'serviceaccount',
      password,
      email: 'serviceaccount@example.org',
      auth: Buffer.from(`serviceaccount:${password}`).toString('base64'),
    },
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      annotations: {
        'kubernetes.io/service-account.name': sa.metadata.name,
        'kubernetes.io/service-account.uid': uid,
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'ServiceAccount', name: sa.metadata.name, uid }],
    },
    type: 'kubernetes.io/dockercfg',
    data: { '.dockercfg': Buffer.from(JSON.stringify(dockercfg)).toString('base64') },
  };
};

const beingTerminated = (status: number, body: unknown): boolean =>
  status === 403 && JSON.stringify(body).includes('being terminated');

/** Converges one namespace; returns quietly for a namespace that is gone or terminating. */
export const reconcileNamespace = async (
  http: KubeHttp,
  namespace: string,
  linkPullSecrets: boolean,
): Promise<void> => {
  const got = await http.get(paths.namespace(namespace));
  if (got.status === 404) return;
  const ns = decodeOrThrow(Namespace, 'a Namespace')(expectOk(`read namespace ${namespace}`, got));
  if (ns.metadata.deletionTimestamp != null || ns.status?.phase === 'Terminating') return;
  for (const name of projectServiceAccounts) {
    let sa = await http.get(paths.serviceAccount(namespace, name));
    if (sa.status === 404) {
      sa = await http.create(paths.serviceAccounts(namespace), {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name },
      });
      if (sa.status === 404 || beingTerminated(sa.status, sa.body)) return;
      // `default` also comes from kube-controller-manager; whoever is second learns it exists.
      if (sa.status === 409) sa = await http.get(paths.serviceAccount(namespace, name));
    }
    if (sa.status === 404) continue; // deleted right away: its DELETED event brings us back
    const account = decodeOrThrow(
      ServiceAccount,
      'a ServiceAccount',
    )(expectOk(`read SA ${namespace}/${name}`, sa));
    if (linkPullSecrets) await linkDockercfg(http, namespace, account);
  }
};

const linkDockercfg = async (http: KubeHttp, namespace: string, sa: ServiceAccount): Promise<void> => {
  const name = sa.metadata.name;
  const uid = sa.metadata.uid ?? '';
  const linked = (sa.imagePullSecrets ?? []).find((s) => isDockercfgSecretOf(name, s.name));
  const secretName = linked?.name ?? dockercfgSecretName(name, uid);
  if (linked === undefined) {
    const created = await http.create(paths.secrets(namespace), dockercfgSecret(sa, secretName, uid));
    if (beingTerminated(created.status, created.body)) return;
    if (created.status !== 409) expectOk(`create Secret ${namespace}/${secretName}`, created);
  }
  const patch = dockercfgLinkPatch(sa, secretName);
  if (patch === undefined) return;
  const patched = await http.patch(paths.serviceAccount(namespace, name), 'merge', patch);
  // 409: someone else changed the SA meanwhile; their MODIFIED event brings us back with the new version.
  if (patched.status === 409 || patched.status === 404) return;
  if (patched.status >= 300)
    throw new Error(`link ${secretName} to SA ${namespace}/${name}: ${describeAnswer(patched)}`);
};
