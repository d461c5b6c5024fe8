// The Kubernetes resource types quay-bridge reads or writes, and their REST paths.

export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const type = (apiVersion: string, kind: string, plural: string, namespaced: boolean): ResourceType => ({
  apiVersion,
  kind,
  plural,
  namespaced,
});

export const Resources = {
  Namespace: type('v1', 'Namespace', 'namespaces', false),
  ServiceAccount: type('v1', 'ServiceAccount', 'serviceaccounts', true),
  Secret: type('v1', 'Secret', 'secrets', true),
  ImageStream: type('image.openshift.io/v1', 'ImageStream', 'imagestreams', true),
  ImageStreamImport: type('image.openshift.io/v1', 'ImageStreamImport', 'imagestreamimports', true),
  Build: type('build.openshift.io/v1', 'Build', 'builds', true),
  QuayIntegration: type('quay.redhat.com/v1', 'QuayIntegration', 'quayintegrations', false),
  Event: type('events.k8s.io/v1', 'Event', 'events', true),
} as const;

export interface ObjectRef {
  readonly type: ResourceType;
  /** Required for namespaced types, ignored for cluster-scoped ones. */
  readonly namespace?: string;
  readonly name: string;
}

/** `/api/v1` or `/apis/image.openshift.io/v1`: where a group version is discovered. */
export const groupVersionPath = (apiVersion: string): string =>
  apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;

/** `/api/v1/namespaces/ns/secrets` or `/apis/quay.redhat.com/v1/quayintegrations`; all namespaces if none given. */
export const collectionPath = (t: ResourceType, namespace?: string): string => {
  const scope = t.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(t.apiVersion)}${scope}/${t.plural}`;
};

export const objectPath = (ref: ObjectRef, subresource?: string): string => {
  if (ref.type.namespaced && ref.namespace === undefined)
    throw new Error(`${ref.type.kind} ${ref.name} needs a namespace`);
  const base = `${collectionPath(ref.type, ref.namespace)}/${encodeURIComponent(ref.name)}`;
  return subresource === undefined ? base : `${base}/${subresource}`;
};

export const describeRef = (ref: ObjectRef): string =>
  ref.type.namespaced
    ? `${ref.type.kind} ${ref.namespace ?? '?'}/${ref.name}`
    : `${ref.type.kind} ${ref.name}`;
