// `npm start` against an existing cluster, as a user runs it: a cluster of its own (real kube-apiserver and
// kube-controller-manager with the OpenShift stand-in), holding a QuayIntegration that names a Quay (the emulator),
// and KUBECONFIG pointing at it. scripts/start.ts runs as its own process and must find that cluster, sync what
// already existed (the resync at start), follow new namespaces through Knative's receive adapter, release the
// finalizer on deletion, and leave no process behind on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { robotSecretName } from '../../../shared/names.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import {
  crdFiles,
  installCrds,
  readCrds,
  repoRoot,
  startControlPlane,
  type ControlPlane,
} from '../../harness/index.js';
import { armWatchdog, processesMentioning } from '../../harness/processes.js';
import { OpenShiftStandIn, webhookTlsFor } from '../../openshift-standin/index.js';
import { eventually } from '../../openshift-standin/wait.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { CLUSTER_ID, configureIntegration } from '../../support/world.js';

describe('npm start against an existing cluster (KUBECONFIG with a QuayIntegration)', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let rest: KubeRest;
  let quay: QuayEmulator;
  let standIn: OpenShiftStandIn;
  let start: ChildProcess | undefined;
  let output = '';
  let exit: Promise<number | null>;
  const org = (ns: string): string => `${CLUSTER_ID}_${ns}`;
  const hasOrg = (name: string): true | undefined =>
    quay.state().organizations.some((o) => o.name === name) ? true : undefined;
  const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> =>
    eventually(what, () => Promise.resolve(probe()), 120_000, 200).catch((e: unknown) => {
      throw new Error(`${String(e)}\nnpm start printed:\n${output}`);
    });
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
    if (start?.exitCode === null) start.kill('SIGKILL');
    await standIn.stop().catch(() => undefined);
    await quay.close().catch(() => undefined);
    await cp.stop();
  });

  it('comes up against that cluster, syncs what existed, follows what comes, and stops cleanly', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('scripts', 'start.ts')], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        KUBECONFIG: cp.kubeconfigPath,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own, so that Ctrl-C can be sent as a terminal sends it: to the whole group.
      detached: true,
    });
    start = child;
    const disarm = armWatchdog([child.pid ?? 0]);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    exit = new Promise((resolve) => child.once('exit', resolve));

    await until('npm start to be running', () =>
      output.includes('quay-bridge is running') ? true : undefined,
    );
    expect(output).to.include(`Running against the cluster of ${cp.kubeconfigPath} (${cp.serverUrl})`);
    expect(output).not.to.include('embedded stack');
    expect(output).to.match(/Not run here: quay-bridge-webhook/);

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
      /namespace\s+Namespace\s+after\b/.test(output) ? true : undefined,
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
    process.kill(-(child.pid ?? 0), 'SIGINT'); // Ctrl-C
    expect(await exit, output).to.equal(0);
    disarm();
    expect(output).to.include('Stopped.');
    // Children of exited processes (e.g. tsx's esbuild service, the process watchdogs) end within moments.
    const left = await eventually(
      'every process of the bridge to end',
      () => Promise.resolve(processesMentioning(mark).length === 0 ? [] : undefined),
      10_000,
      200,
    ).catch(() => processesMentioning(mark));
    expect(left, 'processes left behind').to.deep.equal([]);
  });
});
