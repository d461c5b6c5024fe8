// The Triggers of eventing/, as `kubectl apply -k knative` renders them: every event kind reaches exactly the step
// that handles it, and nothing else reaches any step.
import { expect } from 'chai';
import { CloudEvent } from 'cloudevents';
import { lookupIn } from '../../event-path/broker.js';
import { deliveryProblems } from '../../event-path/delivery.js';
import { routes, triggerFilterProblems } from '../../event-path/filters.js';
import { join } from 'node:path';
import { repoRoot } from '../../harness/control-plane.js';
import { readEventPath, refKey, renderInstall } from '../../event-path/manifests.js';

const install = readEventPath(renderInstall());

const apiServerEvent = (
  action: string,
  kind: string,
  apiversion: string,
  plural: string,
  namespace: string,
  mode: 'resource' | 'ref' = 'resource',
): CloudEvent<unknown> =>
  new CloudEvent<unknown>({
    id: `${kind}-${action}`,
    type: `dev.knative.apiserver.${mode}.${action}`,
    source: 'https://127.0.0.1:6443',
    subject: `/apis/${apiversion}/namespaces/${namespace}/${plural}/x`,
    datacontenttype: 'application/json',
    data: { apiVersion: apiversion, kind, metadata: { name: 'x' } },
    kind,
    apiversion,
    name: 'x',
    namespace,
  });

const ping = (source: string): CloudEvent<unknown> =>
  new CloudEvent<unknown>({
    id: 'tick',
    type: 'dev.knative.sources.ping',
    source,
    datacontenttype: 'application/json',
    data: { reason: 'schedule' },
  });

const subscribersOf = (event: CloudEvent<unknown>): string[] =>
  install.triggers
    .filter((t) => routes(t.filters, lookupIn(event)))
    .map((t) => ('ref' in t.subscriber ? t.subscriber.ref.name : t.subscriber.uri))
    .sort();

describe('the Triggers of eventing/ (rendered by kustomize)', () => {
  const kinds: readonly [string, string, string, string, string][] = [
    ['Namespace', 'v1', 'namespaces', '', 'quay-bridge-namespace'],
    ['ServiceAccount', 'v1', 'serviceaccounts', 'team-a', 'quay-bridge-service-account'],
    ['ImageStream', 'image.openshift.io/v1', 'imagestreams', 'team-a', 'quay-bridge-image-stream'],
    ['Build', 'build.openshift.io/v1', 'builds', 'team-a', 'quay-bridge-build'],
    ['QuayIntegration', 'quay.redhat.com/v1', 'quayintegrations', '', 'quay-bridge-resync'],
  ];

  for (const [kind, apiVersion, plural, namespace, step] of kinds)
    for (const action of ['add', 'update', 'delete'])
      it(`routes a ${kind} ${action} event to ${step} only`, () => {
        expect(subscribersOf(apiServerEvent(action, kind, apiVersion, plural, namespace))).to.deep.equal([
          step,
        ]);
      });

  it('routes the PingSource tick to the resync step only', () => {
    const [source] = install.pingSources;
    expect(source, 'a PingSource').to.not.equal(undefined);
    expect(subscribersOf(ping(source!.event.source))).to.deep.equal(['quay-bridge-resync']);
  });

  it('routes a ping from any other PingSource nowhere', () => {
    expect(subscribersOf(ping('/apis/v1/namespaces/elsewhere/pingsources/other'))).to.deep.equal([]);
  });

  it('routes Reference-mode events nowhere (the steps need the whole object)', () => {
    expect(subscribersOf(apiServerEvent('add', 'Namespace', 'v1', 'namespaces', '', 'ref'))).to.deep.equal(
      [],
    );
  });

  it('routes kinds nobody handles nowhere, even with a similar name', () => {
    expect(
      subscribersOf(apiServerEvent('add', 'BuildConfig', 'build.openshift.io/v1', 'buildconfigs', 'a')),
    ).to.deep.equal([]);
    expect(subscribersOf(apiServerEvent('add', 'Secret', 'v1', 'secrets', 'a'))).to.deep.equal([]);
    expect(subscribersOf(apiServerEvent('add', 'namespace', 'v1', 'namespaces', ''))).to.deep.equal([]);
  });

  it('routes events of other sources nowhere', () => {
    const other = new CloudEvent<unknown>({
      id: '1',
      type: 'com.example.thing',
      source: '/x',
      kind: 'Namespace',
    });
    expect(subscribersOf(other)).to.deep.equal([]);
  });

  it('has one Trigger per kind, all on the quay-bridge Broker, each with filters Knative accepts', () => {
    expect(install.triggers.map((t) => t.name).sort()).to.deep.equal([
      'quay-bridge-build',
      'quay-bridge-image-stream',
      'quay-bridge-namespace',
      'quay-bridge-quayintegration',
      'quay-bridge-resync-schedule',
      'quay-bridge-service-account',
    ]);
    for (const t of install.triggers) {
      expect(t.broker, t.name).to.equal('quay-bridge');
      expect(triggerFilterProblems(t.filters), t.name).to.deep.equal([]);
      expect(t.filters.filters, `${t.name} uses the filters dialect`).to.have.length.greaterThan(0);
    }
  });

  it('gives every Trigger retries with exponential back-off and a dead-letter sink Knative accepts', () => {
    for (const t of install.triggers) {
      const d = t.delivery;
      expect(d, t.name).to.not.equal(undefined);
      expect(deliveryProblems(d, `${t.name}.spec.delivery`)).to.deep.equal([]);
      expect(d?.retry, t.name).to.be.greaterThan(0);
      expect(d?.backoffPolicy, t.name).to.equal('exponential');
      expect(d?.backoffDelay, t.name).to.be.a('string');
      expect(d?.deadLetterSink, t.name).to.not.equal(undefined);
    }
  });

  it('points every subscriber and dead-letter sink at a Knative Service of the install', () => {
    const services = new Set(install.services.map((s) => `Service/${s.namespace}/${s.name}`));
    for (const t of install.triggers) {
      expect(services, `${t.name} subscriber`).to.include(refKey(t.subscriber, t.namespace));
      const dls = t.delivery?.deadLetterSink;
      expect(services, `${t.name} dead-letter sink`).to.include(
        dls === undefined ? '' : refKey(dls, t.namespace),
      );
    }
  });

  it('sinks the ApiServerSource and the PingSource into the Broker the Triggers read', () => {
    for (const s of [...install.apiServerSources, ...install.pingSources])
      expect(refKey(s.sink, s.namespace), s.name).to.equal('Broker/quay-bridge/quay-bridge');
    expect(install.brokers.map((b) => `${b.namespace}/${b.name}`)).to.deep.equal(['quay-bridge/quay-bridge']);
  });
});

