// quay-bridge on plain Kubernetes: a control plane that serves no OpenShift API (no image.openshift.io, no
// build.openshift.io; test/crds is not installed), the Quay emulator, and the bridge as `npm start -- --cluster`
// runs it (scripts/cluster.ts: every step as its own process, the broker stand-in with eventing/'s Triggers,
// Knative's real receive adapter watching what the cluster serves). A whole lifecycle: what existed before the
// start, what comes after, a namespace deleted while the bridge was stopped, and the OpenShift APIs installed
// later. No event may be dead-lettered. Also Knative's real adapter against the install's own ApiServerSources.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { startClusterBridge, type ClusterBridge } from '../../../scripts/cluster.js';
import { robotSecretName } from '../../../shared/names.js';
import { startAdapter } from '../../event-path/adapter.js';
import { applyInstallOrThrow, serviceAccountKubeconfig } from '../../event-path/install.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import { readEventPath, renderInstall } from '../../event-path/manifests.js';
import {
  installCrds,
  openshiftCrdFiles,
  readCrds,
  repoRoot,
  startPlainControlPlane,
  type ControlPlane,
} from '../../harness/index.js';
import { isAlive } from '../../harness/processes.js';
import { eventually } from '../../openshift-standin/wait.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';

const CLUSTER_ID = 'plain';
const FINALIZER = 'quay.redhat.com/quayintegrations';
const org = (ns: string): string => `${CLUSTER_ID}_${ns}`;

interface Account {
  readonly secrets?: readonly { name: string }[];
  readonly imagePullSecrets?: readonly { name: string }[];
}
interface Part {
  readonly name: string;
  readonly active: boolean;
  readonly message: string;
}

