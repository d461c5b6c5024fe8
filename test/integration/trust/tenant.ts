// The hostile tenant of the trust tests: a user bound to `edit` in one namespace, reached by impersonation, so that
// every request it makes is judged by the real authorizer.
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRest, type KubeRest, type RestAnswer } from '../../event-path/kube-rest.js';
import { eventually } from '../../openshift-standin/wait.js';
import type { World } from '../../support/world.js';

/** The harness kubeconfig, as `user` (Impersonate-User: the API server authorizes the request as that user). */
export const impersonating = (w: World, user: string): KubeConfig => {
  const kc = new KubeConfig();
  const base = w.kubeConfig;
  const u = base.getCurrentUser();
  const cluster = base.getCurrentCluster();
  if (u === null || cluster === null)
    throw new Error('the harness kubeconfig has no current user or cluster');
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ ...u, name: 'impersonating', impersonateUser: user }],
    contexts: [{ name: 'impersonating', cluster: cluster.name, user: 'impersonating' }],
    currentContext: 'impersonating',
  });
  return kc;
};

export const ok = (what: string, a: RestAnswer): unknown => {
  if (a.status < 200 || a.status > 299) throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 300)}`);
  return a.json;
};

/**
 * What OpenShift's own `system:openshift:aggregate-to-edit` adds to the `edit` role on these kinds (plain
 * kube-apiserver has them as CRDs only). The harness runs no clusterrole-aggregation controller, so the tenant is
 * bound to this role next to `edit`: together they are OpenShift's `edit`.
 */
export const openshiftEditRules = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: {
    name: 'quay-bridge-test:openshift-aggregate-to-edit',
    labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
  },
  rules: [
    {
      apiGroups: ['build.openshift.io'],
      resources: ['builds'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    },
    {
      apiGroups: ['image.openshift.io'],
      resources: ['imagestreams'],
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    },
    { apiGroups: ['image.openshift.io'], resources: ['imagestreamimports'], verbs: ['create'] },
  ],
};

/** A tenant user with `edit` in `namespace` (RoleBindings, as `oc adm policy add-role-to-user edit` makes one). */
export const tenantWithEdit = async (w: World, rest: KubeRest, user: string, namespace: string) => {
  ok(
    'the OpenShift part of edit',
    await rest.request(
      'PATCH',
      `/apis/rbac.authorization.k8s.io/v1/clusterroles/${openshiftEditRules.metadata.name}?fieldManager=trust-tests&force=true`,
      openshiftEditRules,
      'application/apply-patch+yaml',
    ),
  );
  for (const role of ['edit', openshiftEditRules.metadata.name])
    ok(
      `bind ${role} to ${user} in ${namespace}`,
      await rest.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `${user}-${role.replace(/[^a-z0-9-]/g, '-')}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      }),
    );
  const tenant = await kubeRest(impersonating(w, user));
  // RBAC changes reach the authorizer through its informers: wait until they have.
  await eventually(`${user} to be allowed to create Builds in ${namespace}`, async () => {
    const review = await tenant.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: { group: 'build.openshift.io', resource: 'builds', verb: 'create', namespace },
      },
    });
    return (review.json as { status?: { allowed?: boolean } } | undefined)?.status?.allowed === true
      ? true
      : undefined;
  });
  return tenant;
};
