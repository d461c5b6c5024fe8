// No step can read, patch or delete a Secret it does not own. Every ServiceAccount of the install is played as the
// attacker who stole its token: real requests through the real authorizer (Impersonate-User), writes as
// dryRun=All, against a Secret in kube-system and a tenant's Secret that is not a robot's. First against a
// deliberately weakened copy of the install (its RBAC, renamed, plus the cluster-wide Secret rule the
// ServiceAccount and resync steps held before: get, create, patch, delete on every Secret), where each attack must
// succeed, so that none of the denials below can pass vacuously; then against the install itself, where each must be
// refused while the robot Secrets (`<sa>-quay-<clusterID>`, builder, default, deployer) stay within reach.
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { join } from 'node:path';
import { repoRoot, sharedControlPlane, type ControlPlane } from '../../harness/index.js';
import { applyInstallOrThrow } from '../../event-path/install.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import type { KubeObject } from '../../event-path/kustomize.js';
import { renderInstall, renderInstallFor } from '../../event-path/manifests.js';

const NS = 'quay-bridge';
const CLUSTER_ID = 'openshift';
const WEAK = '-weakened';
const run = `sr${Date.now().toString(36)}`;
const TENANT = `${run}-tenant`;
const SYSTEM_SECRET = `${run}-system`;
const FOREIGN = 'not-ours';
const ROBOT_SECRETS = ['builder', 'default', 'deployer'].map((sa) => `${sa}-quay-${CLUSTER_ID}`);

interface Probe {
  readonly what: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
}

const dry = 'dryRun=All';
const secretPath = (ns: string, name?: string): string =>
  `/api/v1/namespaces/${ns}/secrets${name === undefined ? '' : `/${name}`}`;
const secretBody = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  stringData: { probe: 'x' },
});

const get = (ns: string, name: string): Probe => ({
  what: `get Secret ${ns}/${name}`,
  method: 'GET',
  path: secretPath(ns, name),
});
const patch = (ns: string, name: string): Probe => ({
  what: `patch Secret ${ns}/${name}`,
  method: 'PATCH',
  path: `${secretPath(ns, name)}?${dry}`,
  body: { metadata: { labels: { probe: 'x' } } },
  contentType: 'application/merge-patch+json',
});
const del = (ns: string, name: string): Probe => ({
  what: `delete Secret ${ns}/${name}`,
  method: 'DELETE',
  path: `${secretPath(ns, name)}?${dry}`,
});
/** Server-side apply of a Secret that does not exist: the API server asks for patch and create of that name. */
const applyNew = (ns: string, name: string): Probe => ({
  what: `create Secret ${ns}/${name} by server-side apply`,
  method: 'PATCH',
  path: `${secretPath(ns, name)}?${dry}&fieldManager=probe&force=true`,
  body: secretBody(name),
  contentType: 'application/apply-patch+yaml',
});
const post = (ns: string): Probe => ({
  what: `create a Secret in ${ns} by POST`,
  method: 'POST',
  path: `${secretPath(ns)}?${dry}`,
  body: secretBody(`${run}-posted`),
});
const list = (ns?: string, name?: string): Probe => ({
  what: `list Secrets ${ns === undefined ? 'cluster-wide' : `in ${ns}`}${name === undefined ? '' : ` named ${name}`}`,
  method: 'GET',
  path: `${ns === undefined ? '/api/v1/secrets' : secretPath(ns)}${name === undefined ? '' : `?fieldSelector=metadata.name%3D${name}`}`,
});

/** What a stolen token of any step must not do to Secrets. */
const attacks: readonly Probe[] = [
  get('kube-system', SYSTEM_SECRET),
  patch('kube-system', SYSTEM_SECRET),
  del('kube-system', SYSTEM_SECRET),
  get(TENANT, FOREIGN),
  patch(TENANT, FOREIGN),
  del(TENANT, FOREIGN),
  applyNew(TENANT, `${run}-planted`),
  post(TENANT),
  list(),
  list(TENANT),
];

