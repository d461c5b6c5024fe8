// Codecs for the parts of Kubernetes objects the bridge reads. All are non-exact (io-ts `type`/`partial`): fields
// the bridge does not name are kept in the decoded value, and nothing here is ever re-encoded to write.
import * as t from 'io-ts';

export const OwnerReference = t.intersection([
  t.type({ apiVersion: t.string, kind: t.string, name: t.string, uid: t.string }),
  t.partial({ controller: t.boolean, blockOwnerDeletion: t.boolean }),
]);
export type OwnerReference = t.TypeOf<typeof OwnerReference>;

export const ObjectMeta = t.intersection([
  t.type({ name: t.string }),
  t.partial({
    namespace: t.string,
    uid: t.string,
    resourceVersion: t.string,
    generation: t.number,
    creationTimestamp: t.string,
    deletionTimestamp: t.string,
    finalizers: t.readonlyArray(t.string),
    labels: t.record(t.string, t.string),
    annotations: t.record(t.string, t.string),
    ownerReferences: t.readonlyArray(OwnerReference),
  }),
]);
export type ObjectMeta = t.TypeOf<typeof ObjectMeta>;

/** Any object: apiVersion, kind, metadata. */
export const KubeObject = t.type({ apiVersion: t.string, kind: t.string, metadata: ObjectMeta });
export type KubeObject = t.TypeOf<typeof KubeObject>;

export const Namespace = t.intersection([
  t.type({ metadata: ObjectMeta }),
  t.partial({ apiVersion: t.string, kind: t.string, status: t.partial({ phase: t.string }) }),
]);
export type Namespace = t.TypeOf<typeof Namespace>;

/** `{name}` entries of secrets/imagePullSecrets; the name is optional in the API. */
export const LocalReference = t.partial({ name: t.string });
export type LocalReference = t.TypeOf<typeof LocalReference>;

export const ServiceAccount = t.intersection([
  t.type({ metadata: t.intersection([ObjectMeta, t.type({ namespace: t.string })]) }),
  t.partial({
    apiVersion: t.string,
    kind: t.string,
    secrets: t.union([t.readonlyArray(LocalReference), t.null]),
    imagePullSecrets: t.union([t.readonlyArray(LocalReference), t.null]),
  }),
]);
export type ServiceAccount = t.TypeOf<typeof ServiceAccount>;

export const Secret = t.intersection([
  t.type({ metadata: t.intersection([ObjectMeta, t.type({ namespace: t.string })]) }),
  t.partial({ apiVersion: t.string, kind: t.string, type: t.string, data: t.record(t.string, t.string) }),
]);
export type Secret = t.TypeOf<typeof Secret>;

export const ImageStream = t.intersection([
  t.type({ metadata: t.intersection([ObjectMeta, t.type({ namespace: t.string })]) }),
  t.partial({ apiVersion: t.string, kind: t.string }),
]);
export type ImageStream = t.TypeOf<typeof ImageStream>;

export const isTerminating = (o: { readonly metadata: ObjectMeta }): boolean =>
  o.metadata.deletionTimestamp !== undefined;
