// The plain-Kubernetes install, `kubectl apply -k knative/cert-manager`, on a control plane that serves no OpenShift
// API: every step as its own process under its own ServiceAccount's RBAC, Knative's real receive adapter configured
// from the overlay's ApiServerSource (ImageStream and Build removed) under its ServiceAccount, the broker stand-in
// with eventing/'s Triggers (the ImageStream and Build Triggers included: they route nothing). cert-manager's
// Certificate and Issuer are not applied (their kinds are not served here); the stack issues the webhook's
// certificate itself, as cert-manager would. Every event must be answered 2xx at once: not served is not a retry.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { robotSecretName } from '../../../shared/names.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import { startStack, type Stack } from '../../event-path/stack.js';
import { repoRoot, startPlainControlPlane, type ControlPlane } from '../../harness/index.js';
import { isAlive } from '../../harness/processes.js';
import { eventually } from '../../openshift-standin/wait.js';

const CLUSTER_ID = 'openshift';
const org = (ns: string): string => `${CLUSTER_ID}_${ns}`;

describe('the plain-Kubernetes install (knative/cert-manager) on a cluster without OpenShift APIs', function () {
  this.timeout(300_000);
  const team = `team-${Date.now().toString(36)}`;
  let cp: ControlPlane | undefined;
  let stack: Stack | undefined;
  let rest: KubeRest;
  const state = () => {
    if (stack === undefined) throw new Error('no stack');
    return stack.quay.state();
  };
  const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> =>
    eventually(what, () => Promise.resolve(probe()), 120_000, 200).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${stack?.logs(15) ?? ''}`);
    });
  const ok = async (what: string, p: Promise<{ status: number; body: string }>): Promise<void> => {
    const a = await p;
    if (a.status >= 300) throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 400)}`);
  };
  const linked = (namespace: string, sa: string) => async () => {
    const a = await rest.request('GET', `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}`);
    const account = a.json as { imagePullSecrets?: { name: string }[] } | undefined;
    return account?.imagePullSecrets?.some((s) => s.name === robotSecretName(sa, CLUSTER_ID)) === true
      ? true
      : undefined;
  };
  /** Every "event handled" line the steps logged, as [step, kind, status]. */
  const handled = (): [string, string, number][] => {
    const dir = stack?.logDir ?? '';
    return readdirSync(dir)
      .filter((f) => f.startsWith('quay-bridge-') && f.endsWith('.log'))
      .flatMap((f) =>
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .flatMap((l): [string, string, number][] => {
            try {
              const e = JSON.parse(l) as { msg?: string; step?: string; kind?: string; status?: number };
              return e.msg === 'event handled' ? [[e.step ?? '', e.kind ?? '', e.status ?? 0]] : [];
            } catch {
              return [];
            }
          }),
      );
  };

  before(async () => {
    cp = await startPlainControlPlane();
    stack = await startStack({
      controlPlane: cp,
      installDirs: [join(repoRoot, 'knative', 'cert-manager')],
      omit: (o) => o.apiVersion.startsWith('cert-manager.io/'),
      // As the operator lists it in knative/base/robot-secrets.yaml, so that the steps may write its Secret.
      additionalServiceAccounts: ['ci'],
      openshift: false,
      backoffScale: 0.01,
    });
    rest = await kubeRest(cp.kubeConfig);
    await ok(
      'the token Secret',
      rest.createOrReplace({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'quay-integration', namespace: 'quay-bridge' },
        stringData: { token: stack.quay.adminToken },
      }),
    );
    await ok(
      'the QuayIntegration',
      rest.request('POST', '/apis/quay.redhat.com/v1/quayintegrations', {
        apiVersion: 'quay.redhat.com/v1',
        kind: 'QuayIntegration',
        metadata: { name: 'plain' },
        spec: {
          clusterID: CLUSTER_ID,
          quayHostname: stack.quay.url,
          credentialsSecret: { namespace: 'quay-bridge', name: 'quay-integration' },
          insecureRegistry: true,
          allowlistNamespaces: [team],
          additionalServiceAccounts: [{ name: 'ci', role: 'write' }],
        },
      }),
    );
  });

  after(async function () {
    this.timeout(120_000);
    const pids = stack?.pids() ?? [];
    await stack?.stop();
    await cp?.stop();
    const alive = pids.filter(isAlive);
    if (alive.length > 0) throw new Error(`the stack left processes running: ${alive.join(', ')}`);
  });

  it('watches no ImageStream or Build: the overlay’s source has none', () => {
    const source = stack?.install.apiServerSources.find((s) => s.name === 'quay-bridge');
    expect(source?.adapterConfig([]).resources.map((r) => r.gvr.Resource)).to.deep.equal([
      'namespaces',
      'serviceaccounts',
      'quayintegrations',
    ]);
  });

  it('gives a new namespace its organization, default robot and a CI ServiceAccount’s write robot, each Secret linked', async () => {
    await ok('namespace', rest.request('POST', '/api/v1/namespaces', { metadata: { name: team } }));
    await until(`organization ${org(team)}`, () => state().organizations.find((o) => o.name === org(team)));
    await until('default linked to its Secret', linked(team, 'default'));
    await ok(
      'ServiceAccount ci',
      rest.request('POST', `/api/v1/namespaces/${team}/serviceaccounts`, { metadata: { name: 'ci' } }),
    );
    await until('ci linked to its Secret', linked(team, 'ci'));
    expect(
      state()
        .prototypes.filter((p) => p.org === org(team))
        .map((p) => [p.delegate.name, p.role])
        .sort(),
    ).to.deep.equal([
      [`${org(team)}+ci`, 'write'],
      [`${org(team)}+default`, 'read'],
    ]);
  });

  it('resyncs under the resync step’s RBAC and says which parts are active', async () => {
    stack?.ping();
    const parts = await until('status.parts', async () => {
      const a = await rest.request('GET', '/apis/quay.redhat.com/v1/quayintegrations/plain');
      const p = (a.json as { status?: { parts?: { name: string; active: boolean }[] } }).status?.parts;
      return p !== undefined && p.length > 0 ? p : undefined;
    });
    expect(parts.map((p) => [p.name, p.active])).to.deep.equal([
      ['Namespaces', true],
      ['ServiceAccounts', true],
      ['ImageStreams', false],
      ['Builds', false],
    ]);
  });

  it('deletes the organization with the namespace', async () => {
    await ok('delete the namespace', rest.request('DELETE', `/api/v1/namespaces/${team}`));
    await until(`organization ${org(team)} deleted`, () =>
      state().organizations.some((o) => o.name === org(team)) ? undefined : true,
    );
    await until(`namespace ${team} gone`, async () =>
      (await rest.request('GET', `/api/v1/namespaces/${team}`)).status === 404 ? true : undefined,
    );
  });

  it('answered every event 2xx at once: nothing retried, nothing dead-lettered', async () => {
    await stack?.broker.idle();
    expect(stack?.broker.deadLetters().map((d) => [d.trigger, d.event.subject, d.status])).to.deep.equal([]);
    const lines = handled();
    expect(lines.length).to.be.greaterThan(5);
    expect(lines.filter(([, , status]) => status >= 300)).to.deep.equal([]);
  });
});
