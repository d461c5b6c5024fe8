// Installs CustomResourceDefinitions from YAML files and waits until the API server serves them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  loadAllYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { repoRoot } from './control-plane.js';
import { sleep } from './processes.js';

/** Every CRD the tests need: OpenShift stand-ins, quay-bridge's own, and Knative's reference CRDs. */
export const crdFiles = (): string[] => {
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
  const knativeReference = join(repoRoot, '..', 'shared', 'knative-reference');
  return [
    ...yamlIn(join(repoRoot, 'test', 'crds')),
    ...yamlIn(join(repoRoot, 'knative', 'crds'), (f) => !f.startsWith('kustomization.')),
    ...yamlIn(knativeReference, (f) => f.endsWith('-crd.yaml')),
  ];
};

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
