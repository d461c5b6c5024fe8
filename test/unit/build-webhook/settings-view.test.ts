import { expect } from 'chai';
import { viewOf } from '../../../functions/build-webhook/settings-cache.js';

const qi = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'quay.redhat.com/v1',
  kind: 'QuayIntegration',
  metadata: { name, resourceVersion: '1' },
  spec: {
    clusterID: 'openshift',
    quayHostname: 'https://quay.example.com',
    credentialsSecret: { namespace: 'quay-bridge', name: 'quay-token' },
    ...spec,
  },
});

describe('build webhook: the settings it acts on', () => {
  it('is unconfigured without a QuayIntegration', () => {
    expect(viewOf([])).to.deep.equal({ _tag: 'Unconfigured', reason: 'no QuayIntegration exists' });
  });

  it('is unconfigured with several, as QBO', () => {
    expect(viewOf([qi('a'), qi('b')])).to.deep.equal({
      _tag: 'Unconfigured',
      reason: '2 QuayIntegrations exist; exactly one is supported',
    });
  });

  it('is ready with exactly one usable QuayIntegration', () => {
    const v = viewOf([qi('quay')]);
    expect(v._tag).to.equal('Ready');
    if (v._tag === 'Ready') expect(v.settings.quay.registryHost).to.equal('quay.example.com');
  });

  it('is invalid, keeping the namespace lists, when the spec decodes but cannot be used', () => {
    expect(
      viewOf([qi('quay', { quayHostname: 'https://quay.example.com/path', denylistNamespaces: ['x'] })]),
    ).to.deep.equal({
      _tag: 'Invalid',
      message:
        'QuayIntegration quay: spec.quayHostname "https://quay.example.com/path" must be scheme://host[:port] with no path, query or credentials',
      lists: { allowlistNamespaces: [], denylistNamespaces: ['x'] },
    });
  });

  it('is invalid without lists when the object does not decode', () => {
    const v = viewOf([{ ...qi('quay'), spec: { quayHostname: 42 } }]);
    expect(v._tag).to.equal('Invalid');
    if (v._tag === 'Invalid') {
      expect(v.lists).to.equal(undefined);
      expect(v.message).to.match(/^QuayIntegration does not decode: /);
    }
  });
});
