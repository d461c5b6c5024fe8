// The project's rendered manifests, read as what the event path needs: the Triggers (filters, subscriber,
// delivery), the Broker, the ApiServerSource (turned into the receive adapter's K_SOURCE_CONFIG the way Knative's
// reconciler computes it), the PingSource (the event it sends), and the step Knative Services (name, env, service
// account). Everything the local event path does is derived from these, so the manifests are what gets tested.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { formatDecodeError } from '../../shared/codec.js';
import { repoRoot } from '../harness/control-plane.js';
import type { DeliverySpec, Destination } from './delivery.js';
import type { SubscriptionsApiFilter, TriggerFilters } from './filters.js';
import { kustomize, type KubeObject } from './kustomize.js';

/** The install `kubectl apply -k knative` makes (OpenShift flavour), or another kustomization directory. */
export const renderInstall = (dir: string = join(repoRoot, 'knative')): KubeObject[] => kustomize(dir);

/** The one place where the operator sets the clusterID (and the ServiceAccounts that get a robot). */
export const CLUSTER_SETTINGS_FILE = join(repoRoot, 'knative', 'base', 'robot-secrets.yaml');

/**
 * The install for another clusterID, made the way an operator makes it: a copy of knative/ and eventing/ with the
 * clusterID (and the additional ServiceAccounts' `<name>-quay` entries) edited in the one place, rendered. `dir` is
 * a kustomization under the repository (default knative/).
 */