describe('quay-bridge on plain Kubernetes (no OpenShift APIs; real API server, real receive adapter)', function () {
  this.timeout(300_000);
  let cp: ControlPlane | undefined;
  let rest: KubeRest;
  let quay: QuayEmulator | undefined;
  let bridge: ClusterBridge | undefined;
  const pids: number[] = [];
  const deadLetters: unknown[] = [];
  const logs = (): string =>
    bridge === undefined
      ? ''
      : [...bridge.services.values(), ...bridge.adapters.values()]
          .map((p) => `--- ${'name' in p ? p.name : p.logFile}\n${p.log(15)}`)
          .join('\n');
  const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> =>
    eventually(what, () => Promise.resolve(probe()), 120_000, 200).catch((e: unknown) => {
      throw new Error(
        `${String(e)}\n${logs()}\ndead letters: ${JSON.stringify(bridge?.broker.deadLetters().map((d) => [d.trigger, d.event.subject, d.status, d.body]))}`,
      );
    });
  const ok = async <T = unknown>(
    what: string,
    p: Promise<{ status: number; body: string; json: unknown }>,
  ): Promise<T> => {
    const a = await p;
    if (a.status >= 300) throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 400)}`);
    return a.json as T;
  };
  const get = async <T>(path: string): Promise<T | undefined> => {
    const a = await rest.request('GET', path);
    return a.status === 200 ? (a.json as T) : undefined;
  };
  const state = () => {
    if (quay === undefined) throw new Error('no Quay');
    return quay.state();
  };
  const startBridge = async (): Promise<ClusterBridge> => {
    if (cp === undefined) throw new Error('no control plane');
    // Its logs in the control plane's directory, removed with it.
    const b = await startClusterBridge({
      kubeconfigPath: cp.kubeconfigPath,
      logDir: mkdtempSync(join(cp.dir, 'bridge-')),
    });
    bridge = b;
    pids.push(...b.pids());
    return b;
  };
  const stopBridge = async (): Promise<void> => {
    const b = bridge;
    if (b === undefined) return;
    deadLetters.push(...b.broker.deadLetters().map((d) => [d.trigger, d.event.subject, d.status, d.body]));
    pids.push(...b.pids());
    bridge = undefined;
    await b.stop();
  };
  const createNamespace = (name: string) =>
    ok(`namespace ${name}`, rest.request('POST', '/api/v1/namespaces', { metadata: { name } }));
  const createServiceAccount = (namespace: string, name: string) =>
    ok(
      `ServiceAccount ${namespace}/${name}`,
      rest.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name } }),
    );
  /** The robot of `sa` with its default permission, and its Secret linked for pulls (and mounts). */
  const provisioned = async (namespace: string, sa: string, role: 'read' | 'write'): Promise<void> => {
    const robot = `${org(namespace)}+${sa}`;
    await until(`robot ${robot}`, () => state().robots.find((r) => r.name === robot));
    await until(`${robot}'s default permission`, () =>
      state().prototypes.find(
        (p) => p.org === org(namespace) && p.delegate.name === robot && p.role === role,
      ),
    );
    const secretName = robotSecretName(sa, CLUSTER_ID);
    await until(`${namespace}/${sa} linked to ${secretName}`, async () => {
      const account = await get<Account>(`/api/v1/namespaces/${namespace}/serviceaccounts/${sa}`);
      return account?.imagePullSecrets?.some((s) => s.name === secretName) === true &&
        account.secrets?.some((s) => s.name === secretName) === true
        ? true
        : undefined;
    });
    const secret = await get<{ type: string }>(`/api/v1/namespaces/${namespace}/secrets/${secretName}`);
    expect(secret?.type).to.equal('kubernetes.io/dockerconfigjson');
  };
  const parts = async (): Promise<readonly Part[]> =>
    (await get<{ status?: { parts?: Part[] } }>('/apis/quay.redhat.com/v1/quayintegrations/plain'))?.status
      ?.parts ?? [];

  before(async () => {
    cp = await startPlainControlPlane();
    rest = await kubeRest(cp.kubeConfig);
    quay = await startQuayEmulator({});
    for (const group of ['image.openshift.io', 'build.openshift.io'])
      expect((await rest.request('GET', `/apis/${group}/v1`)).status, group).to.equal(404);
    await createNamespace('quay-bridge');
    await ok(
      'the token Secret',
      rest.createOrReplace({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'quay-integration', namespace: 'quay-bridge' },
        stringData: { token: quay.adminToken },
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
          quayHostname: quay.url,
          credentialsSecret: { namespace: 'quay-bridge', name: 'quay-integration' },
          insecureRegistry: true,
          denylistNamespaces: ['quay-bridge'],
          additionalServiceAccounts: [{ name: 'ci', role: 'write' }],
        },
      }),
    );
    // There before the bridge: no event will ever say so.
    await createNamespace('early');
    await createServiceAccount('early', 'ci');
    await until('kube-controller-manager’s default ServiceAccount in early', () =>
      get('/api/v1/namespaces/early/serviceaccounts/default'),
    );
  });

  after(async function () {
    this.timeout(120_000);
    await stopBridge().catch(() => undefined);
    await quay?.close().catch(() => undefined);
    await cp?.stop();
    const alive = pids.filter(isAlive);
    if (alive.length > 0) throw new Error(`the bridge left processes running: ${alive.join(', ')}`);
  });

  describe('Knative’s receive adapter and the install’s ApiServerSources', () => {
    let adapterKubeconfig = '';
    const sourceOf = (dir: string) => {
      const [source] = readEventPath(renderInstall(dir)).apiServerSources;
      if (source === undefined) throw new Error(`${dir}: no ApiServerSource`);
      return source;
    };
    const run = (dir: string) => {
      const source = sourceOf(dir);
      return startAdapter({
        config: source.adapterConfig(['early']),
        name: source.name,
        namespace: source.namespace,
        // Nothing is delivered in these tests: the adapter only has to start (or not).
        sink: 'http://127.0.0.1:9',
        kubeconfigPath: adapterKubeconfig,
        logFile: join(cp?.dir ?? '', `adapter-${source.name}-${dir.split('/').pop() ?? ''}.log`),
      });
    };

    before(async () => {
      if (cp === undefined) throw new Error('no control plane');
      // The plain-Kubernetes install, as `kubectl apply -k knative/cert-manager` makes it (cert-manager's own kinds
      // are not served here; the webhook registration only as a dry run), and its source's ServiceAccount.
      await applyInstallOrThrow(
        cp.kubeConfig,
        renderInstall(join(repoRoot, 'knative', 'cert-manager')).filter(
          (o) => o.apiVersion !== 'cert-manager.io/v1',
        ),
      );
      const source = sourceOf(join(repoRoot, 'knative', 'cert-manager'));
      adapterKubeconfig = (
        await serviceAccountKubeconfig(
          cp.kubeConfig,
          rest,
          source.namespace,
          source.serviceAccountName,
          cp.dir,
        )
      ).kubeconfigPath;
    });

    it('does not start with the OpenShift install’s source: its discovery of image.openshift.io/v1 fails', async () => {
      const error = await run(join(repoRoot, 'knative')).then(
        async (a) => {
          await a.stop();
          return undefined;
        },
        (e: unknown) => String(e),
      );
      expect(error).to.match(/the receive adapter exited/);
      expect(error).to.match(/failed to collect resource matches.*image\.openshift\.io\/v1/);
    });

    it('starts with knative/cert-manager’s source, under its ServiceAccount’s RBAC', async () => {
      const a = await run(join(repoRoot, 'knative', 'cert-manager'));
      expect(a.exited()).to.equal(false);
      await a.stop();
    });
  });

  describe('a whole lifecycle', () => {
    it('syncs at start the namespaces that existed: organization, finalizer, default (read) and ci (write) robots with linked Secrets', async () => {
      const b = await startBridge();
      expect([...b.unserved].sort()).to.deep.equal([
        'builds.build.openshift.io',
        'imagestreams.image.openshift.io',
      ]);
      await until(`organization ${org('early')}`, () =>
        state().organizations.find((o) => o.name === org('early')),
      );
      const ns = await get<{ metadata: { finalizers?: string[] } }>('/api/v1/namespaces/early');
      expect(ns?.metadata.finalizers).to.include(FINALIZER);
      await provisioned('early', 'default', 'read');
      await provisioned('early', 'ci', 'write');
    });

    it('gives no robot to builder and deployer, which plain Kubernetes does not create', () => {
      expect(
        state()
          .robots.map((r) => r.name)
          .filter((n) => n.startsWith(`${org('early')}+`))
          .sort(),
      ).to.deep.equal([`${org('early')}+ci`, `${org('early')}+default`]);
    });

    it('says in the QuayIntegration’s status which parts are active, beside its conditions', async () => {
      const written = await until('status.parts', async () => {
        const p = await parts();
        return p.length > 0 ? p : undefined;
      });
      expect(written.map((p) => [p.name, p.active])).to.deep.equal([
        ['Namespaces', true],
        ['ServiceAccounts', true],
        ['ImageStreams', false],
        ['Builds', false],
      ]);
      const qi = await get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        '/apis/quay.redhat.com/v1/quayintegrations/plain',
      );
      expect(qi?.status?.conditions?.map((c) => [c.type, c.status])).to.deep.equal([
        ['Ready', 'True'],
        ['CredentialsValid', 'True'],
        ['QuayReachable', 'True'],
        ['OrganizationsOwned', 'True'],
      ]);
    });

    it('follows a new namespace through the events: its organization, default robot and an additional ServiceAccount’s write robot', async () => {
      await createNamespace('late');
      await until(`organization ${org('late')}`, () =>
        state().organizations.find((o) => o.name === org('late')),
      );
      await provisioned('late', 'default', 'read');
      await createServiceAccount('late', 'ci');
      await provisioned('late', 'ci', 'write');
    });

    it('lets a Pod pull and a CI job push with the robots, in a repository created in Quay', async () => {
      if (quay === undefined) throw new Error('no Quay');
      // Nothing creates repositories without ImageStreams: someone does, in Quay; the default permissions apply.
      const created = await fetch(`${quay.url}/api/v1/repository`, {
        method: 'POST',
        headers: { authorization: `Bearer ${quay.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          namespace: org('late'),
          repository: 'app',
          visibility: 'private',
          description: '',
        }),
      });
      expect(created.status).to.equal(201);
      const granted = async (sa: string): Promise<string[]> => {
        const secret = await get<{ data: Record<string, string> }>(
          `/api/v1/namespaces/late/secrets/${robotSecretName(sa, CLUSTER_ID)}`,
        );
        const config = JSON.parse(
          Buffer.from(secret?.data['.dockerconfigjson'] ?? '', 'base64').toString(),
        ) as {
          auths: Record<string, { auth: string }>;
        };
        const auth = config.auths[quay?.registryHost ?? '']?.auth ?? '';
        const answer = await fetch(
          `${quay?.url ?? ''}/v2/auth?service=${quay?.registryHost ?? ''}&scope=repository:${org('late')}/app:pull,push`,
          { headers: { authorization: `Basic ${auth}` } },
        );
        expect(answer.status, sa).to.equal(200);
        const { token } = (await answer.json()) as { token: string };
        const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
          access: { actions: string[] }[];
        };
        return claims.access.flatMap((a) => a.actions).sort();
      };
      expect(await granted('default'), 'a Pod of the default ServiceAccount').to.deep.equal(['pull']);
      expect(await granted('ci'), 'a CI job running as ci').to.deep.equal(['pull', 'push']);
    });

    it('finalizes a namespace deleted while the bridge was stopped, once it runs again', async () => {
      await stopBridge();
      await ok('delete namespace early', rest.request('DELETE', '/api/v1/namespaces/early'));
      const held = await get<{ metadata: { deletionTimestamp?: string; finalizers?: string[] } }>(
        '/api/v1/namespaces/early',
      );
      expect(held?.metadata.deletionTimestamp, 'Terminating').to.be.a('string');
      expect(held?.metadata.finalizers).to.include(FINALIZER);
      await startBridge();
      await until(`organization ${org('early')} deleted`, () =>
        state().organizations.some((o) => o.name === org('early')) ? undefined : true,
      );
      await until('namespace early gone', async () =>
        (await rest.request('GET', '/api/v1/namespaces/early')).status === 404 ? true : undefined,
      );
    });

    it('picks up the OpenShift APIs installed after it started: the resync and then the events', async () => {
      const b = bridge;
      if (b === undefined || cp === undefined) throw new Error('no bridge');
      await installCrds(cp.kubeConfig, readCrds(openshiftCrdFiles()));
      await ok(
        'ImageStream late/web',
        rest.request('POST', '/apis/image.openshift.io/v1/namespaces/late/imagestreams', {
          apiVersion: 'image.openshift.io/v1',
          kind: 'ImageStream',
          metadata: { name: 'web' },
        }),
      );
      await b.ping();
      expect(b.watched()).to.include('imagestreams.image.openshift.io');
      const robots = (repo: string) => () => {
        const r = state().repositories.find((x) => x.namespace === org('late') && x.name === repo);
        return r?.userPermissions[`${org('late')}+ci`] === 'write' &&
          r.userPermissions[`${org('late')}+default`] === 'read'
          ? r
          : undefined;
      };
      await until('repository late/web with the robots’ permissions (the resync)', robots('web'));
      const active = await until('status.parts: ImageStreams active', async () => {
        const p = await parts();
        return p.find((x) => x.name === 'ImageStreams')?.active === true ? p : undefined;
      });
      expect(active.map((p) => [p.name, p.active])).to.deep.equal([
        ['Namespaces', true],
        ['ServiceAccounts', true],
        ['ImageStreams', true],
        ['Builds', true],
      ]);
      // From now on the receive adapter watches ImageStreams: no resync needed for this one.
      await ok(
        'ImageStream late/api',
        rest.request('POST', '/apis/image.openshift.io/v1/namespaces/late/imagestreams', {
          apiVersion: 'image.openshift.io/v1',
          kind: 'ImageStream',
          metadata: { name: 'api' },
        }),
      );
      await until('repository late/api (its event)', robots('api'));
    });

    it('dead-lettered no event', async () => {
      await bridge?.broker.idle();
      await stopBridge();
      expect(deadLetters).to.deep.equal([]);
    });
  });
});
