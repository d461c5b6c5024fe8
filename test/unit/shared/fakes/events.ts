// CloudEvents exactly as Knative's ApiServerSource emits them (docs/design.md#event-delivery), as the cloudevents SDK
// object faas-js-runtime hands a function.
import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';

export type Action = 'add' | 'update' | 'delete';

interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

const plural = (kind: string): string => {
  const lower = kind.toLowerCase();
  return lower.endsWith('s') ? `${lower}es` : `${lower}s`;
};

export const apiServerEvent = (
  action: Action,
  obj: object,
  options: { readonly id?: string; readonly mode?: 'resource' | 'ref'; readonly source?: string } = {},
): CloudEvent<unknown> => {
  const o = obj as K8sObject;
  const ns = o.metadata.namespace ?? '';
  const mode = options.mode ?? 'resource';
  return new CloudEvent<unknown>({
    id: options.id ?? randomUUID(),
    type: `dev.knative.apiserver.${mode}.${action}`,
    source: options.source ?? 'https://10.96.0.1:443',
    subject: `/apis/${o.apiVersion}/namespaces/${ns}/${plural(o.kind)}/${o.metadata.name}`,
    kind: o.kind,
    apiversion: o.apiVersion,
    name: o.metadata.name,
    namespace: ns,
    datacontenttype: 'application/json',
    data:
      mode === 'resource'
        ? obj
        : { kind: o.kind, namespace: ns, name: o.metadata.name, apiVersion: o.apiVersion },
  });
};

export const pingEvent = (): CloudEvent<unknown> =>
  new CloudEvent<unknown>({
    id: randomUUID(),
    type: 'dev.knative.sources.ping',
    source: '/apis/v1/namespaces/quay-bridge/pingsources/quay-bridge-resync',
    datacontenttype: 'application/json',
    data: { resync: true },
  });
