// Puts a rendered install into the test API server the way `kubectl create` (or `kubectl replace` for what exists)
// would, with strict field validation, and mints ServiceAccount credentials so that local processes run with exactly the RBAC the
// manifests grant.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { applyOrder, kubeRest, type KubeRest, type RestAnswer } from './kube-rest.js';
import { objectId, type KubeObject } from './kustomize.js';

/**
 * Kinds applied with dryRun=All only: the API server would act on them. A webhook registration pointing at a
 * Service that does not run in the test cluster would make it refuse every matching request (failurePolicy: Fail).
 */
export const DRY_RUN_KINDS: ReadonlySet<string> = new Set([
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);

export interface Applied {
  readonly object: KubeObject;
  readonly dryRun: boolean;
  readonly answer: RestAnswer;
}

export const FIELD_MANAGER = 'quay-bridge-install';

/** Applies every object (namespaces, CRDs and RBAC first); returns each answer, never stopping at a failure. */
export const applyInstall = async (
  kc: KubeConfig,
  objects: readonly KubeObject[],
  options: { readonly dryRunKinds?: ReadonlySet<string> } = {},
): Promise<Applied[]> => {
  const rest = await kubeRest(kc);
  const dryRunKinds = options.dryRunKinds ?? DRY_RUN_KINDS;
  const applied: Applied[] = [];
  for (const object of applyOrder(objects)) {
    const dryRun = dryRunKinds.has(object.kind);
    applied.push({
      object,
      dryRun,
      answer: await rest.apply(object, { fieldManager: FIELD_MANAGER, dryRun }),
    });
  }
  return applied;
};

/** Throws with every failed object named, or returns the answers. */
export const applyInstallOrThrow = async (
  kc: KubeConfig,
  objects: readonly KubeObject[],
  options: { readonly dryRunKinds?: ReadonlySet<string> } = {},
): Promise<Applied[]> => {
  const applied = await applyInstall(kc, objects, options);
  const failed = applied.filter((a) => a.answer.status >= 300);
  if (failed.length > 0)
    throw new Error(
      `applying the install failed:\n${failed
        .map((f) => `  ${objectId(f.object)}: HTTP ${f.answer.status} ${f.answer.body.slice(0, 300)}`)
        .join('\n')}`,
    );
  return applied;
};

export interface ServiceAccountCredentials {
  readonly namespace: string;
  readonly name: string;
  readonly kubeconfigPath: string;
}

/**
 * A kubeconfig that authenticates as the ServiceAccount, with a token from the TokenRequest API (what the kubelet
 * mounts into a pod). Written into `dir` as <namespace>.<name>.kubeconfig.
 */
export const serviceAccountKubeconfig = async (
  kc: KubeConfig,
  rest: KubeRest,
  namespace: string,
  name: string,
  dir: string,
): Promise<ServiceAccountCredentials> => {
  const answer = await rest.request(
    'POST',
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } },
  );
  const token = (answer.json as { status?: { token?: string } } | undefined)?.status?.token;
  if (answer.status !== 201 || token === undefined)
    throw new Error(
      `token for ServiceAccount ${namespace}/${name}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`,
    );
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const caData = cluster.caData;
  if (caData === undefined) throw new Error('the kubeconfig has no certificate-authority-data');
  const kubeconfigPath = join(dir, `${namespace}.${name}.kubeconfig`);
  writeFileSync(
    kubeconfigPath,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: cluster.server, 'certificate-authority-data': caData } }],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: 'test', user: name, namespace } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  return { namespace, name, kubeconfigPath };
};

/** What the API server's authorizer answers for `system:serviceaccount:<namespace>:<name>` doing something. */
export interface Access {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

export const canServiceAccount = async (
  rest: KubeRest,
  sa: { readonly namespace: string; readonly name: string },
  access: Access,
): Promise<boolean> => {
  const answer = await rest.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${sa.namespace}:${sa.name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`, 'system:authenticated'],
      resourceAttributes: access,
    },
  });
  const allowed = (answer.json as { status?: { allowed?: boolean } } | undefined)?.status?.allowed;
  if (answer.status !== 201 || allowed === undefined)
    throw new Error(`SubjectAccessReview: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
  return allowed;
};
