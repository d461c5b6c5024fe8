import { expect } from 'chai';
import { decideTarget, kubeconfigPath, type Probe } from '../../../scripts/target.js';

const path = '/home/me/.kube/config';
const server = 'https://api.example:6443';
const one: Probe = { kind: 'integrations', path, server, names: ['quay'] };
const none: Probe = { kind: 'integrations', path, server, names: [] };
const two: Probe = { kind: 'integrations', path, server, names: ['a', 'b'] };
const noCrd: Probe = { kind: 'no-crd', path, server };
const down: Probe = { kind: 'unreachable', path, server, error: 'connect ECONNREFUSED' };
const missing: Probe = { kind: 'no-kubeconfig', path };

describe('npm start: where the bridge runs', () => {
  it('runs against the cluster when it holds exactly one QuayIntegration', () => {
    const cluster = { mode: 'cluster', kubeconfigPath: path, server, integration: 'quay' };
    expect(decideTarget(undefined, one)).to.deep.equal(cluster);
    expect(decideTarget('cluster', one)).to.deep.equal(cluster);
  });

  it('--embedded never runs against a cluster, whatever the kubeconfig holds', () => {
    expect(decideTarget('embedded', one)).to.deep.equal({ mode: 'embedded' });
    expect(decideTarget('embedded', undefined)).to.deep.equal({ mode: 'embedded' });
  });

  it('with no kubeconfig, starts the embedded stack without a notice', () => {
    expect(decideTarget(undefined, missing)).to.deep.equal({ mode: 'embedded' });
  });

  for (const [probe, says] of [
    [none, 'has no QuayIntegration'],
    [two, 'has 2 QuayIntegrations (a, b); quay-bridge needs exactly one'],
    [noCrd, 'has no QuayIntegration resource'],
    [down, 'did not answer: connect ECONNREFUSED'],
  ] as const) {
    it(`a cluster that ${says}: the embedded stack with a notice saying so; --cluster refuses`, () => {
      const chosen = decideTarget(undefined, probe);
      expect(chosen.mode).to.equal('embedded');
      expect(chosen.mode === 'embedded' ? chosen.notice : '')
        .to.include(says)
        .and.include(server);
      const refused = decideTarget('cluster', probe);
      expect(refused.mode).to.equal('refuse');
      expect(refused.mode === 'refuse' ? refused.reason : '').to.include(says);
    });
  }

  it('--cluster with no kubeconfig refuses, naming the path it looked at', () => {
    const refused = decideTarget('cluster', missing);
    expect(refused).to.deep.equal({
      mode: 'refuse',
      reason: `cannot run against a cluster: there is no kubeconfig at ${path}.`,
    });
  });

  it('reads the first path of KUBECONFIG, else ~/.kube/config', () => {
    expect(kubeconfigPath({ KUBECONFIG: '/a:/b' })).to.equal('/a');
    expect(kubeconfigPath({ KUBECONFIG: ':/b' })).to.equal('/b');
    expect(kubeconfigPath({})).to.match(/\/\.kube\/config$/);
  });
});