export const renderInstallFor = (
  clusterID: string,
  dir: string = join(repoRoot, 'knative'),
  additionalServiceAccounts: readonly string[] = [],
): KubeObject[] => {
  const copy = mkdtempSync(join(tmpdir(), 'quay-bridge-install-'));
  try {
    for (const top of ['knative', 'eventing'])
      cpSync(join(repoRoot, top), join(copy, top), { recursive: true });
    const file = join(copy, relative(repoRoot, CLUSTER_SETTINGS_FILE));
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    const settings = docs.filter((d) => d.getIn(['kind']) === 'ConfigMap');
    if (settings.length !== 1) throw new Error(`${CLUSTER_SETTINGS_FILE}: expected one ConfigMap`);
    settings[0]?.setIn(['data', 'clusterID'], clusterID);
    const role = docs.find((d) => d.getIn(['kind']) === 'ClusterRole');
    for (const sa of additionalServiceAccounts) role?.addIn(['rules', 0, 'resourceNames'], `${sa}-quay`);
    writeFileSync(file, docs.map((d) => d.toString()).join('---\n'));
    return kustomize(join(copy, relative(repoRoot, dir)));
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
};

const decode = <A>(codec: t.Decoder<unknown, A>, o: KubeObject): A => {
  const r = codec.decode(o);
  if (E.isLeft(r))
    throw new Error(
      `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${formatDecodeError(r.left)}`,
    );
  return r.right;
};

const StringMap = t.record(t.string, t.string);

const Filter: t.Type<SubscriptionsApiFilter> = t.recursion('SubscriptionsApiFilter', () =>
  t.partial({
    exact: StringMap,
    prefix: StringMap,
    suffix: StringMap,
    all: t.readonlyArray(Filter),
    any: t.readonlyArray(Filter),
    not: Filter,
    cesql: t.string,
  }),
);

const Ref = t.intersection([
  t.type({ apiVersion: t.string, kind: t.string, name: t.string }),
  t.partial({ namespace: t.string }),
]);
const DestinationCodec: t.Type<Destination, unknown> = t.union([
  t.type({ ref: Ref }),
  t.type({ uri: t.string }),
]);

const Delivery: t.Type<DeliverySpec, unknown> = t.partial({
  retry: t.number,
  backoffPolicy: t.keyof({ exponential: null, linear: null }),
  backoffDelay: t.string,
  deadLetterSink: DestinationCodec,
  timeout: t.string,
  retryAfterMax: t.string,
});

const Meta = t.intersection([t.type({ name: t.string }), t.partial({ namespace: t.string })]);

const TriggerCodec = t.type({
  metadata: Meta,
  spec: t.intersection([
    t.type({ subscriber: DestinationCodec }),
    t.partial({
      broker: t.string,
      filters: t.readonlyArray(Filter),
      filter: t.partial({ attributes: StringMap }),
      delivery: Delivery,
    }),
  ]),
});

export interface Trigger {
  readonly name: string;
  readonly namespace: string;
  readonly broker: string;
  readonly filters: TriggerFilters;
  readonly subscriber: Destination;
  readonly delivery: DeliverySpec | undefined;
}

export const readTrigger = (o: KubeObject): Trigger => {
  const tr = decode(TriggerCodec, o);
  const broker = tr.spec.broker ?? '';
  if (broker === '') throw new Error(`Trigger ${tr.metadata.name}: spec.broker is required`);
  return {
    name: tr.metadata.name,
    namespace: tr.metadata.namespace ?? 'default',
    broker,
    filters: {
      ...(tr.spec.filters === undefined ? {} : { filters: tr.spec.filters }),
      ...(tr.spec.filter?.attributes === undefined ? {} : { attributes: tr.spec.filter.attributes }),
    },
    subscriber: tr.spec.subscriber,
    delivery: tr.spec.delivery,
  };
};

const BrokerCodec = t.type({ metadata: Meta, spec: t.partial({ delivery: Delivery }) });

export interface Broker {
  readonly name: string;
  readonly namespace: string;
  readonly delivery: DeliverySpec | undefined;
}

export const readBroker = (o: KubeObject): Broker => {
  const b = decode(BrokerCodec, { spec: {}, ...o });
  return { name: b.metadata.name, namespace: b.metadata.namespace ?? 'default', delivery: b.spec.delivery };
};

const LabelSelector = t.partial({
  matchLabels: StringMap,
  matchExpressions: t.readonlyArray(
    t.intersection([
      t.type({ key: t.string, operator: t.string }),
      t.partial({ values: t.readonlyArray(t.string) }),
    ]),
  ),
});
type LabelSelector = t.TypeOf<typeof LabelSelector>;

const ApiServerSourceCodec = t.type({
  metadata: Meta,
  spec: t.intersection([
    t.type({
      resources: t.readonlyArray(
        t.intersection([
          t.type({ apiVersion: t.string, kind: t.string }),
          t.partial({ selector: LabelSelector }),
        ]),
      ),
      sink: DestinationCodec,
    }),
    t.partial({
      mode: t.string,
      serviceAccountName: t.string,
      namespaceSelector: LabelSelector,
      owner: t.type({ apiVersion: t.string, kind: t.string }),
    }),
  ]),
});

/** The receive adapter's K_SOURCE_CONFIG (knative.dev/eventing pkg/adapter/apiserver Config, as JSON). */
export interface AdapterConfig {
  readonly namespaces: readonly string[];
  readonly allNamespaces: boolean;
  readonly resources: readonly {
    readonly gvr: { readonly Group: string; readonly Version: string; readonly Resource: string };
    readonly selector?: string;
  }[];
  readonly owner?: { readonly apiVersion: string; readonly kind: string };
  readonly mode: string;
}

export interface ApiServerSource {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly sink: Destination;
  /** Builds the adapter config; `namespaces` lists the cluster's namespaces (the reconciler resolves the selector). */
  readonly adapterConfig: (namespaces: readonly string[]) => AdapterConfig;
}

/** Kubernetes' UnsafeGuessKindToResource: lower-case the kind, then pluralize the way the API machinery guesses. */
export const guessResource = (kind: string): string => {
  const singular = kind.toLowerCase();
  if (singular.endsWith('s')) return `${singular}es`;
  if (singular.endsWith('y')) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
};

/** A label selector as the string form the API accepts (labels.Selector.String()). */
export const selectorString = (s: LabelSelector): string => {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        throw new Error(`label selector operator ${e.operator} is not valid`);
    }
  }
  return parts.sort().join(',');
};

const isEmptySelector = (s: LabelSelector): boolean =>
  Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;