/** What each ServiceAccount must still be able to do to Secrets (its job). */
// builder's and default's exist; deployer's does not, and server-side apply creates it (dry run).
const robotSecretAccess: readonly Probe[] = [
  ...ROBOT_SECRETS.slice(0, 2).flatMap((name) => [get(TENANT, name), patch(TENANT, name), del(TENANT, name)]),
  applyNew(TENANT, `deployer-quay-${CLUSTER_ID}`),
];
const jobs: Record<string, readonly Probe[]> = {
  'quay-bridge-service-account': robotSecretAccess,
  'quay-bridge-resync': robotSecretAccess,
  'quay-bridge-webhook': [
    get(TENANT, `builder-quay-${CLUSTER_ID}`),
    list(undefined, `builder-quay-${CLUSTER_ID}`),
  ],
  'quay-bridge-namespace': [],
  'quay-bridge-image-stream': [],
  'quay-bridge-build': [],
  'quay-bridge-dead-letter': [],
  'quay-bridge-source': [],
};
/** Beyond the attacks above: what lies next to each job. */
const nextToJob: Record<string, readonly Probe[]> = {
  // the webhook reads the builder robot's Secret only
  'quay-bridge-webhook': [
    get(TENANT, `default-quay-${CLUSTER_ID}`),
    patch(TENANT, `builder-quay-${CLUSTER_ID}`),
    del(TENANT, `builder-quay-${CLUSTER_ID}`),
  ],
  // the other steps never touch a robot Secret
  ...Object.fromEntries(
    [
      'quay-bridge-namespace',
      'quay-bridge-image-stream',
      'quay-bridge-build',
      'quay-bridge-dead-letter',
      'quay-bridge-source',
    ].map((sa) => [
      sa,
      [get(TENANT, `builder-quay-${CLUSTER_ID}`), del(TENANT, `builder-quay-${CLUSTER_ID}`)],
    ]),
  ),
};

const RBAC_KINDS = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/**
 * The install's ServiceAccounts and RBAC under other names, each ServiceAccount also bound to the cluster-wide
 * Secret rule of the old service-account.yaml and resync.yaml.
 */
const weakened = (install: readonly KubeObject[]): KubeObject[] => {
  const accounts = install.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name);
  const rbac = install
    .filter((o) => RBAC_KINDS.has(o.kind) || o.kind === 'ServiceAccount')
    .map((o) => {
      const copy = structuredClone(o) as KubeObject & {
        roleRef?: { name: string };
        subjects?: { kind: string; name: string }[];
      };
      (copy.metadata as { name: string }).name = `${o.metadata.name}${WEAK}`;
      if (copy.roleRef !== undefined) copy.roleRef.name = `${copy.roleRef.name}${WEAK}`;
      for (const s of copy.subjects ?? []) if (s.kind === 'ServiceAccount') s.name = `${s.name}${WEAK}`;
      return copy;
    });
  const old = `quay-bridge-cluster-wide-secrets${WEAK}`;
  return [
    ...rbac,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: old },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'patch', 'delete'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: old },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: old },
      subjects: accounts.map((name) => ({ kind: 'ServiceAccount', name: `${name}${WEAK}`, namespace: NS })),
    },
  ];
};

const asServiceAccount = async (cp: ControlPlane, name: string): Promise<KubeRest> => {
  const kc = new KubeConfig();
  const user = cp.kubeConfig.getCurrentUser();
  const cluster = cp.kubeConfig.getCurrentCluster();
  if (user === null || cluster === null) throw new Error('the harness kubeconfig has no user or cluster');
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ ...user, name: 'as', impersonateUser: `system:serviceaccount:${NS}:${name}` }],
    contexts: [{ name: 'as', cluster: cluster.name, user: 'as' }],
    currentContext: 'as',
  });
  return kubeRest(kc);
};

const refused = (status: number): boolean => status === 403;
/** Done (every probe's target exists, or is created by it): not merely "not refused". */
const done = (status: number): boolean => status >= 200 && status < 300;

