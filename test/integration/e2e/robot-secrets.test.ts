// With the optional eventing/robot-secrets applied after the install: a second real receive adapter (Reference
// mode, Secrets labelled as quay-bridge's, its own ServiceAccount) makes a robot Secret deleted by hand come back at
// once, through the service-account step, without a resync.
import { join } from 'node:path';
import { expect } from 'chai';
import { isAlive } from '../../harness/processes.js';
import { repoRoot } from '../../harness/index.js';
import { eventually } from '../../openshift-standin/wait.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import { startStack, type Stack } from '../../event-path/stack.js';

describe('robot-Secret events (eventing/robot-secrets, end to end)', function () {
  this.timeout(300_000);
  const team = `rs-${Date.now().toString(36)}`;
  const secretPath = `/api/v1/namespaces/${team}/secrets/builder-quay-openshift`;
  let stack: Stack | undefined;
  let rest: KubeRest;

  const until = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
    eventually(what, probe, 120_000, 200).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${stack?.logs(15) ?? ''}`);
    });
  const ok = async (what: string, p: Promise<{ status: number; body: string }>): Promise<void> => {
    const a = await p;
    if (a.status >= 300) throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 400)}`);
  };

  before(async () => {
    stack = await startStack({
      installDirs: [join(repoRoot, 'knative'), join(repoRoot, 'eventing', 'robot-secrets')],
      backoffScale: 0.01,
      runService: (s) => s.name !== 'quay-bridge-dead-letter' && s.name !== 'quay-bridge-webhook',
    });
    rest = await kubeRest(stack.controlPlane.kubeConfig);
    const token = stack.quay.createToken('quayadmin', [
      'org:admin',
      'repo:admin',
      'repo:create',
      'repo:read',
      'repo:write',
      'user:read',
      'user:admin',
    ]);
    await ok(
      'create the token Secret',
      rest.createOrReplace({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'quay-integration', namespace: 'quay-bridge' },
        stringData: { token },
      }),
    );
    await ok(
      'create the QuayIntegration',
      rest.request('POST', '/apis/quay.redhat.com/v1/quayintegrations', {
        apiVersion: 'quay.redhat.com/v1',
        kind: 'QuayIntegration',
        metadata: { name: 'robot-secrets' },
        spec: {
          quayHostname: stack.quay.url,
          credentialsSecret: { namespace: 'quay-bridge', name: 'quay-integration' },
          allowlistNamespaces: [team],
        },
      }),
    );
  });

  after(async function () {
    this.timeout(120_000);
    if (stack === undefined) return;
    await rest.request('DELETE', `/api/v1/namespaces/${team}`);
    await rest.request('DELETE', '/apis/quay.redhat.com/v1/quayintegrations/robot-secrets');
    await eventually(
      `namespace ${team} to be gone`,
      async () =>
        (await rest.request('GET', `/api/v1/namespaces/${team}`)).status === 404 ? true : undefined,
      60_000,
    ).catch(() => undefined);
    const pids = stack.pids();
    await stack.stop();
    const alive = pids.filter(isAlive);
    if (alive.length > 0) throw new Error(`the stack left processes running: ${alive.join(', ')}`);
  });

  it('runs a receive adapter for each ApiServerSource', () => {
    expect([...stack!.adapters.keys()].sort()).to.deep.equal(['quay-bridge', 'quay-bridge-robot-secrets']);
  });

  it('restores a robot Secret deleted by hand from its Reference event, with no resync', async () => {
    await ok(
      'create the namespace',
      rest.request('POST', '/api/v1/namespaces', { metadata: { name: team } }),
    );
    const first = await until('the builder Secret', async () => {
      const a = await rest.request('GET', secretPath);
      return a.status === 200 ? (a.json as { metadata: { uid: string } }) : undefined;
    });
    await stack!.broker.idle();
    const before = stack!.broker.deliveries().length;
    await ok('delete the builder Secret', rest.request('DELETE', secretPath));
    const again = await until('the builder Secret again', async () => {
      const a = await rest.request('GET', secretPath);
      const s = a.json as { metadata: { uid: string } } | undefined;
      return a.status === 200 && s?.metadata.uid !== first.metadata.uid ? s : undefined;
    });
    expect(again.metadata.uid).to.not.equal(first.metadata.uid);
    const since = stack!.broker.deliveries().slice(before);
    // The delete arrived as a reference (no data) at the service-account step, and no resync ran.
    expect(
      since.some(
        (d) =>
          d.trigger === 'quay-bridge-robot-secret' &&
          d.type === 'dev.knative.apiserver.ref.delete' &&
          d.subject === `/apis/v1/namespaces/${team}/secrets/builder-quay-openshift` &&
          d.outcome === 'delivered',
      ),
    ).to.be.true;
    expect(
      since.filter(
        (d) => d.trigger.startsWith('quay-bridge-resync') || d.trigger === 'quay-bridge-quayintegration',
      ),
    ).to.deep.equal([]);
  });
});