export const readApiServerSource = (o: KubeObject): ApiServerSource => {
  const s = decode(ApiServerSourceCodec, o);
  const namespace = s.metadata.namespace ?? 'default';
  const selector = s.spec.namespaceSelector;
  if (selector !== undefined && !isEmptySelector(selector))
    throw new Error(
      `ApiServerSource ${s.metadata.name}: only an absent or empty namespaceSelector is supported here`,
    );
  return {
    name: s.metadata.name,
    namespace,
    serviceAccountName: s.spec.serviceAccountName ?? 'default',
    sink: s.spec.sink,
    adapterConfig: (namespaces) => ({
      // No selector: the source's own namespace. An empty selector: every namespace, watched cluster-wide.
      namespaces: selector === undefined ? [namespace] : [...namespaces].sort(),
      allNamespaces: selector !== undefined,
      resources: s.spec.resources.map((r) => {
        const slash = r.apiVersion.indexOf('/');
        const gvr = {
          Group: slash < 0 ? '' : r.apiVersion.slice(0, slash),
          Version: slash < 0 ? r.apiVersion : r.apiVersion.slice(slash + 1),
          Resource: guessResource(r.kind),
        };
        return r.selector === undefined ? { gvr } : { gvr, selector: selectorString(r.selector) };
      }),
      ...(s.spec.owner === undefined ? {} : { owner: s.spec.owner }),
      // The reconciler passes the mode through; the adapter treats anything but "Reference" as Resource.
      mode: s.spec.mode ?? 'Reference',
    }),
  };
};

const PingSourceCodec = t.type({
  metadata: Meta,
  spec: t.intersection([
    t.type({ schedule: t.string, sink: DestinationCodec }),
    t.partial({ contentType: t.string, data: t.string, dataBase64: t.string, timezone: t.string }),
  ]),
});

export interface PingSource {
  readonly name: string;
  readonly namespace: string;
  readonly schedule: string;
  readonly sink: Destination;
  /** The attributes and data of the event each tick sends (its id and time are set per tick). */
  readonly event: {
    readonly type: string;
    readonly source: string;
    readonly datacontenttype?: string;
    readonly data?: string;
    readonly data_base64?: string;
  };
}

export const readPingSource = (o: KubeObject): PingSource => {
  const p = decode(PingSourceCodec, o);
  const namespace = p.metadata.namespace ?? 'default';
  return {
    name: p.metadata.name,
    namespace,
    schedule: p.spec.schedule,
    sink: p.spec.sink,
    event: {
      type: 'dev.knative.sources.ping',
      source: `/apis/v1/namespaces/${namespace}/pingsources/${p.metadata.name}`,
      ...(p.spec.contentType === undefined ? {} : { datacontenttype: p.spec.contentType }),
      ...(p.spec.data === undefined ? {} : { data: p.spec.data }),
      ...(p.spec.dataBase64 === undefined ? {} : { data_base64: p.spec.dataBase64 }),
    },
  };
};

const EnvVar = t.intersection([
  t.type({ name: t.string }),
  t.partial({ value: t.string, valueFrom: t.unknown }),
]);

const Container = t.intersection([
  t.type({ image: t.string }),
  t.partial({
    command: t.readonlyArray(t.string),
    args: t.readonlyArray(t.string),
    env: t.readonlyArray(EnvVar),
    ports: t.readonlyArray(t.type({ containerPort: t.number })),
    readinessProbe: t.partial({ httpGet: t.partial({ path: t.string }) }),
    volumeMounts: t.readonlyArray(t.type({ name: t.string, mountPath: t.string })),
  }),
]);

const KnativeServiceCodec = t.type({
  metadata: Meta,
  spec: t.type({
    template: t.intersection([
      t.type({
        spec: t.intersection([
          t.type({ containers: t.readonlyArray(Container) }),
          t.partial({
            serviceAccountName: t.string,
            volumes: t.readonlyArray(
              t.intersection([
                t.type({ name: t.string }),
                t.partial({ secret: t.type({ secretName: t.string }) }),
              ]),
            ),
          }),
        ]),
      }),
      t.partial({ metadata: t.partial({ annotations: StringMap, labels: StringMap }) }),
    ]),
  }),
});

export interface KnativeService {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  readonly command: readonly string[] | undefined;
  readonly args: readonly string[];
  readonly serviceAccountName: string;
  readonly env: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** The port Knative routes to (and sets as PORT): the declared containerPort, else 8080. */
  readonly port: number;
  readonly readinessPath: string;
  /** mountPath → the Secret mounted there. */
  readonly secretMounts: ReadonlyMap<string, string>;
}

