// Least privilege, asked of the real authorizer: after the install is created, a SubjectAccessReview per
// ServiceAccount says each step can do what its job needs and nothing next to it. The end-to-end test then runs
// every step and the receive adapter with tokens of these ServiceAccounts, which proves the "can" side in use.
import { expect } from 'chai';
import { join } from 'node:path';
import { repoRoot, sharedControlPlane } from '../../harness/index.js';
import { applyInstallOrThrow, canServiceAccount, type Access } from '../../event-path/install.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import { renderInstall } from '../../event-path/manifests.js';

const core = (verb: string, resource: string, namespace?: string, name?: string): Access => ({
  verb,
  group: '',
  resource,
  ...(namespace === undefined ? {} : { namespace }),
  ...(name === undefined ? {} : { name }),
});
const grp =
  (group: string) =>
  (verb: string, resource: string, namespace?: string, name?: string, subresource?: string): Access => ({
    verb,
    group,
    resource,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(subresource === undefined ? {} : { subresource }),
  });
const image = grp('image.openshift.io');
const build = grp('build.openshift.io');
const quay = grp('quay.redhat.com');
const rbac = grp('rbac.authorization.k8s.io');

const TOKEN = core('get', 'secrets', 'quay-bridge', 'quay-integration');
/** The robot Secrets of clusterID `openshift`, knative/base/robot-secrets.yaml's default. */
const ROBOT_SECRETS = ['builder', 'default', 'deployer'].map((sa) => `${sa}-quay-openshift`);
/** Secrets no step may touch: every verb on a name that is not a robot's, unnamed create, list and watch. */
const NOT_OURS: readonly Access[] = [
  ...['get', 'patch', 'delete', 'update', 'create'].flatMap((v) => [
    core(v, 'secrets', 'team-a', 'other'),
    core(v, 'secrets', 'kube-system', 'builder-quay-openshift-x'),
  ]),
  core('get', 'secrets', 'team-a', 'builder-quay-local'),
  core('update', 'secrets', 'team-a', 'builder-quay-openshift'),
  core('create', 'secrets', 'team-a'),
  core('list', 'secrets'),
  core('list', 'secrets', 'team-a'),
  core('watch', 'secrets', 'team-a'),
];

const describeAccess = (a: Access): string =>
  `${a.verb} ${a.group === '' ? '' : `${a.group}/`}${a.resource}${a.subresource === undefined ? '' : `/${a.subresource}`}` +
  `${a.namespace === undefined ? '' : ` in ${a.namespace}`}${a.name === undefined ? '' : ` named ${a.name}`}`;

