// `quay-token` writing the token where the bridge reads it, against the real API server: as the token Job's own
// ServiceAccount (knative/quay-token, applied with strict field validation; a TokenRequest token, as the kubelet
// mounts it), into the QuayIntegration's credentials Secret. Then the resync step, with the production wiring,
// finds the token good: CredentialsValid=True (TokenAccepted). Run again, the Secret is updated in place and the
// application reused; a Secret outside the Job's rights, and a cluster without QuayIntegration, are refused with
// the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { repoRoot, sharedControlPlane, type ControlPlane } from '../../harness/index.js';
import { applyInstallOrThrow, serviceAccountKubeconfig } from '../../event-path/install.js';
import { kubeRest } from '../../event-path/kube-rest.js';
import { kustomize } from '../../event-path/kustomize.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { runQuayTokenCommand } from '../../support/quay-token.js';
import { pingEvent } from '../../unit/shared/fakes/events.js';
import { resyncStep } from '../../../functions/resync/handle.js';
import type { KubeClient } from '../../../shared/kube/client.js';
import { describeError } from '../../../shared/errors.js';
import { createKubeClient } from '../../../shared/kube/http.js';
import { Resources } from '../../../shared/kube/resources.js';
import { memoryLogger } from '../../../shared/log.js';
import { productionEnv } from '../../../shared/wiring.js';

const NS = 'quay-bridge';
const SECRET = { type: Resources.Secret, namespace: NS, name: 'quay-integration' };
const QI = { type: Resources.QuayIntegration, name: 'quay-token-test' };

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

const must = async <A>(
  te: () => Promise<E.Either<{ readonly message: string }, A>>,
  what: string,
): Promise<A> => {
  const r = await te();
  if (E.isLeft(r)) throw new Error(`${what}: ${r.left.message}`);
  return r.right;
};

describe('quay-token into the cluster: the Job identity writes the credentials Secret, and the bridge accepts the token', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let kube: KubeClient;
  let quay: QuayEmulator;
  let dir: string;
  let jobKubeconfig: string;

  const run = (extra: readonly string[] = [], kubeconfig = jobKubeconfig) =>
    runQuayTokenCommand(
      [
        '--quay',
        quay.url,
        '--org',
        'platform',
        '--password-env',
        'QUAY_PASSWORD',
        '--kubeconfig',
        kubeconfig,
        ...extra,
      ],
      { QUAY_PASSWORD: quay.adminPassword },
    );

  const secretToken = async (): Promise<string | undefined> => {
    const s = (await must(kube.get(SECRET), 'read the Secret')) as { data?: Record<string, string> };
    const data = s.data?.['token'];
    return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
  };

  /** The resync step's pass, as the PingSource would start it; the QuayIntegration's conditions afterwards. */
  const resync = async (): Promise<Condition[]> => {
    const env = await productionEnv(
      { QUAY_BRIDGE_SETTINGS_TTL_SECONDS: '0' },
      { kubeConfig: cp.kubeConfig, log: memoryLogger() },
    );
    const pass = await resyncStep.run(pingEvent())(env)();
    // Without usable credentials the pass ends NotConfigured, having written why into the conditions.
    if (E.isLeft(pass) && pass.left._tag !== 'NotConfigured')
      throw new Error(`resync: ${describeError(pass.left)}`);
    const qi = (await must(kube.get(QI), 'read the QuayIntegration')) as {
      status?: { conditions?: Condition[] };
    };
    return qi.status?.conditions ?? [];
  };

  before(async () => {
    cp = await sharedControlPlane();
    kube = createKubeClient(cp.kubeConfig, { fieldManager: 'quay-token-tests' });
    dir = mkdtempSync(join(tmpdir(), 'quay-token-kube-'));
    const leftover = await must(kube.list(Resources.QuayIntegration), 'list QuayIntegrations');
    if (leftover.length > 0) throw new Error('a QuayIntegration is left from another test');
    await kube.create(Resources.Namespace, undefined, { metadata: { name: NS } })();
    await kube.delete(SECRET)();
    // The Job itself only as a dry run: no kubelet here to run its pod (the image is tested in image-entry tests).
    await applyInstallOrThrow(cp.kubeConfig, kustomize(join(repoRoot, 'knative', 'quay-token')), {
      dryRunKinds: new Set(['Job']),
    });
    const rest = await kubeRest(cp.kubeConfig);
    jobKubeconfig = (await serviceAccountKubeconfig(cp.kubeConfig, rest, NS, 'quay-bridge-token', dir))
      .kubeconfigPath;
    quay = await startQuayEmulator({ seed: 1510 });
    quay.createOrganization('platform', 'quayadmin');
    await must(
      kube.create(Resources.QuayIntegration, undefined, {
        apiVersion: 'quay.redhat.com/v1',
        kind: 'QuayIntegration',
        metadata: { name: QI.name },
        spec: {
          clusterID: 'qtoken',
          credentialsSecret: { namespace: NS, name: SECRET.name },
          quayHostname: quay.url,
          // Nothing of the other tests' namespaces is this bridge's business.
          allowlistNamespaces: ['quay-token-no-such-namespace'],
        },
      }),
      'create the QuayIntegration',
    );
  });

  after(async () => {
    await kube.delete(QI)();
    await kube.delete(SECRET)();
    await quay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('before: no Secret, so the bridge says SecretNotFound', async () => {
    const conditions = await resync();
    expect(conditions.find((c) => c.type === 'CredentialsValid')).to.include({
      status: 'False',
      reason: 'SecretNotFound',
    });
  });

  it("as the Job's ServiceAccount: creates the QuayIntegration's Secret with a token the bridge accepts", async () => {
    const r = await run();
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.include('Secret quay-bridge/quay-integration, key token: created');
    const token = await secretToken();
    expect(token).to.match(/^[A-Z0-9]{40}$/);
    expect(r.stderr).to.not.include(token ?? '-');
    const credentials = (await resync()).find((c) => c.type === 'CredentialsValid');
    expect(credentials).to.include({ status: 'True', reason: 'TokenAccepted' });
    expect(credentials?.message).to.include('quayadmin');
  });

  it('run again: the same Secret updated in place with a new token, the application reused, still accepted', async () => {
    const before = await secretToken();
    const r = await run();
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.include('OAuth application quay-bridge in platform: reused');
    expect(r.stderr).to.include('Secret quay-bridge/quay-integration, key token: updated');
    const after = await secretToken();
    expect(after).to.match(/^[A-Z0-9]{40}$/);
    expect(after).to.not.equal(before);
    expect(quay.state().applications.filter((a) => a.org === 'platform')).to.have.length(1);
    expect((await resync()).find((c) => c.type === 'CredentialsValid')).to.include({
      status: 'True',
      reason: 'TokenAccepted',
    });
  });

  it("a Secret outside the Job's rights is refused by Kubernetes before Quay is asked for anything", async () => {
    const calls = quay.totalRequests();
    const r = await run(['--secret', 'default/elsewhere']);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('Kubernetes refused reading the Secret default/elsewhere');
    expect(r.stderr).to.include('knative/quay-token/');
    expect(quay.totalRequests()).to.equal(calls);
  });

  it('without a QuayIntegration it says so before asking Quay for anything', async () => {
    await must(kube.delete(QI), 'delete the QuayIntegration');
    const calls = quay.totalRequests();
    const r = await run();
    expect(r.status).to.equal(1);
    expect(r.stderr)
      .to.include('the cluster has no QuayIntegration')
      .and.include('--secret <namespace>/<name>');
    expect(quay.totalRequests()).to.equal(calls);
  });
});