export const readKnativeService = (o: KubeObject): KnativeService => {
  const s = decode(KnativeServiceCodec, o);
  const [container, ...more] = s.spec.template.spec.containers;
  if (container === undefined || more.length > 0)
    throw new Error(`Knative Service ${s.metadata.name}: exactly one container is supported here`);
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    if (v.value === undefined)
      throw new Error(`Knative Service ${s.metadata.name}: env ${v.name} has no plain value`);
    env[v.name] = v.value;
  }
  const secretMounts = new Map<string, string>();
  for (const m of container.volumeMounts ?? []) {
    const volume = s.spec.template.spec.volumes?.find((v) => v.name === m.name);
    if (volume?.secret === undefined)
      throw new Error(`Knative Service ${s.metadata.name}: volume ${m.name} is not a Secret volume`);
    secretMounts.set(m.mountPath, volume.secret.secretName);
  }
  return {
    name: s.metadata.name,
    namespace: s.metadata.namespace ?? 'default',
    image: container.image,
    command: container.command,
    args: container.args ?? [],
    serviceAccountName: s.spec.template.spec.serviceAccountName ?? 'default',
    env,
    annotations: s.spec.template.metadata?.annotations ?? {},
    port: container.ports?.[0]?.containerPort ?? 8080,
    readinessPath: container.readinessProbe?.httpGet?.path ?? '/',
    secretMounts,
  };
};

const PlainServiceCodec = t.type({
  metadata: Meta,
  spec: t.intersection([
    t.type({
      ports: t.readonlyArray(
        t.intersection([
          t.type({ port: t.number }),
          t.partial({ targetPort: t.union([t.number, t.string]) }),
        ]),
      ),
    }),
    t.partial({ selector: StringMap }),
  ]),
});

/** A plain Service selecting a Knative Service's pods directly (as the webhook's admission Service does). */
export interface PodService {
  readonly name: string;
  readonly namespace: string;
  /** The Knative Service whose pods it selects (label serving.knative.dev/service). */
  readonly knativeService: string;
  /** Service port → container port. */
  readonly ports: ReadonlyMap<number, number>;
}

export const readPodService = (o: KubeObject): PodService | undefined => {
  const s = decode(PlainServiceCodec, o);
  const knativeService = s.spec.selector?.['serving.knative.dev/service'];
  if (knativeService === undefined) return undefined;
  const ports = new Map<number, number>();
  for (const p of s.spec.ports) {
    if (typeof p.targetPort === 'string')
      throw new Error(`Service ${s.metadata.name}: named target ports are not supported here`);
    ports.set(p.port, p.targetPort ?? p.port);
  }
  return { name: s.metadata.name, namespace: s.metadata.namespace ?? 'default', knativeService, ports };
};

const isKind = (o: KubeObject, apiVersion: string, kind: string): boolean =>
  o.apiVersion === apiVersion && o.kind === kind;

/** The event-path view of a rendered install. */
export interface EventPathManifests {
  readonly objects: readonly KubeObject[];
  readonly brokers: readonly Broker[];
  readonly triggers: readonly Trigger[];
  readonly apiServerSources: readonly ApiServerSource[];
  readonly pingSources: readonly PingSource[];
  readonly services: readonly KnativeService[];
  readonly podServices: readonly PodService[];
}

export const readEventPath = (objects: readonly KubeObject[]): EventPathManifests => ({
  objects,
  brokers: objects.filter((o) => isKind(o, 'eventing.knative.dev/v1', 'Broker')).map(readBroker),
  triggers: objects.filter((o) => isKind(o, 'eventing.knative.dev/v1', 'Trigger')).map(readTrigger),
  apiServerSources: objects
    .filter((o) => isKind(o, 'sources.knative.dev/v1', 'ApiServerSource'))
    .map(readApiServerSource),
  pingSources: objects.filter((o) => isKind(o, 'sources.knative.dev/v1', 'PingSource')).map(readPingSource),
  services: objects.filter((o) => isKind(o, 'serving.knative.dev/v1', 'Service')).map(readKnativeService),
  podServices: objects
    .filter((o) => isKind(o, 'v1', 'Service'))
    .flatMap((o) => {
      const s = readPodService(o);
      return s === undefined ? [] : [s];
    }),
});

/** `Service/quay-bridge-namespace` style key of a Knative reference, for address books. */
export const refKey = (d: Destination, defaultNamespace: string): string | undefined =>
  'ref' in d ? `${d.ref.kind}/${d.ref.namespace ?? defaultNamespace}/${d.ref.name}` : undefined;
