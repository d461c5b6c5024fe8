// `npm start` with no cluster of one's own, as a new user runs it: the embedded stack comes up, the printed command
// creates a namespace, its organization appears in the printed Quay, and Ctrl-C (to the whole process group, as a
// terminal sends it) stops everything: "Stopped.", exit 0, no process and no control-plane directory left.
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubeRest } from '../../event-path/kube-rest.js';
import { processesMentioning } from '../../harness/processes.js';
import { embeddedStackOf, expectCleanStop, startNpmStart } from '../../support/npm-start.js';

describe('npm start with no cluster (the embedded stack)', function () {
  this.timeout(300_000);

  it('comes up, turns a new namespace into an organization, and stops cleanly on Ctrl-C', async () => {
    const start = startNpmStart();
    const { until } = start;
    try {
      await until('npm start to be running', () =>
        start.output().includes('Events handled') ? true : undefined,
      );
      expect(start.output()).not.to.include('Not running against a cluster'); // no kubeconfig: no notice
      const { kubeconfig, quay, token, logs, cpDir } = embeddedStackOf(start);

      // What the printed command does (kubectl create namespace demo), with the printed kubeconfig.
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      const created = await (
        await kubeRest(kc)
      ).request('POST', '/api/v1/namespaces', { metadata: { name: 'demo' } });
      expect(created.status, created.body).to.equal(201);
      await until('organization local_demo in the printed Quay', async () => {
        const a = await fetch(`${quay}/api/v1/organization/local_demo`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return a.status === 200 ? true : undefined;
      });
      // The robot Secret of the sample's clusterID: the install's RBAC was made for `local`, not the default.
      await until('Secret demo/builder-quay-local written by the ServiceAccount step', async () => {
        const a = await (
          await kubeRest(kc)
        ).request('GET', '/api/v1/namespaces/demo/secrets/builder-quay-local');
        return a.status === 200 ? true : undefined;
      });
      await start.printed('the handled event printed', /namespace\s+Namespace\s+demo\b/);
      expect(processesMentioning(cpDir).length, 'the control plane runs').to.be.greaterThan(2);
      await expectCleanStop(start, [cpDir, logs], [cpDir]);
    } finally {
      start.kill();
    }
  });
});
