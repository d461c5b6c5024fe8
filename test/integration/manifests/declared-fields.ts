// Fields a manifest sets that its CRD's schema does not declare. The API server's strict field validation cannot
// see these under `x-kubernetes-preserve-unknown-fields: true`, which Knative's CRDs put on whole specs (a Trigger's
// spec and delivery, a Broker's delivery, a source's spec): a typo there (`deadLeterSink`) is stored and silently
// ignored. Here a field counts as declared when the schema node lists it in `properties`, or gives a schema for
// `additionalProperties`, or declares nothing at all about its properties (a free-form map such as matchLabels).
import type { V1CustomResourceDefinition, V1JSONSchemaProps } from '@kubernetes/client-node';
import type { KubeObject } from '../../event-path/kustomize.js';

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

const walk = (value: unknown, schema: V1JSONSchemaProps | undefined, path: string): string[] => {
  if (schema === undefined) return [];
  if (Array.isArray(value))
    return value.flatMap((v, i) => walk(v, schema.items as V1JSONSchemaProps | undefined, `${path}[${i}]`));
  if (!isRecord(value)) return [];
  const properties = schema.properties;
  const additional: unknown = schema.additionalProperties;
  return Object.entries(value).flatMap(([key, v]) => {
    const at = path === '' ? key : `${path}.${key}`;
    const declared = properties?.[key];
    if (declared !== undefined) return walk(v, declared, at);
    if (isRecord(additional)) return walk(v, additional, at);
    if (additional === true || properties === undefined) return [];
    return [at];
  });
};

/** The undeclared fields of `o` (metadata excepted: the API server checks ObjectMeta itself). */
export const undeclaredFields = (
  o: KubeObject,
  crds: readonly V1CustomResourceDefinition[],
): string[] | undefined => {
  const slash = o.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : o.apiVersion.slice(0, slash);
  const version = o.apiVersion.slice(slash + 1);
  const crd = crds.find((c) => c.spec.group === group && c.spec.names.kind === o.kind);
  const schema = crd?.spec.versions.find((v) => v.name === version)?.schema?.openAPIV3Schema;
  if (schema === undefined) return undefined;
  // apiVersion and kind are always there; some of Knative's CRDs do not declare them.
  const { metadata: _metadata, apiVersion: _apiVersion, kind: _kind, ...rest } = o;
  return walk(rest, schema, '');
};
