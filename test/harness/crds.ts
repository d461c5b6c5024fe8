// Installs CustomResourceDefinitions from YAML files and waits until the API server serves them.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  loadAllYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { repoRoot } from './control-plane.js';
import { sleep } from './processes.js';

/** The Knative modules pinned in test/controlplane/schemas/go.mod, as `path@version`. */
export const knativeModulePins = (): string[] =>
  [
    ...readFileSync(join(repoRoot, 'test', 'controlplane', 'schemas', 'go.mod'), 'utf8').matchAll(
      /^\s+(knative\.dev\/\S+)\s+(v\S+)\s*$/gm,
    ),
  ].map((m) => `${m[1] ?? ''}@${m[2] ?? ''}`);

/**
 * The directory of each pinned Knative module in the Go module cache, downloaded from the module proxy when missing
 * (`go mod download` verifies it against the checksum database). Run outside any module so that no go.mod of ours
 * is resolved.
 */
export const knativeModuleDirs = (): Map<string, string> => {
  const { GOFLAGS: _, ...env } = process.env;
  const out = execFileSync('go', ['mod', 'download', '-json', ...knativeModulePins()], {
    cwd: tmpdir(),
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dirs = new Map<string, string>();
  for (const m of out.matchAll(/"Path":\s*"([^"]+)"[\s\S]*?"Dir":\s*"([^"]+)"/g)) {
    dirs.set(m[1] ?? '', m[2] ?? '');
  }
  return dirs;
};

/** Knative's own CRD files, from the pinned modules: eventing's and serving's core resources. */
export const knativeCrdFiles = (): string[] => {
  const dirs = knativeModuleDirs();
  const eventing = dirs.get('knative.dev/eventing');
  const serving = dirs.get('knative.dev/serving');
  if (eventing === undefined || serving === undefined) {
    throw new Error(
      `go mod download did not give knative.dev/eventing and knative.dev/serving: ${[...dirs.keys()].join(', ')}`,
    );
  }
  const resources = join(eventing, 'config', 'core', 'resources');
  return [
    ...['apiserversource', 'broker', 'eventpolicy', 'pingsource', 'trigger'].map((n) =>
      join(resources, `${n}.yaml`),
    ),
    join(serving, 'config', 'core', '300-resources', 'service.yaml'),
  ];
};

const yamlIn = (dir: string, filter: (f: string) => boolean = () => true): string[] => {
  try {
    return readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f) && filter(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
};

/** The OpenShift APIs the stand-in serves as CRDs (image.openshift.io, build.openshift.io): test/crds. */
export const openshiftCrdFiles = (): string[] => yamlIn(join(repoRoot, 'test', 'crds'));

/**
 * Every CRD the tests need: OpenShift stand-ins, quay-bridge's own, and Knative's (from its pinned modules).
 * `openshift: false` leaves the OpenShift APIs out: a plain Kubernetes cluster.
 */
export const crdFiles = (o: { readonly openshift?: boolean } = {}): string[] => [
  ...(o.openshift === false ? [] : openshiftCrdFiles()),
  ...yamlIn(join(repoRoot, 'knative', 'crds'), (f) => !f.startsWith('kustomization.')),
  ...knativeCrdFiles(),
];

/**
 * Loaded into client-node's typed models, not plain objects: the typed client serialises through those models and
 * silently drops keys it does not know by their YAML names (`default`, `enum`, every `x-kubernetes-*`).
 */
export const readCrds = (files: readonly string[]): V1CustomResourceDefinition[] =>
  files.flatMap((file) =>
    (loadAllYaml(readFileSync(file, 'utf8')) as ({ kind?: string } | null)[]).filter(
      (d): d is V1CustomResourceDefinition => d?.kind === 'CustomResourceDefinition',
    ),
  );

export const installCrds = async (
  kc: KubeConfig,
  crds: readonly V1CustomResourceDefinition[],
): Promise<void> => {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  await Promise.all(crds.map((body) => api.createCustomResourceDefinition({ body })));
  const deadline = Date.now() + 60_000;
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    for (;;) {
      const got = await api.readCustomResourceDefinition({ name });
      const established = got.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (established === true) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} never became Established`);
      await sleep(100);
    }
  }
};
