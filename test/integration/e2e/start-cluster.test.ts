// `npm start` against an existing cluster, as a user runs it: a cluster of its own (real kube-apiserver and
// kube-controller-manager with the OpenShift stand-in), holding a QuayIntegration that names a Quay (the emulator),
// and KUBECONFIG pointing at it. scripts/start.ts runs as its own process and must find that cluster, sync what
// already existed (the resync at start), follow new namespaces through Knative's receive adapter, release the
// finalizer on deletion, and leave no process behind on Ctrl-C.
import { expect } from 'chai';
import { robotSecretName } from '../../../shared/names.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import {
  crdFiles,
  installCrds,
  readCrds,
  startControlPlane,
  type ControlPlane,
} from '../../harness/index.js';
import { processesMentioning } from '../../harness/processes.js';
import { OpenShiftStandIn, webhookTlsFor } from '../../openshift-standin/index.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { expectCleanStop, startNpmStart, type NpmStart } from '../../support/npm-start.js';
import { CLUSTER_ID, configureIntegration } from '../../support/world.js';

describe('npm start against an existing cluster (KUBECONFIG with a QuayIntegration)', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let rest: KubeRest;
  let quay: QuayEmulator;
  let standIn: OpenShiftStandIn;
  let start: NpmStart | undefined;
  const org = (ns: string): string => `${CLUSTER_ID}_${ns}`;
  const hasOrg = (name: string): true | undefined =>
    quay.state().organizations.some((o) => o.name === name) ? true : undefined;
  const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> => {
    if (start === undefined) throw new Error('npm start is not running');
    return start.until(what, probe, 120_000);
  };
  const output = (): string => start?.output() ?? '';
  const createNamespace = async (name: string): Promise<void> => {
    const a = await rest.request('POST', '/api/v1/namespaces', { metadata: { name } });
    expect(a.status, a.body).to.equal(201);
  };

  before(async () => {
    cp = await startControlPlane();
    await installCrds(cp.kubeConfig, readCrds(crdFiles()));
    rest = await kubeRest(cp.kubeConfig);
    quay = await startQuayEmulator({});
    standIn = new OpenShiftStandIn({ webhookTls: webhookTlsFor(cp.pki) });
    await standIn.start(cp.kubeConfig);
    await configureIntegration(rest, quay);
    // There before the bridge: no event will ever say so.
    await createNamespace('before');
  });

  after(async () => {
    start?.kill();
    await standIn.stop().catch(() => undefined);
    await quay.close().catch(() => undefined);
    await cp.stop();
  });

  it('comes up against that cluster, syncs what existed, follows what comes, and stops cleanly', async () => {
    start = startNpmStart({ via: 'node', kubeconfig: cp.kubeconfigPath });
    const { child } = start;

    await until('npm start to be running', () =>
      output().includes('quay-bridge is running') ? true : undefined,
    );
    // The banner's later lines may come in a later chunk of the output than its first.
    await start.printed('the webhook said not run here', /Not run here: quay-bridge-webhook/);
    expect(output()).to.include(`Running against the cluster of ${cp.kubeconfigPath} (${cp.serverUrl})`);
    expect(output()).not.to.include('embedded stack');

    // The resync at start: the namespace that existed before, with its robots' Secrets.
    await until(`organization ${org('before')}`, () => hasOrg(org('before')));
    await until('the builder robot Secret in namespace before', async () => {
      const a = await rest.request(
        'GET',
        `/api/v1/namespaces/before/secrets/${robotSecretName('builder', CLUSTER_ID)}`,
      );
      return a.status === 200 ? true : undefined;
    });

    // A namespace created now arrives through the receive adapter and the broker stand-in.
    await createNamespace('after');
    await until(`organization ${org('after')}`, () => hasOrg(org('after')));
    await until('the handled event printed', () =>
      /namespace\s+Namespace\s+after\b/.test(output()) ? true : undefined,
    );

    // Deleted: the organization goes, then the finalizer, and the namespace with it.
    expect((await rest.request('DELETE', '/api/v1/namespaces/after')).status).to.equal(200);
    await until(`organization ${org('after')} deleted`, () => (hasOrg(org('after')) ? undefined : true));
    await until('namespace after finalized', async () =>
      (await rest.request('GET', '/api/v1/namespaces/after')).status === 404 ? true : undefined,
    );

    const mark = `KUBECONFIG=${cp.kubeconfigPath}`; // in the environment of every process of the bridge
    const bridge = processesMentioning(mark).filter((p) => !p.startsWith(`${String(child.pid)}:`));
    expect(bridge.length, 'the steps and the adapter run as processes').to.be.greaterThan(3);
    await expectCleanStop(start, [mark]);
  });
});
