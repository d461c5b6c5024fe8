// Knative's real ApiServerSource receive adapter, configured from eventing/'s ApiServerSource and running with its
// ServiceAccount's token, against the real kube-apiserver, sinking into the broker stand-in whose Triggers (from
// eventing/) route to recording subscribers: every kind arrives at its own subscriber, in the shape docs/design.md#event-delivery
// describes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { isPortFree } from '../../harness/ports.js';
import { sharedControlPlane, type ControlPlane } from '../../harness/index.js';
import { eventually } from '../../openshift-standin/wait.js';
import { ADAPTER_PROBE_PORT, startAdapter, type Adapter } from '../../event-path/adapter.js';
import { startBroker, type BrokerStandIn } from '../../event-path/broker.js';
import { applyInstallOrThrow, serviceAccountKubeconfig } from '../../event-path/install.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import { readEventPath, refKey, renderInstall } from '../../event-path/manifests.js';

interface Seen {
  readonly headers: http.IncomingHttpHeaders;
  readonly data: {
    metadata: {
      name: string;
      namespace?: string;
      labels?: Record<string, string>;
      deletionTimestamp?: string;
    };
  };
}

const recorder = async () => {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ headers: req.headers, data: JSON.parse(body) as Seen['data'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => {
          r();
        });
        server.closeAllConnections();
      }),
  };
};