describe('Secret rights: a stolen step token cannot reach Secrets it does not own (real authorizer)', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let admin: KubeRest;
  let weak: KubeObject[] = [];
  const accounts = Object.keys(jobs);

  const status = async (account: string, p: Probe): Promise<number> =>
    (await (await asServiceAccount(cp, account)).request(p.method, p.path, p.body, p.contentType)).status;

  before(async () => {
    cp = await sharedControlPlane();
    admin = await kubeRest(cp.kubeConfig);
    const install = renderInstall();
    await applyInstallOrThrow(cp.kubeConfig, install);
    weak = weakened(install);
    await applyInstallOrThrow(cp.kubeConfig, weak);
    const created = [
      await admin.request('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: TENANT },
      }),
      await admin.request('POST', secretPath('kube-system'), secretBody(SYSTEM_SECRET)),
      ...(await Promise.all(
        [FOREIGN, ...ROBOT_SECRETS.slice(0, 2)].map((name) =>
          admin.request('POST', secretPath(TENANT), secretBody(name)),
        ),
      )),
    ];
    for (const c of created) expect(c.status, c.body).to.equal(201);
  });

  after(async () => {
    // the weakened RBAC must not outlive this file in the shared control plane
    for (const o of weak) await admin.request('DELETE', await admin.objectPath(o));
    await admin.request('DELETE', secretPath('kube-system', SYSTEM_SECRET));
    await admin.request('DELETE', `/api/v1/namespaces/${TENANT}`);
  });

  it('lets every attack succeed against the weakened RBAC (the control: each probe can succeed)', async () => {
    const blocked: string[] = [];
    for (const account of accounts)
      for (const p of [...attacks, ...(nextToJob[account] ?? [])]) {
        const s = await status(`${account}${WEAK}`, p);
        if (!done(s)) blocked.push(`${account}${WEAK} could not ${p.what} (HTTP ${s})`);
      }
    expect(blocked).to.deep.equal([]);
  });

  for (const account of Object.keys(jobs))
    it(`refuses ${account} every Secret it does not own, and leaves it its own`, async () => {
      const wrong: string[] = [];
      for (const p of [...attacks, ...(nextToJob[account] ?? [])]) {
        const s = await status(account, p);
        if (!refused(s)) wrong.push(`can ${p.what} (HTTP ${s})`);
      }
      for (const p of jobs[account] ?? []) {
        const s = await status(account, p);
        if (!done(s)) wrong.push(`cannot ${p.what} (HTTP ${s})`);
      }
      expect(wrong).to.deep.equal([]);
    });

  it("lets the webhook read the builder Secret of the embedded sample's clusterID (local) once the install is made for it", async () => {
    const local = (verb: (ns: string, name: string) => Probe, sa: string) => verb(TENANT, `${sa}-quay-local`);
    await admin.request('POST', secretPath(TENANT), secretBody('builder-quay-local'));
    // The install made for `openshift`: the webhook is refused the Secret (its "could not check" warning).
    expect(await status('quay-bridge-webhook', local(get, 'builder'))).to.equal(403);
    expect(await status('quay-bridge-service-account', local(get, 'default'))).to.equal(403);
    const rbacOnly = (objects: readonly KubeObject[]) => objects.filter((o) => RBAC_KINDS.has(o.kind));
    try {
      await applyInstallOrThrow(cp.kubeConfig, rbacOnly(renderInstallFor('local')));
      expect(await status('quay-bridge-webhook', local(get, 'builder'))).to.equal(200);
      expect(await status('quay-bridge-webhook', local(get, 'default'))).to.equal(403);
      expect(await status('quay-bridge-webhook', get(TENANT, `builder-quay-${CLUSTER_ID}`))).to.equal(403);
      expect(await status('quay-bridge-service-account', local(get, 'builder'))).to.equal(200);
      expect(await status('quay-bridge-service-account', local(applyNew, 'deployer'))).to.be.within(200, 201);
    } finally {
      // back to the default install, which the other tests of the run expect
      await applyInstallOrThrow(cp.kubeConfig, rbacOnly(renderInstall()));
    }
  });

  it('covers an additional ServiceAccount once it is listed in the same place, and only then', async () => {
    const pipeline = (verb: (ns: string, name: string) => Probe) =>
      verb(TENANT, `pipeline-quay-${CLUSTER_ID}`);
    const rbacOnly = (objects: readonly KubeObject[]) => objects.filter((o) => RBAC_KINDS.has(o.kind));
    expect(await status('quay-bridge-service-account', pipeline(applyNew))).to.equal(403);
    try {
      await applyInstallOrThrow(
        cp.kubeConfig,
        rbacOnly(renderInstallFor(CLUSTER_ID, undefined, ['pipeline'])),
      );
      for (const account of ['quay-bridge-service-account', 'quay-bridge-resync'])
        expect(await status(account, pipeline(applyNew)), account).to.be.within(200, 201);
      expect(await status('quay-bridge-webhook', pipeline(get)), 'the webhook reads builder only').to.equal(
        403,
      );
    } finally {
      await applyInstallOrThrow(cp.kubeConfig, rbacOnly(renderInstall()));
    }
  });

  it('names the robot Secrets after the clusterID set in knative/base/robot-secrets.yaml, in every Secret rule', () => {
    const names = (objects: readonly KubeObject[]) =>
      objects
        .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
        .flatMap((o) => (o as { rules?: { resources?: string[]; resourceNames?: string[] }[] }).rules ?? [])
        .filter((r) => r.resources?.includes('secrets'))
        .flatMap((r) => r.resourceNames ?? ['<every Secret>'])
        .sort();
    expect(names(renderInstall())).to.deep.equal(
      ['quay-integration', ...ROBOT_SECRETS, `builder-quay-${CLUSTER_ID}`].sort(),
    );
    expect(names(renderInstallFor('local'))).to.deep.equal(
      [
        'quay-integration',
        'builder-quay-local',
        'default-quay-local',
        'deployer-quay-local',
        'builder-quay-local',
      ].sort(),
    );
    // the optional source is the documented exception: it lists and watches every Secret
    expect(names(renderInstall(join(repoRoot, 'eventing', 'robot-secrets')))).to.deep.equal([
      '<every Secret>',
    ]);
  });
});