describe('the optional robot-secrets source (eventing/robot-secrets, applied after the install)', () => {
  const withSecrets = readEventPath([
    ...renderInstall(),
    ...renderInstall(join(repoRoot, 'eventing', 'robot-secrets')),
  ]);
  const routed = (event: CloudEvent<unknown>): string[] =>
    withSecrets.triggers
      .filter((t) => routes(t.filters, lookupIn(event)))
      .map((t) => ('ref' in t.subscriber ? t.subscriber.ref.name : t.subscriber.uri))
      .sort();

  for (const action of ['update', 'delete'])
    it(`routes a robot Secret's ${action} reference to the service-account step only`, () => {
      expect(routed(apiServerEvent(action, 'Secret', 'v1', 'secrets', 'team-a', 'ref'))).to.deep.equal([
        'quay-bridge-service-account',
      ]);
    });

  it("routes a robot Secret's add reference nowhere: the step's own write, or the adapter's relist", () => {
    expect(routed(apiServerEvent('add', 'Secret', 'v1', 'secrets', 'team-a', 'ref'))).to.deep.equal([]);
  });

  it('routes a Secret resource event (which would carry a token) nowhere', () => {
    expect(routed(apiServerEvent('add', 'Secret', 'v1', 'secrets', 'team-a'))).to.deep.equal([]);
  });

  it("watches only Secrets labelled as quay-bridge's, in Reference mode, into the same Broker", () => {
    const source = withSecrets.apiServerSources.find((s) => s.name === 'quay-bridge-robot-secrets');
    expect(source?.adapterConfig([])).to.deep.include({
      mode: 'Reference',
      allNamespaces: true,
      resources: [
        {
          gvr: { Group: '', Version: 'v1', Resource: 'secrets' },
          selector: 'app.kubernetes.io/managed-by=quay-bridge',
        },
      ],
    });
    expect(refKey(source!.sink, source!.namespace)).to.equal('Broker/quay-bridge/quay-bridge');
  });
});
