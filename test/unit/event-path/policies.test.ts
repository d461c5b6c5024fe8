// Who may send to whom, read from the manifests: the EventPolicies of eventing/oidc (and eventing/robot-secrets/oidc)
// must admit exactly the senders the event path has (the sources sinking into the Broker, the Triggers delivering
// to each step), and the NetworkPolicies of knative/base must select every pod of the install's Knative Services.
// A Trigger or source added without its policy fails here, not in a cluster.
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../harness/control-plane.js';
import type { KubeObject } from '../../event-path/kustomize.js';
import { readEventPath, refKey, renderInstall } from '../../event-path/manifests.js';

interface Ref {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
}
interface EventPolicy {
  readonly metadata: { readonly name: string };
  readonly spec: { readonly to: readonly { ref: Ref }[]; readonly from: readonly { ref: Ref }[] };
}
interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[];
}
interface NetworkPolicy {
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly podSelector: LabelSelector;
    readonly ingress: readonly {
      readonly ports?: readonly { port: number }[];
      readonly from: readonly { namespaceSelector?: LabelSelector }[];
    }[];
  };
}

const render = (...dir: string[]): KubeObject[] => renderInstall(join(repoRoot, ...dir));
const install = render('knative');
const robotSecrets = render('eventing', 'robot-secrets');
const policiesOf = (objects: readonly KubeObject[]): EventPolicy[] =>
  objects.filter((o) => o.kind === 'EventPolicy') as unknown as EventPolicy[];

/** target "Kind/name" → the "Kind/name" of every sender some policy admits to it. */
const admitted = (policies: readonly EventPolicy[]): Map<string, string[]> => {
  const out = new Map<string, string[]>();
  for (const p of policies)
    for (const { ref: to } of p.spec.to) {
      const key = `${to.kind}/${to.name}`;
      out.set(
        key,
        [...(out.get(key) ?? []), ...p.spec.from.map(({ ref }) => `${ref.kind}/${ref.name}`)].sort(),
      );
    }
  return out;
};

/** The same map from the event path: sources into the Broker, Triggers to their subscriber and dead-letter sink. */
const senders = (objects: readonly KubeObject[]): Map<string, string[]> => {
  const path = readEventPath(objects);
  const out = new Map<string, string[]>();
  const add = (target: string | undefined, sender: string): void => {
    if (target === undefined) return;
    const [kind, , name] = target.split('/');
    const key = `${kind ?? ''}/${name ?? ''}`;
    out.set(key, [...(out.get(key) ?? []), sender].sort());
  };
  for (const s of path.apiServerSources) add(refKey(s.sink, s.namespace), `ApiServerSource/${s.name}`);
  for (const s of path.pingSources) add(refKey(s.sink, s.namespace), `PingSource/${s.name}`);
  for (const t of path.triggers) {
    add(refKey(t.subscriber, t.namespace), `Trigger/${t.name}`);
    const dls = t.delivery?.deadLetterSink;
    if (dls !== undefined) add(refKey(dls, t.namespace), `Trigger/${t.name}`);
  }
  return out;
};

const sorted = (m: Map<string, string[]>): [string, string[]][] =>
  [...m.entries()].sort(([a], [b]) => a.localeCompare(b));

const selects = (s: LabelSelector, labels: Readonly<Record<string, string>>): boolean =>
  Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (s.matchExpressions ?? []).every((e) => {
    if (e.operator !== 'In') throw new Error(`operator ${e.operator} is not read here`);
    return e.values?.includes(labels[e.key] ?? '') === true;
  });

describe('who may send to whom (EventPolicies and NetworkPolicies of the install)', () => {
  it('admits to the Broker exactly the sources that sink into it, and to each step exactly its Triggers', () => {
    const core = policiesOf(render('eventing', 'oidc'));
    expect(sorted(admitted(core))).to.deep.equal(sorted(senders(install)));
    expect(admitted(core).get('Broker/quay-bridge')).to.deep.equal([
      'ApiServerSource/quay-bridge',
      'PingSource/quay-bridge-resync',
    ]);
  });

  it('admits the optional robot-Secret source and Trigger only with their own policies', () => {
    const all = [
      ...policiesOf(render('eventing', 'oidc')),
      ...policiesOf(render('eventing', 'robot-secrets', 'oidc')),
    ];
    expect(sorted(admitted(all))).to.deep.equal(sorted(senders([...install, ...robotSecrets])));
  });

  it('names a real target in every policy (a Broker or a Knative Service of the install)', () => {
    const known = new Set(
      install
        .filter(
          (o) => o.kind === 'Broker' || (o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1'),
        )
        .map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`),
    );
    for (const p of [
      ...policiesOf(render('eventing', 'oidc')),
      ...policiesOf(render('eventing', 'robot-secrets', 'oidc')),
    ])
      for (const { ref } of p.spec.to)
        expect(known, p.metadata.name).to.include(`${ref.apiVersion} ${ref.kind}/${ref.name}`);
  });

  const networkPolicies = install.filter((o) => o.kind === 'NetworkPolicy') as unknown as NetworkPolicy[];
  const podLabels = install
    .filter((o) => o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1')
    .map((o) => ({
      name: o.metadata.name,
      labels: (o as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec
        .template.metadata.labels,
    }));

  it('puts every pod of every Knative Service of the install under exactly one NetworkPolicy', () => {
    expect(podLabels.length).to.be.greaterThan(5);
    for (const { name, labels } of podLabels)
      expect(
        networkPolicies.filter((p) => selects(p.spec.podSelector, labels)).map((p) => p.metadata.name),
        name,
      ).to.have.length(1);
  });

  it('admits only Knative Serving to the steps, and the API server to the webhook on its admission port only', () => {
    const knative = ['knative-serving', 'knative-serving-ingress', 'kourier-system'];
    const byName = new Map(networkPolicies.map((p) => [p.metadata.name, p]));
    const steps = byName.get('quay-bridge-steps');
    expect(steps?.spec.ingress).to.deep.equal([
      {
        from: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: knative }],
            },
          },
        ],
      },
    ]);
    const webhook = byName.get('quay-bridge-webhook');
    const admission = install.find(
      (o) => o.kind === 'Service' && o.metadata.name === 'quay-bridge-webhook-admission',
    ) as { spec: { ports: { targetPort: number }[] } } | undefined;
    const apiServerRule = webhook?.spec.ingress.find((r) => r.ports !== undefined);
    expect(apiServerRule?.ports).to.deep.equal([
      { protocol: 'TCP', port: admission?.spec.ports[0]?.targetPort },
    ]);
    const others = webhook?.spec.ingress.filter((r) => r.ports === undefined);
    expect(others?.flatMap((r) => r.from)).to.deep.equal(steps?.spec.ingress[0]?.from);
  });
});
