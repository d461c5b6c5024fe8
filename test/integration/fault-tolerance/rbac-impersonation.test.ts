// Least privilege in use: the install's ServiceAccounts, Roles, ClusterRoles and bindings (knative/) applied to the
// real API server, then every step's identity exercised through it by impersonation (Impersonate-User:
// system:serviceaccount:quay-bridge:<sa>). Each request is really made (writes as dryRun=All, which the authorizer
// judges like the real thing): denied what the step's job does not need, allowed what it does. Finally the steps
// themselves run the scenario as their ServiceAccounts, which proves the allowances sufficient.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import type { StepName } from '../../../functions/index.js';
import { applyInstallOrThrow } from '../../event-path/install.js';
import { renderInstall } from '../../event-path/manifests.js';
import { deadLetters } from '../../support/run.js';
import { inProcess, type Transport } from '../../support/delivery.js';
import { startDispatcher, type Dispatcher } from '../../support/dispatcher.js';
import { cleanUp, newScenario, playScenario } from '../../support/scenario.js';
import { BRIDGE_NAMESPACE, INTEGRATION, startWorld, TOKEN_SECRET, type World } from '../../support/world.js';

type Verdict = 'allowed' | 'denied';

interface Probe {
  readonly what: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
}

const accountOf: Record<StepName, string> = {
  namespace: 'quay-bridge-namespace',
  'service-account': 'quay-bridge-service-account',
  'image-stream': 'quay-bridge-image-stream',
  resync: 'quay-bridge-resync',
  build: 'quay-bridge-build',
};

const userOf = (step: StepName): string => `system:serviceaccount:${BRIDGE_NAMESPACE}:${accountOf[step]}`;

const merge = 'application/merge-patch+json';
const dry = '?dryRun=All';

