// Every name quay-bridge derives, in one place, so that they match the Go Quay Bridge Operator exactly
// (docs/qbo-compatibility.md#identical) except where QBO is wrong (docs/qbo-compatibility.md#b3: the Secret suffix is lowercased here).
import * as E from 'fp-ts/lib/Either.js';

/**
 * Orders strings by UTF-16 code units, the sort the steps use for a stable order. Not localeCompare: its first call
 * builds an ICU collator, about 3 MB of a step's idle RSS (docs/design.md#packaging); Kubernetes names are ASCII.
 */
export const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export type RobotRole = 'read' | 'write' | 'admin';

/** QBO's fixed matrix; QuayIntegration.spec.additionalServiceAccounts extends it. */
export const DEFAULT_ROBOT_ROLES: ReadonlyMap<string, RobotRole> = new Map([
  ['builder', 'write'],
  ['default', 'read'],
  ['deployer', 'read'],
]);

export const NAMESPACE_FINALIZER = 'quay.redhat.com/quayintegrations';
export const LEGACY_NAMESPACE_FINALIZER = 'redhatcop.redhat.io/quayintegrations';
/**
 * On a namespace, `<registry host>/<organization>` once that organization was ensured for it (written after the
 * finalizer and the organization): a later event that finds it, with the finalizer, is the bridge's own echo and
 * asks Quay nothing. Removed with the finalizer. Namespaces are not writable by their tenants.
 */
export const ORGANIZATION_ANNOTATION = 'quay-bridge.quay.redhat.com/organization';

/** ORGANIZATION_ANNOTATION's value: written only once the organization is proven this cluster's (shared/ownership.ts). */
export const organizationStamp = (registryHost: string, org: string): string => `${registryHost}/${org}`;

const ANNOTATION_PREFIX = 'quay-registry-operator.quay.redhat.com/';
export const BUILD_ANNOTATIONS = {
  managed: `${ANNOTATION_PREFIX}quay-registry-operator-managed`,
  destination: `${ANNOTATION_PREFIX}destination-imagestream`,
  imported: `${ANNOTATION_PREFIX}destination-imagestreamtag-imported`,
} as const;

/** Label on everything quay-bridge writes into the cluster, so that it can find (and an uninstall can remove) it. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'quay-bridge';

// Quay's namespace rule (endpoints/api/organization.py, validated on POST /organization/).
const QUAY_NAMESPACE = /^([a-z0-9]+(?:[._-][a-z0-9]+)*)$/;
const QUAY_NAMESPACE_MIN = 2;
const QUAY_NAMESPACE_MAX = 255;

export interface InvalidName {
  readonly _tag: 'InvalidName';
  readonly message: string;
}

/** The lowercased prefix that every organization of this cluster carries: organizationPrefix if set, else clusterID. */
export const organizationPrefix = (s: {
  clusterID: string;
  organizationPrefix?: string | undefined;
}): string =>
  (s.organizationPrefix !== undefined && s.organizationPrefix !== ''
    ? s.organizationPrefix
    : s.clusterID
  ).toLowerCase();

export const quayNameProblem = (name: string): string | undefined => {
  if (name.length < QUAY_NAMESPACE_MIN || name.length > QUAY_NAMESPACE_MAX)
    return `Namespace must be between ${QUAY_NAMESPACE_MIN} and ${QUAY_NAMESPACE_MAX} characters in length`;
  if (!QUAY_NAMESPACE.test(name)) return `Namespace must match expression ${QUAY_NAMESPACE.source}`;
  return undefined;
};

/** `<prefix>_<namespace>`, or why Quay would refuse it. */
export const organizationName = (prefix: string, namespace: string): E.Either<InvalidName, string> => {
  const org = `${prefix}_${namespace}`;
  const problem = quayNameProblem(org);
  return problem === undefined
    ? E.right(org)
    : E.left({
        _tag: 'InvalidName',
        message: `organization "${org}" for namespace "${namespace}" is not a valid Quay name: ${problem}`,
      });
};

/**
 * The namespace an organization of this cluster was made for, or undefined when the organization is not ours.
 * Kubernetes namespace names never contain "_", so a remainder with one belongs to another cluster whose prefix
 * merely starts like ours (cluster "a" must never sweep cluster "a_b"'s organizations).
 */
export const namespaceOfOrganization = (prefix: string, org: string): string | undefined => {
  if (!org.startsWith(`${prefix}_`)) return undefined;
  const rest = org.slice(prefix.length + 1);
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(rest) ? rest : undefined;
};

export const robotShortname = (serviceAccount: string): string => serviceAccount;
export const robotName = (org: string, serviceAccount: string): string =>
  `${org}+${robotShortname(serviceAccount)}`;

/** `<sa>-quay-<lowercased clusterID>` (QBO does not lowercase: docs/qbo-compatibility.md#b3). */
export const robotSecretName = (serviceAccount: string, clusterID: string): string =>
  `${serviceAccount}-quay-${clusterID.toLowerCase()}`;

export const repositoryName = (imageStream: string): string => imageStream;

/** QBO's IsAllowedNamespace order: deny list, allow list, default deny, then "allowed unless an allow list exists". */
export const isAllowedNamespace = (
  namespace: string,
  lists: {
    allowlistNamespaces?: readonly string[] | undefined;
    denylistNamespaces?: readonly string[] | undefined;
  },
): boolean => {
  if (lists.denylistNamespaces?.includes(namespace) === true) return false;
  if (lists.allowlistNamespaces?.includes(namespace) === true) return true;
  if (isDeniedByDefault(namespace)) return false;
  return (lists.allowlistNamespaces ?? []).length === 0;
};

export const isDeniedByDefault = (namespace: string): boolean =>
  namespace === 'default' ||
  namespace === 'openshift' ||
  namespace === 'management-infra' ||
  namespace.startsWith('openshift-') ||
  namespace.startsWith('kube-');
