// Every manifest of knative/ and eventing/, rendered the way `kubectl apply -k` renders it, created for real in the
// test API server with the Knative CRDs installed and strict field validation (an unknown field is an error, not a
// warning), and read back to prove nothing was pruned. Where Knative's CRDs switch the server's checks off
// (x-kubernetes-preserve-unknown-fields), every field must still be declared by the schema.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { crdFiles, readCrds, repoRoot, sharedControlPlane } from '../../harness/index.js';
import { applyInstall, FIELD_MANAGER } from '../../event-path/install.js';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import { kustomize, objectId, type KubeObject } from '../../event-path/kustomize.js';
import { undeclaredFields } from './declared-fields.js';

const variants = {
  openshift: join(repoRoot, 'knative'),
  'cert-manager': join(repoRoot, 'knative', 'cert-manager'),
  'robot-secrets (optional, applied after either)': join(repoRoot, 'eventing', 'robot-secrets'),
  'oidc (optional, applied after either)': join(repoRoot, 'eventing', 'oidc'),
  'robot-secrets oidc (optional, with robot-secrets and oidc)': join(
    repoRoot,
    'eventing',
    'robot-secrets',
    'oidc',
  ),
} as const;
const optional = [
  'robot-secrets (optional, applied after either)',
  'oidc (optional, applied after either)',
  'robot-secrets oidc (optional, with robot-secrets and oidc)',
] as const;

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);

/** Paths where `stored` lacks or changes what `sent` has (the server may add fields, never drop or alter ours). */
const missingFrom = (sent: unknown, stored: unknown, path = ''): string[] => {
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored) || stored.length !== sent.length) return [path];
    return sent.flatMap((v, i) => missingFrom(v, stored[i], `${path}[${i}]`));
  }
  if (isRecord(sent)) {
    if (!isRecord(stored)) return [path];
    return Object.entries(sent).flatMap(([k, v]) =>
      missingFrom(v, stored[k], path === '' ? k : `${path}.${k}`),
    );
  }
  return sent === stored ? [] : [path];
};