/** One request as `user` (admin credentials + Impersonate-User); the status the API server answers. */
const asUser = (w: World, user: string, p: Probe): Promise<number> =>
  new Promise((resolve, reject) => {
    const url = new URL(p.path, w.cp.serverUrl);
    const body = p.body === undefined ? undefined : JSON.stringify(p.body);
    const req = https.request(
      url,
      {
        method: p.method,
        ca: w.cp.pki.caPem,
        cert: readFileSync(w.cp.pki.adminCert),
        key: readFileSync(w.cp.pki.adminKey),
        headers: {
          'impersonate-user': user,
          ...(body === undefined ? {} : { 'content-type': p.contentType ?? 'application/json' }),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const probesFor = (ns: string): Record<string, Probe> => ({
  listSecrets: { what: 'list Secrets cluster-wide', method: 'GET', path: '/api/v1/secrets' },
  listSecretsNs: { what: `list Secrets in ${ns}`, method: 'GET', path: `/api/v1/namespaces/${ns}/secrets` },
  getToken: {
    what: 'read the Quay token Secret',
    method: 'GET',
    path: `/api/v1/namespaces/${BRIDGE_NAMESPACE}/secrets/${TOKEN_SECRET}`,
  },
  getNamespace: { what: `get namespace ${ns}`, method: 'GET', path: `/api/v1/namespaces/${ns}` },
  patchNamespace: {
    what: `patch namespace ${ns} (finalizers)`,
    method: 'PATCH',
    path: `/api/v1/namespaces/${ns}${dry}`,
    body: { metadata: { labels: { probe: 'x' } } },
    contentType: merge,
  },
  deleteNamespace: {
    what: `delete namespace ${ns}`,
    method: 'DELETE',
    path: `/api/v1/namespaces/${ns}${dry}`,
  },
  patchServiceAccount: {
    what: `patch ServiceAccount ${ns}/builder`,
    method: 'PATCH',
    path: `/api/v1/namespaces/${ns}/serviceaccounts/builder${dry}`,
    body: { metadata: { labels: { probe: 'x' } } },
    contentType: merge,
  },
  getServiceAccount: {
    what: `get ServiceAccount ${ns}/builder`,
    method: 'GET',
    path: `/api/v1/namespaces/${ns}/serviceaccounts/builder`,
  },
  listImageStreams: {
    what: `list ImageStreams in ${ns}`,
    method: 'GET',
    path: `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreams`,
  },
  listIntegrations: {
    what: 'list QuayIntegrations',
    method: 'GET',
    path: '/apis/quay.redhat.com/v1/quayintegrations',
  },
  patchIntegrationSpec: {
    what: 'patch QuayIntegration.spec',
    method: 'PATCH',
    path: `/apis/quay.redhat.com/v1/quayintegrations/${INTEGRATION}${dry}`,
    body: { spec: { clusterID: 'hijacked' } },
    contentType: merge,
  },
  patchIntegrationStatus: {
    what: 'patch QuayIntegration status',
    method: 'PATCH',
    path: `/apis/quay.redhat.com/v1/quayintegrations/${INTEGRATION}/status${dry}`,
    body: { status: { lastUpdate: '2026-01-01T00:00:00Z' } },
    contentType: merge,
  },
  deleteIntegration: {
    what: 'delete the QuayIntegration',
    method: 'DELETE',
    path: `/apis/quay.redhat.com/v1/quayintegrations/${INTEGRATION}${dry}`,
  },
  createRoleBinding: {
    what: `create a RoleBinding in ${ns} (escalation)`,
    method: 'POST',
    path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings${dry}`,
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'probe' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', name: 'probe' }],
    },
  },
});

/** What each step may and may not do, by probe name. */
const expectations: Record<StepName, Partial<Record<string, Verdict>>> = {
  namespace: {
    getNamespace: 'allowed',
    patchNamespace: 'allowed',
    getToken: 'allowed',
    listIntegrations: 'allowed',
    listSecrets: 'denied',
    listSecretsNs: 'denied',
    patchServiceAccount: 'denied',
    deleteNamespace: 'denied',
    patchIntegrationSpec: 'denied',
    deleteIntegration: 'denied',
    createRoleBinding: 'denied',
  },
  'service-account': {
    getServiceAccount: 'allowed',
    patchServiceAccount: 'allowed',
    getToken: 'allowed',
    listIntegrations: 'allowed',
    listSecrets: 'denied',
    deleteNamespace: 'denied',
    patchIntegrationSpec: 'denied',
    patchIntegrationStatus: 'denied',
    createRoleBinding: 'denied',
  },
  'image-stream': {
    getToken: 'allowed',
    listIntegrations: 'allowed',
    listSecrets: 'denied',
    listSecretsNs: 'denied',
    patchServiceAccount: 'denied',
    deleteNamespace: 'denied',
    patchIntegrationSpec: 'denied',
    createRoleBinding: 'denied',
  },
  resync: {
    listIntegrations: 'allowed',
    patchIntegrationStatus: 'allowed',
    getToken: 'allowed',
    listSecrets: 'denied',
    deleteNamespace: 'denied',
    patchIntegrationSpec: 'denied',
    deleteIntegration: 'denied',
    createRoleBinding: 'denied',
  },
  build: {
    getToken: 'allowed',
    listSecrets: 'denied',
    patchServiceAccount: 'denied',
    deleteNamespace: 'denied',
    patchIntegrationSpec: 'denied',
    createRoleBinding: 'denied',
  },
};

const impersonating = (w: World, step: StepName): KubeConfig => {
  const kc = new KubeConfig();
  const base = w.kubeConfig;
  const user = base.getCurrentUser();
  const cluster = base.getCurrentCluster();
  if (user === null || cluster === null)
    throw new Error('the harness kubeconfig has no current user or cluster');
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ ...user, name: 'impersonating', impersonateUser: userOf(step) }],
    contexts: [{ name: 'impersonating', cluster: cluster.name, user: 'impersonating' }],
    currentContext: 'impersonating',
  });
  return kc;
};

describe('fault tolerance: RBAC of each step, through the real API server by impersonation', function () {
  this.timeout(180_000);
  const s = newScenario('rb');
  let w: World | undefined;
  let d: Dispatcher | undefined;

  before(async () => {
    w = await startWorld();
    await applyInstallOrThrow(w.kubeConfig, renderInstall());
  });

  after(async () => {
    await d?.stop();
    if (w !== undefined) {
      await cleanUp(w.rest, s);
      await w.stop();
    }
  });

  it('lets each step do what its job needs and refuses it the rest', async () => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    const ns = `${s.runId}-probe`;
    await world.rest.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    await world.rest.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'builder' },
    });
    const probes = probesFor(ns);
    // The 'allowed' expectations are the control: impersonation does not simply refuse everything.
    const wrong: string[] = [];
    for (const [step, wanted] of Object.entries(expectations) as [
      StepName,
      Partial<Record<string, Verdict>>,
    ][])
      for (const [name, verdict] of Object.entries(wanted)) {
        const probe = probes[name];
        if (probe === undefined || verdict === undefined) continue;
        const status = await asUser(world, userOf(step), probe);
        const got: Verdict = status === 403 ? 'denied' : 'allowed';
        if (got !== verdict) wrong.push(`${step} should be ${verdict} to ${probe.what}, got HTTP ${status}`);
      }
    await world.rest.request('DELETE', `/api/v1/namespaces/${ns}`);
    expect(wrong).to.deep.equal([]);
  });

  it('provisions and finalizes the scenario with every step running as its own ServiceAccount', async () => {
    if (w === undefined) throw new Error('no world');
    const world = w;
    const transports = new Map<StepName, Transport>(
      (['namespace', 'service-account', 'image-stream'] as const).map((step) => [
        step,
        inProcess(world.stepEnv({ kubeConfig: impersonating(world, step) })),
      ]),
    );
    d = await startDispatcher({
      kubeConfig: world.kubeConfig,
      transport: (step, event) => {
        const t = transports.get(step);
        if (t === undefined) throw new Error(`no transport for ${step}`);
        return t(step, event);
      },
      namespaces: (n) => n.startsWith(s.runId),
    });
    await playScenario(world, s);
    await d.idle();
    expect(deadLetters(d.results)).to.deep.equal([]);
  });
});