describe('the real ApiServerSource receive adapter, configured from eventing/', function () {
  this.timeout(180_000);
  const suffix = Date.now().toString(36);
  const ns = `ap-${suffix}`;
  const qi = `ap-${suffix}`;
  const install = readEventPath(renderInstall());
  const recorders = new Map<string, Awaited<ReturnType<typeof recorder>>>();
  let cp: ControlPlane;
  let rest: KubeRest;
  let broker: BrokerStandIn;
  let adapter: Adapter | undefined;
  let dir: string;
  let probePortWasFree = false;

  const ok = async (what: string, p: Promise<{ status: number; body: string }>): Promise<void> => {
    const a = await p;
    if (a.status >= 300) throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 300)}`);
  };
  const eventsAt = (service: string, name: string, type?: string): Seen[] =>
    (recorders.get(service)?.seen ?? []).filter(
      (s) => s.headers['ce-name'] === name && (type === undefined || s.headers['ce-type'] === type),
    );
  const arrival = (
    what: string,
    service: string,
    name: string,
    type: string,
    test: (s: Seen) => boolean = () => true,
  ) => eventually(what, () => Promise.resolve(eventsAt(service, name, type).find(test)), 60_000);

  before(async () => {
    cp = await sharedControlPlane();
    rest = await kubeRest(cp.kubeConfig);
    dir = mkdtempSync(join(tmpdir(), 'adapter-test-'));
    await applyInstallOrThrow(cp.kubeConfig, renderInstall());
    for (const s of install.services) recorders.set(s.name, await recorder());
    const [b] = install.brokers;
    broker = await startBroker({
      name: b!.name,
      namespace: b!.namespace,
      triggers: install.triggers,
      resolve: (d, namespace) => {
        const service = install.services.find(
          (s) => refKey(d, namespace) === `Service/${s.namespace}/${s.name}`,
        );
        return service === undefined ? undefined : recorders.get(service.name)?.url;
      },
    });
    const [source] = install.apiServerSources;
    const creds = await serviceAccountKubeconfig(
      cp.kubeConfig,
      rest,
      source!.namespace,
      source!.serviceAccountName,
      dir,
    );
    probePortWasFree = await isPortFree(ADAPTER_PROBE_PORT);
    adapter = await startAdapter({
      config: source!.adapterConfig([]),
      name: source!.name,
      namespace: source!.namespace,
      sink: broker.url,
      kubeconfigPath: creds.kubeconfigPath,
      logFile: join(dir, 'adapter.log'),
    });
  });

  after(async () => {
    await adapter?.stop();
    await broker.close();
    for (const r of recorders.values()) await r.close();
    await rest.request('DELETE', `/apis/quay.redhat.com/v1/quayintegrations/${qi}`);
    await rest.request('DELETE', `/api/v1/namespaces/${ns}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a Namespace add to the namespace step, in the shape of docs/design.md#event-delivery', async () => {
    await ok('create namespace', rest.request('POST', '/api/v1/namespaces', { metadata: { name: ns } }));
    const e = await arrival(
      'the namespace add',
      'quay-bridge-namespace',
      ns,
      'dev.knative.apiserver.resource.add',
    );
    expect(e.headers['ce-specversion']).to.equal('1.0');
    expect(e.headers['ce-source']).to.equal(cp.serverUrl);
    expect(e.headers['ce-subject']).to.equal(`/apis/v1/namespaces//namespaces/${ns}`);
    expect([e.headers['ce-kind'], e.headers['ce-apiversion'], e.headers['ce-namespace']]).to.deep.equal([
      'Namespace',
      'v1',
      '',
    ]);
    expect(e.headers['content-type']).to.equal('application/json');
    expect(e.data.metadata.name).to.equal(ns);
  });

  it('sends ServiceAccount add and update events (the new state) to the service-account step', async () => {
    await ok(
      'create SA',
      rest.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'robot' } }),
    );
    const add = await arrival(
      'the SA add',
      'quay-bridge-service-account',
      'robot',
      'dev.knative.apiserver.resource.add',
    );
    expect(add.headers['ce-subject']).to.equal(`/apis/v1/namespaces/${ns}/serviceaccounts/robot`);
    expect(add.headers['ce-namespace']).to.equal(ns);
    await ok(
      'label SA',
      rest.request(
        'PATCH',
        `/api/v1/namespaces/${ns}/serviceaccounts/robot`,
        { metadata: { labels: { x: 'y' } } },
        'application/merge-patch+json',
      ),
    );
    const update = await arrival(
      'the SA update',
      'quay-bridge-service-account',
      'robot',
      'dev.knative.apiserver.resource.update',
      (s) => s.data.metadata.labels?.x === 'y',
    );
    expect(update.headers['ce-namespace']).to.equal(ns);
  });

  it('sends ImageStream add and delete events (the last state) to the image-stream step', async () => {
    const path = `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreams`;
    await ok(
      'create IS',
      rest.request('POST', path, {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStream',
        metadata: { name: 'app' },
      }),
    );
    const add = await arrival(
      'the IS add',
      'quay-bridge-image-stream',
      'app',
      'dev.knative.apiserver.resource.add',
    );
    expect(add.headers['ce-subject']).to.equal(
      `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreams/app`,
    );
    expect(add.headers['ce-apiversion']).to.equal('image.openshift.io/v1');
    await ok('delete IS', rest.request('DELETE', `${path}/app`));
    const del = await arrival(
      'the IS delete',
      'quay-bridge-image-stream',
      'app',
      'dev.knative.apiserver.resource.delete',
    );
    expect(del.data.metadata.name).to.equal('app');
  });

  it('sends Build events to the build step', async () => {
    await ok(
      'create Build',
      rest.request('POST', `/apis/build.openshift.io/v1/namespaces/${ns}/builds`, {
        apiVersion: 'build.openshift.io/v1',
        kind: 'Build',
        metadata: { name: 'app-1' },
        spec: {
          strategy: { type: 'Docker', dockerStrategy: {} },
          output: { to: { kind: 'DockerImage', name: 'example.com/x/app:1' } },
        },
      }),
    );
    const add = await arrival(
      'the Build add',
      'quay-bridge-build',
      'app-1',
      'dev.knative.apiserver.resource.add',
    );
    expect(add.headers['ce-kind']).to.equal('Build');
    expect(add.headers['ce-apiversion']).to.equal('build.openshift.io/v1');
  });

  it('sends QuayIntegration events to the resync step', async () => {
    await ok(
      'create QuayIntegration',
      rest.request('POST', '/apis/quay.redhat.com/v1/quayintegrations', {
        apiVersion: 'quay.redhat.com/v1',
        kind: 'QuayIntegration',
        metadata: { name: qi },
        spec: { quayHostname: 'https://quay.invalid', credentialsSecret: { namespace: ns, name: 'nope' } },
      }),
    );
    const add = await arrival('the QI add', 'quay-bridge-resync', qi, 'dev.knative.apiserver.resource.add');
    expect(add.headers['ce-subject']).to.equal(`/apis/quay.redhat.com/v1/namespaces//quayintegrations/${qi}`);
    await ok(
      'delete QuayIntegration',
      rest.request('DELETE', `/apis/quay.redhat.com/v1/quayintegrations/${qi}`),
    );
    await arrival('the QI delete', 'quay-bridge-resync', qi, 'dev.knative.apiserver.resource.delete');
  });

  it('sends a terminating namespace as an update with deletionTimestamp, then its delete', async () => {
    await ok('delete namespace', rest.request('DELETE', `/api/v1/namespaces/${ns}`));
    await arrival(
      'the terminating update',
      'quay-bridge-namespace',
      ns,
      'dev.knative.apiserver.resource.update',
      (s) => s.data.metadata.deletionTimestamp !== undefined,
    );
    await arrival(
      'the namespace delete',
      'quay-bridge-namespace',
      ns,
      'dev.knative.apiserver.resource.delete',
    );
  });

  it('routed nothing of ours to a step of another kind, and nothing to the dead-letter sink', () => {
    const ours = (s: Seen): boolean =>
      [ns, 'robot', 'app', 'app-1', qi].includes(String(s.headers['ce-name']));
    const kindsAt = (service: string): string[] => [
      ...new Set((recorders.get(service)?.seen ?? []).filter(ours).map((s) => String(s.headers['ce-kind']))),
    ];
    expect(kindsAt('quay-bridge-namespace')).to.deep.equal(['Namespace']);
    expect(kindsAt('quay-bridge-service-account')).to.deep.equal(['ServiceAccount']);
    expect(kindsAt('quay-bridge-image-stream')).to.deep.equal(['ImageStream']);
    expect(kindsAt('quay-bridge-build')).to.deep.equal(['Build']);
    expect(kindsAt('quay-bridge-resync')).to.deep.equal(['QuayIntegration']);
    expect(recorders.get('quay-bridge-dead-letter')?.seen.filter(ours)).to.deep.equal([]);
    expect(broker.deadLetters()).to.deep.equal([]);
  });

  it('left :8080 to others (the adapter does not need its probe port)', async function () {
    if (!probePortWasFree) this.skip();
    expect(adapter?.exited()).to.be.false;
    expect(await isPortFree(ADAPTER_PROBE_PORT)).to.be.true;
  });
});
