import { expect } from 'chai';
import {
  guessResource,
  readApiServerSource,
  readEventPath,
  renderInstall,
  selectorString,
} from '../../event-path/manifests.js';
import type { KubeObject } from '../../event-path/kustomize.js';

const install = readEventPath(renderInstall());

const source = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'sources.knative.dev/v1',
  kind: 'ApiServerSource',
  metadata: { name: 's', namespace: 'home' },
  spec: { sink: { uri: 'http://x' }, resources: [{ apiVersion: 'v1', kind: 'Pod' }], ...spec },
});

describe('reading the manifests for the event path', () => {
  describe("the receive adapter's K_SOURCE_CONFIG, as Knative's reconciler derives it", () => {
    it('watches the five kinds cluster-wide in Resource mode for the quay-bridge source', () => {
      const [s] = install.apiServerSources;
      expect(s?.serviceAccountName).to.equal('quay-bridge-source');
      expect(s?.adapterConfig(['b', 'a'])).to.deep.equal({
        namespaces: ['a', 'b'],
        allNamespaces: true,
        mode: 'Resource',
        resources: [
          { gvr: { Group: '', Version: 'v1', Resource: 'namespaces' } },
          { gvr: { Group: '', Version: 'v1', Resource: 'serviceaccounts' } },
          { gvr: { Group: 'image.openshift.io', Version: 'v1', Resource: 'imagestreams' } },
          { gvr: { Group: 'build.openshift.io', Version: 'v1', Resource: 'builds' } },
          { gvr: { Group: 'quay.redhat.com', Version: 'v1', Resource: 'quayintegrations' } },
        ],
      });
    });

    it("watches only the source's namespace without a namespaceSelector, and defaults to Reference mode", () => {
      expect(readApiServerSource(source({})).adapterConfig(['x'])).to.deep.include({
        namespaces: ['home'],
        allNamespaces: false,
        mode: 'Reference',
      });
    });

    it('passes label selectors in their string form', () => {
      const s = readApiServerSource(
        source({
          resources: [
            {
              apiVersion: 'v1',
              kind: 'Pod',
              selector: {
                matchLabels: { b: '2', a: '1' },
                matchExpressions: [
                  { key: 'env', operator: 'In', values: ['prod', 'dev'] },
                  { key: 'gone', operator: 'DoesNotExist' },
                ],
              },
            },
          ],
        }),
      );
      expect(s.adapterConfig([]).resources[0]?.selector).to.equal('!gone,a=1,b=2,env in (dev,prod)');
    });

    it('refuses a non-empty namespaceSelector (it needs the cluster to resolve)', () => {
      expect(() => readApiServerSource(source({ namespaceSelector: { matchLabels: { a: 'b' } } }))).to.throw(
        /only an absent or empty namespaceSelector/,
      );
    });

    const plurals: readonly [string, string][] = [
      ['Namespace', 'namespaces'],
      ['ServiceAccount', 'serviceaccounts'],
      ['ImageStream', 'imagestreams'],
      ['Build', 'builds'],
      ['QuayIntegration', 'quayintegrations'],
      ['Ingress', 'ingresses'],
      ['NetworkPolicy', 'networkpolicies'],
    ];
    for (const [kind, plural] of plurals)
      it(`guesses ${kind} → ${plural}`, () => {
        expect(guessResource(kind)).to.equal(plural);
      });

    it('formats Exists and NotIn', () => {
      expect(
        selectorString({
          matchExpressions: [
            { key: 'k', operator: 'Exists' },
            { key: 'z', operator: 'NotIn', values: ['b', 'a'] },
          ],
        }),
      ).to.equal('k,z notin (a,b)');
    });
  });

  it("makes the PingSource's event: type, source path, content type and data", () => {
    expect(install.pingSources.map((p) => p.event)).to.deep.equal([
      {
        type: 'dev.knative.sources.ping',
        source: '/apis/v1/namespaces/quay-bridge/pingsources/quay-bridge-resync',
        datacontenttype: 'application/json',
        data: '{"reason":"schedule"}',
      },
    ]);
  });

  it('reads one Knative Service per step, each with its step, its own ServiceAccount, and scale to zero', () => {
    const steps = install.services.filter((s) => s.env.QUAY_BRIDGE_STEP !== undefined);
    expect(steps.map((s) => [s.name, s.env.QUAY_BRIDGE_STEP, s.serviceAccountName])).to.deep.include.members([
      ['quay-bridge-namespace', 'namespace', 'quay-bridge-namespace'],
      ['quay-bridge-service-account', 'service-account', 'quay-bridge-service-account'],
      ['quay-bridge-image-stream', 'image-stream', 'quay-bridge-image-stream'],
      ['quay-bridge-build', 'build', 'quay-bridge-build'],
      ['quay-bridge-resync', 'resync', 'quay-bridge-resync'],
      ['quay-bridge-dead-letter', 'dead-letter', 'quay-bridge-dead-letter'],
    ]);
    for (const s of steps) {
      expect(s.annotations['autoscaling.knative.dev/min-scale'], s.name).to.equal('0');
      expect(s.image, s.name).to.equal(steps[0]?.image);
    }
  });
});