/** What each ServiceAccount may and may not do: the contract the ClusterRoles of knative/base implement. */
const matrix: Record<string, { readonly can: readonly Access[]; readonly cannot: readonly Access[] }> = {
  'quay-bridge-namespace': {
    can: [
      core('get', 'namespaces', undefined, 'team-a'),
      core('patch', 'namespaces', undefined, 'team-a'),
      quay('list', 'quayintegrations'),
      TOKEN,
    ],
    cannot: [
      core('delete', 'namespaces', undefined, 'team-a'),
      core('update', 'namespaces', undefined, 'team-a'),
      core('list', 'namespaces'),
      core('get', 'secrets', 'quay-bridge', 'other'),
      core('get', 'secrets', 'team-a', 'builder-quay-openshift'),
      core('list', 'secrets', 'quay-bridge'),
      core('patch', 'serviceaccounts', 'team-a', 'builder'),
      quay('patch', 'quayintegrations', undefined, 'quay', 'status'),
      quay('update', 'quayintegrations', undefined, 'quay'),
    ],
  },
  'quay-bridge-service-account': {
    can: [
      core('get', 'serviceaccounts', 'team-a', 'builder'),
      core('patch', 'serviceaccounts', 'team-a', 'builder'),
      ...ROBOT_SECRETS.flatMap((n) =>
        ['get', 'create', 'patch', 'delete'].map((v) => core(v, 'secrets', 'team-a', n)),
      ),
      core('get', 'namespaces', undefined, 'team-a'),
      core('patch', 'namespaces', undefined, 'team-a'),
      core('watch', 'namespaces', undefined, 'team-a'),
      image('list', 'imagestreams', 'team-a'),
      quay('list', 'quayintegrations'),
      TOKEN,
    ],
    cannot: [
      ...NOT_OURS,
      core('delete', 'serviceaccounts', 'team-a', 'builder'),
      core('create', 'serviceaccounts', 'team-a'),
      core('create', 'serviceaccounts', 'team-a', 'builder'),
      core('delete', 'namespaces', undefined, 'team-a'),
      image('patch', 'imagestreams', 'team-a', 'app'),
      quay('patch', 'quayintegrations', undefined, 'quay', 'status'),
    ],
  },
  'quay-bridge-image-stream': {
    can: [
      image('get', 'imagestreams', 'team-a', 'app'),
      core('get', 'namespaces', undefined, 'team-a'),
      core('patch', 'namespaces', undefined, 'team-a'),
      quay('list', 'quayintegrations'),
      TOKEN,
    ],
    cannot: [
      image('patch', 'imagestreams', 'team-a', 'app'),
      image('delete', 'imagestreams', 'team-a', 'app'),
      core('get', 'secrets', 'team-a', 'builder-quay-openshift'),
      core('patch', 'serviceaccounts', 'team-a', 'builder'),
      build('get', 'builds', 'team-a', 'b-1'),
    ],
  },
  'quay-bridge-build': {
    can: [
      build('get', 'builds', 'team-a', 'b-1'),
      build('patch', 'builds', 'team-a', 'b-1'),
      image('create', 'imagestreamimports', 'team-a'),
      quay('list', 'quayintegrations'),
      TOKEN, // one Quay read per import: the pushed digest must be in the namespace's repository
    ],
    cannot: [
      build('create', 'builds', 'team-a'),
      build('delete', 'builds', 'team-a', 'b-1'),
      image('patch', 'imagestreams', 'team-a', 'app'),
      core('get', 'secrets', 'team-a', 'builder-quay-openshift'),
      core('patch', 'namespaces', undefined, 'team-a'),
    ],
  },
  'quay-bridge-resync': {
    can: [
      core('list', 'namespaces'),
      core('patch', 'namespaces', undefined, 'team-a'),
      core('list', 'serviceaccounts'),
      core('patch', 'serviceaccounts', 'team-a', 'builder'),
      ...ROBOT_SECRETS.flatMap((n) =>
        ['get', 'create', 'patch', 'delete'].map((v) => core(v, 'secrets', 'team-a', n)),
      ),
      image('list', 'imagestreams'),
      quay('list', 'quayintegrations'),
      quay('patch', 'quayintegrations', undefined, 'quay', 'status'),
      TOKEN,
    ],
    cannot: [
      ...NOT_OURS,
      core('delete', 'namespaces', undefined, 'team-a'),
      quay('patch', 'quayintegrations', undefined, 'quay'),
      quay('delete', 'quayintegrations', undefined, 'quay'),
      rbac('create', 'clusterrolebindings'),
      build('patch', 'builds', 'team-a', 'b-1'),
    ],
  },
  'quay-bridge-dead-letter': {
    can: [],
    cannot: [core('get', 'namespaces', undefined, 'team-a'), quay('list', 'quayintegrations'), TOKEN],
  },
  'quay-bridge-source': {
    can: ['namespaces', 'serviceaccounts']
      .flatMap((r) => ['get', 'list', 'watch'].map((v) => core(v, r)))
      .concat(
        ['get', 'list', 'watch'].flatMap((v) => [
          image(v, 'imagestreams'),
          build(v, 'builds'),
          quay(v, 'quayintegrations'),
        ]),
      ),
    cannot: [
      core('watch', 'secrets'),
      core('list', 'configmaps'),
      core('patch', 'namespaces', undefined, 'team-a'),
      image('create', 'imagestreamimports', 'team-a'),
      quay('patch', 'quayintegrations', undefined, 'quay', 'status'),
    ],
  },
  // eventing/robot-secrets (optional): reads Secrets, the price of restoring robot Secrets at once.
  'quay-bridge-robot-secrets-source': {
    can: ['get', 'list', 'watch'].flatMap((v) => [core(v, 'secrets'), core(v, 'secrets', 'team-a')]),
    cannot: [
      core('create', 'secrets', 'team-a'),
      core('patch', 'secrets', 'team-a', 'builder-quay-openshift'),
      core('delete', 'secrets', 'team-a', 'builder-quay-openshift'),
      core('list', 'namespaces'),
      core('watch', 'serviceaccounts'),
    ],
  },
};

const everything = () => [...renderInstall(), ...renderInstall(join(repoRoot, 'eventing', 'robot-secrets'))];

describe('RBAC of the install (the real authorizer, per ServiceAccount)', function () {
  this.timeout(120_000);
  let rest: KubeRest;

  before(async () => {
    const cp = await sharedControlPlane();
    await applyInstallOrThrow(cp.kubeConfig, everything());
    rest = await kubeRest(cp.kubeConfig);
  });

  for (const [name, { can, cannot }] of Object.entries(matrix))
    it(`lets ${name} do its job and nothing next to it`, async () => {
      const sa = { namespace: 'quay-bridge', name };
      const wrong: string[] = [];
      for (const a of can)
        if (!(await canServiceAccount(rest, sa, a))) wrong.push(`cannot ${describeAccess(a)}`);
      for (const a of cannot)
        if (await canServiceAccount(rest, sa, a)) wrong.push(`can ${describeAccess(a)}`);
      expect(wrong).to.deep.equal([]);
    });

  it('gives every ServiceAccount of the install an entry in this matrix', () => {
    const accounts = everything()
      .filter((o) => o.kind === 'ServiceAccount' && o.apiVersion === 'v1')
      .map((o) => o.metadata.name)
      .filter((n) => n !== 'quay-bridge-webhook') // the webhook's RBAC is tested with the webhook
      .sort();
    expect(accounts).to.deep.equal(Object.keys(matrix).sort());
  });

  it('gets both answers from the authorizer (a control for the reviews above)', async () => {
    expect(
      await canServiceAccount(rest, { namespace: 'quay-bridge', name: 'quay-bridge-dead-letter' }, TOKEN),
    ).to.be.false;
    expect(await canServiceAccount(rest, { namespace: 'quay-bridge', name: 'quay-bridge-namespace' }, TOKEN))
      .to.be.true;
  });
});
