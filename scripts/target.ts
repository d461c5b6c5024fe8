// Where `npm start` runs the bridge: against the cluster of the kubeconfig when that cluster has a QuayIntegration,
// else on the embedded stack. The decision is pure (`decideTarget`); `probeCluster` gathers what it needs.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRest } from '../test/event-path/kube-rest.js';

export type Mode = 'embedded' | 'cluster';

/** What a look at the kubeconfig's cluster found. */
export type Probe =
  | { readonly kind: 'no-kubeconfig'; readonly path: string }
  | { readonly kind: 'unreachable'; readonly path: string; readonly server: string; readonly error: string }
  | { readonly kind: 'no-crd'; readonly path: string; readonly server: string }
  | {
      readonly kind: 'integrations';
      readonly path: string;
      readonly server: string;
      /** The names of the QuayIntegrations there. */
      readonly names: readonly string[];
    };

export type Target =
  | { readonly mode: 'embedded'; readonly notice?: string }
  | {
      readonly mode: 'cluster';
      readonly kubeconfigPath: string;
      readonly server: string;
      readonly integration: string;
    }
  | { readonly mode: 'refuse'; readonly reason: string };

const why = (p: Exclude<Probe, { kind: 'integrations' }>): string => {
  switch (p.kind) {
    case 'no-kubeconfig':
      return `there is no kubeconfig at ${p.path}`;
    case 'unreachable':
      return `the cluster of ${p.path} (${p.server}) did not answer: ${p.error}`;
    case 'no-crd':
      return `the cluster of ${p.path} (${p.server}) has no QuayIntegration resource (the CRD is knative/crds/quayintegration.yaml)`;
  }
};

/**
 * `--embedded` forces the embedded stack and `--cluster` the cluster (refused when it cannot be had); with neither,
 * the cluster when it has exactly one QuayIntegration, else the embedded stack with a notice saying why.
 */
export const decideTarget = (asked: Mode | undefined, probe: Probe | undefined): Target => {
  if (asked === 'embedded' || probe === undefined) return { mode: 'embedded' };
  if (probe.kind === 'integrations' && probe.names.length === 1)
    return {
      mode: 'cluster',
      kubeconfigPath: probe.path,
      server: probe.server,
      integration: probe.names[0] ?? '',
    };
  const problem =
    probe.kind === 'integrations'
      ? probe.names.length === 0
        ? `the cluster of ${probe.path} (${probe.server}) has no QuayIntegration`
        : `the cluster of ${probe.path} (${probe.server}) has ${String(probe.names.length)} QuayIntegrations (${probe.names.join(', ')}); quay-bridge needs exactly one`
      : why(probe);
  if (asked === 'cluster') return { mode: 'refuse', reason: `cannot run against a cluster: ${problem}.` };
  return probe.kind === 'no-kubeconfig'
    ? { mode: 'embedded' }
    : {
        mode: 'embedded',
        notice: `Not running against a cluster: ${problem}. Starting the embedded stack, which does not touch that cluster.`,
      };
};

export const kubeconfigPath = (env: NodeJS.ProcessEnv): string =>
  env.KUBECONFIG?.split(':').find((p) => p !== '') ?? join(homedir(), '.kube', 'config');

/** Looks at the kubeconfig's current cluster: reachable? does it serve QuayIntegrations, and which exist? */
export const probeCluster = async (path: string): Promise<Probe> => {
  if (!existsSync(path)) return { kind: 'no-kubeconfig', path };
  const kc = new KubeConfig();
  let server = '?';
  try {
    kc.loadFromFile(path);
    server = kc.getCurrentCluster()?.server ?? '?';
    const rest = await kubeRest(kc);
    const answer = await rest.request('GET', '/apis/quay.redhat.com/v1/quayintegrations');
    if (answer.status === 404) return { kind: 'no-crd', path, server };
    if (answer.status !== 200)
      return {
        kind: 'unreachable',
        path,
        server,
        error: `HTTP ${String(answer.status)} ${answer.body.slice(0, 200)}`,
      };
    const items = (answer.json as { items?: { metadata?: { name?: string } }[] }).items ?? [];
    return { kind: 'integrations', path, server, names: items.map((i) => i.metadata?.name ?? '?') };
  } catch (e) {
    return { kind: 'unreachable', path, server, error: e instanceof Error ? e.message : String(e) };
  }
};
