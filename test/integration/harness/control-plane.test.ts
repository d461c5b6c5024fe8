import { expect } from 'chai';
import { ApiextensionsV1Api, CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { sharedControlPlane } from '../../harness/index.js';

describe('the test control plane (real etcd + kube-apiserver + kube-controller-manager)', function () {
  this.timeout(180_000);

  it('reports the Kubernetes version that was built', async () => {
    const cp = await sharedControlPlane();
    const info = await cp.kubeConfig.makeApiClient(VersionApi).getCode();
    console.log(`      kube-apiserver /version: ${info.gitVersion} (${info.goVersion})`);
    expect(info.gitVersion).to.match(/^v1\.36\.\d+$/);
    expect(info.gitVersion).to.equal(cp.version);
  });

  it('serves the OpenShift, quay-bridge and Knative CRDs', async () => {
    const cp = await sharedControlPlane();
    const crds = await cp.kubeConfig.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    const names = crds.items.map((c) => c.metadata?.name);
    expect(names).to.include.members([
      'quayintegrations.quay.redhat.com',
      'apiserversources.sources.knative.dev',
      'brokers.eventing.knative.dev',
      'triggers.eventing.knative.dev',
      'pingsources.sources.knative.dev',
      'services.serving.knative.dev',
    ]);
  });

  it('runs the service-account controller of kube-controller-manager', async () => {
    const cp = await sharedControlPlane();
    const sa = await cp.kubeConfig
      .makeApiClient(CoreV1Api)
      .readNamespacedServiceAccount({ name: 'default', namespace: 'kube-system' });
    expect(sa.metadata?.name).to.equal('default');
  });
});