const kubectlAvailable = (): boolean => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('the manifests of knative/ and eventing/ against the real schemas', function () {
  this.timeout(180_000);
  let rest: KubeRest;
  const crds = readCrds(crdFiles());

  before(async () => {
    const cp = await sharedControlPlane();
    rest = await kubeRest(cp.kubeConfig);
  });

  for (const [variant, dir] of Object.entries(variants))
    it(`renders the ${variant} install like kubectl kustomize does (where kubectl is installed)`, function () {
      if (!kubectlAvailable()) this.skip();
      const theirs = parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' }))
        .map((d) => d.toJS() as KubeObject)
        .filter((o) => isRecord(o));
      const ours = kustomize(dir);
      const byId = (list: readonly KubeObject[]) => new Map(list.map((o) => [objectId(o), o]));
      expect([...byId(ours).keys()].sort()).to.deep.equal([...byId(theirs).keys()].sort());
      const theirById = byId(theirs);
      for (const o of ours) expect(o, objectId(o)).to.deep.equal(theirById.get(objectId(o)));
    });

  it('creates every object of the OpenShift install with strict field validation, and stores all of it', async () => {
    const cp = await sharedControlPlane();
    const objects = kustomize(variants.openshift);
    const applied = await applyInstall(cp.kubeConfig, objects);
    const failures = applied
      .filter((a) => a.answer.status >= 300 || a.answer.warnings.length > 0)
      .map(
        (a) =>
          `${objectId(a.object)}: HTTP ${a.answer.status} ${a.answer.warnings.join('; ')} ${a.answer.body.slice(0, 400)}`,
      );
    expect(failures).to.deep.equal([]);
    expect(applied.filter((a) => a.dryRun).map((a) => a.object.kind)).to.deep.equal([
      'MutatingWebhookConfiguration',
    ]);

    for (const { object, dryRun, answer } of applied) {
      // Read back what was stored (for a dry run: what would have been).
      const stored = dryRun ? answer.json : (await rest.request('GET', await rest.objectPath(object))).json;
      expect(missingFrom(object, stored), `${objectId(object)} as stored`).to.deep.equal([]);
    }
  });

  for (const variant of optional)
    it(`creates the ${variant} on top of the install, with strict field validation`, async () => {
      const cp = await sharedControlPlane();
      const applied = await applyInstall(cp.kubeConfig, kustomize(variants[variant]));
      const failures = applied
        .filter((a) => a.answer.status >= 300 || a.answer.warnings.length > 0)
        .map((a) => `${objectId(a.object)}: HTTP ${a.answer.status} ${a.answer.body.slice(0, 400)}`);
      expect(failures).to.deep.equal([]);
      for (const { object } of applied) {
        const stored = (await rest.request('GET', await rest.objectPath(object))).json;
        expect(missingFrom(object, stored), `${objectId(object)} as stored`).to.deep.equal([]);
      }
    });

  it('creates the kinds quay-bridge needs, from the Knative CRDs', () => {
    const kinds = new Set(kustomize(variants.openshift).map((o) => `${o.apiVersion} ${o.kind}`));
    expect([...kinds]).to.include.members([
      'serving.knative.dev/v1 Service',
      'eventing.knative.dev/v1 Broker',
      'eventing.knative.dev/v1 Trigger',
      'sources.knative.dev/v1 ApiServerSource',
      'sources.knative.dev/v1 PingSource',
      'apiextensions.k8s.io/v1 CustomResourceDefinition',
      'networking.k8s.io/v1 NetworkPolicy',
    ]);
    expect(
      kustomize(variants['oidc (optional, applied after either)']).map((o) => `${o.apiVersion} ${o.kind}`),
    ).to.include('eventing.knative.dev/v1alpha1 EventPolicy');
  });

  it('refuses an unknown field: strict validation is on (a control for the test above)', async () => {
    const service = kustomize(variants.openshift).find(
      (o) => o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1',
    );
    expect(service).to.not.equal(undefined);
    const broken = JSON.parse(
      JSON.stringify(service).replace('"containerPort"', '"containerPrt"'),
    ) as KubeObject;
    const replaced = await rest.createOrReplace(broken, { fieldManager: FIELD_MANAGER, dryRun: true });
    expect([replaced.status, replaced.body]).to.satisfy(
      ([status, body]: [number, string]) => status === 400 && /unknown field .*containerPrt/.test(body),
    );
    // Server-side apply refuses it too.
    const applied = await rest.apply(broken, { fieldManager: FIELD_MANAGER, dryRun: true });
    expect(applied.status).to.be.at.least(400);
    expect(applied.body).to.match(/containerPrt/);
  });

  it('declares every field of every custom resource in its CRD, even where the CRD preserves unknown fields', () => {
    const problems: string[] = [];
    const unchecked: string[] = [];
    for (const dir of Object.values(variants))
      for (const o of kustomize(dir)) {
        if (
          !o.apiVersion.includes('.') ||
          o.apiVersion.startsWith('rbac.') ||
          o.apiVersion.startsWith('networking.k8s.io/') ||
          o.apiVersion.startsWith('admissionregistration.') ||
          o.apiVersion.startsWith('apiextensions.')
        )
          continue; // built-in kinds: the server's strict validation covers them
        const undeclared = undeclaredFields(o, crds);
        if (undeclared === undefined) unchecked.push(objectId(o));
        else problems.push(...undeclared.map((f) => `${objectId(o)}: ${f}`));
      }
    expect(problems).to.deep.equal([]);
    // cert-manager's CRDs are not installed here: its two objects are the only ones not checked against a schema.
    expect([...new Set(unchecked)].sort()).to.deep.equal([
      'cert-manager.io/v1 Certificate quay-bridge/quay-bridge-webhook',
      'cert-manager.io/v1 Issuer quay-bridge/quay-bridge-selfsigned',
    ]);
  });

  it('finds a misspelt field under x-kubernetes-preserve-unknown-fields (a control for the test above)', async () => {
    const trigger = kustomize(variants.openshift).find((o) => o.kind === 'Trigger');
    expect(trigger).to.not.equal(undefined);
    const broken = JSON.parse(
      JSON.stringify(trigger).replace('"deadLetterSink"', '"deadLeterSink"'),
    ) as KubeObject;
    // The server takes it (Knative's CRD preserves unknown fields in a Trigger's spec) …
    const answer = await rest.createOrReplace(broken, { fieldManager: FIELD_MANAGER, dryRun: true });
    expect([answer.status, answer.body]).to.deep.equal([200, answer.body]);
    // … and the schema check does not.
    expect(undeclaredFields(broken, crds)).to.deep.equal(['spec.delivery.deadLeterSink']);
  });

  it('admits the cert-manager variant too (dry run; cert-manager kinds are not served here)', async () => {
    const objects = kustomize(variants['cert-manager']).filter((o) => o.apiVersion !== 'cert-manager.io/v1');
    const failures: string[] = [];
    for (const o of objects) {
      const answer = await rest.createOrReplace(o, { fieldManager: FIELD_MANAGER, dryRun: true });
      if (answer.status >= 300 || answer.warnings.length > 0)
        failures.push(
          `${objectId(o)}: HTTP ${answer.status} ${answer.warnings.join('; ')} ${answer.body.slice(0, 300)}`,
        );
    }
    expect(failures).to.deep.equal([]);
  });

  it('differs from the OpenShift install only in TLS wiring and the OpenShift APIs the source watches', () => {
    const os = new Map(kustomize(variants.openshift).map((o) => [objectId(o), o]));
    const cm = new Map(kustomize(variants['cert-manager']).map((o) => [objectId(o), o]));
    const changed = [...cm.keys()]
      .filter((id) => JSON.stringify(os.get(id)) !== JSON.stringify(cm.get(id)))
      .sort();
    expect(changed).to.deep.equal([
      'admissionregistration.k8s.io/v1 MutatingWebhookConfiguration /quay-bridge',
      'cert-manager.io/v1 Certificate quay-bridge/quay-bridge-webhook',
      'cert-manager.io/v1 Issuer quay-bridge/quay-bridge-selfsigned',
      'sources.knative.dev/v1 ApiServerSource quay-bridge/quay-bridge',
      'v1 Service quay-bridge/quay-bridge-webhook-admission',
    ]);
    // Nothing of the OpenShift install is missing from the cert-manager one (the CRD comes with ../base).
    expect([...os.keys()].filter((id) => !cm.has(id))).to.deep.equal([]);
    expect(
      cm.has('apiextensions.k8s.io/v1 CustomResourceDefinition /quayintegrations.quay.redhat.com'),
    ).to.equal(true);
    const webhook = cm.get('admissionregistration.k8s.io/v1 MutatingWebhookConfiguration /quay-bridge');
    expect(webhook?.metadata.annotations).to.deep.equal({
      'cert-manager.io/inject-ca-from': 'quay-bridge/quay-bridge-webhook',
    });
    const certificate = cm.get('cert-manager.io/v1 Certificate quay-bridge/quay-bridge-webhook') as
      { spec: { secretName: string; dnsNames: string[] } } | undefined;
    const service = cm.get('serving.knative.dev/v1 Service quay-bridge/quay-bridge-webhook') as
      { spec: { template: { spec: { volumes: { secret: { secretName: string } }[] } } } } | undefined;
    expect(certificate?.spec.secretName, 'the Secret the webhook mounts').to.equal(
      service?.spec.template.spec.volumes[0]?.secret.secretName,
    );
    expect(certificate?.spec.dnsNames).to.include('quay-bridge-webhook-admission.quay-bridge.svc');
    const source = cm.get('sources.knative.dev/v1 ApiServerSource quay-bridge/quay-bridge') as
      { spec: { resources: { kind: string }[] } } | undefined;
    expect(source?.spec.resources.map((r) => r.kind)).to.deep.equal([
      'Namespace',
      'ServiceAccount',
      'QuayIntegration',
    ]);
  });
});
