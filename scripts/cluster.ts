// `npm start` against an existing cluster: the cluster of the kubeconfig, holding a QuayIntegration, and the Quay it
// names. The bridge runs on this machine exactly as the install would run it in the cluster, from the same
// manifests: every step's Knative Service as its own local process, the broker stand-in routing with eventing/'s
// Triggers, Knative's real ApiServerSource receive adapter watching the cluster, and the resync PingSource's event
// at start (so what already exists is synced) and on the PingSource's interval. Everything acts with the
// kubeconfig's credentials. Nothing is installed into the cluster.
//
// Not here: the admission webhook. The API server cannot call a process on this machine, so Builds are not
// rewritten to push to Quay (their completion still imports tags that are in Quay); deploy knative/ for that.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Adapter } from '../test/event-path/adapter.js';
import type { BrokerStandIn } from '../test/event-path/broker.js';
import { kubeRest, type KubeRest } from '../test/event-path/kube-rest.js';
import { readEventPath, renderInstall, type AdapterConfig } from '../test/event-path/manifests.js';
import type { LocalService } from '../test/event-path/services.js';
import { startRouting, startServices, stopInReverse, webhookBackends } from '../test/event-path/stack.js';

export interface ClusterBridgeOptions {
  readonly kubeconfigPath: string;
  /** How often the resync runs after the one at start. Default: every 30 minutes, the PingSource's schedule. */
  readonly resyncIntervalMs?: number;
  readonly logDir?: string;
}

export interface ClusterBridge {
  readonly server: string;
  readonly logDir: string;
  readonly services: ReadonlyMap<string, LocalService>;
  readonly broker: BrokerStandIn;
  readonly adapters: ReadonlyMap<string, Adapter>;
  /** Resources of the ApiServerSource the cluster does not serve (e.g. ImageStream and Build off OpenShift). */
  readonly unserved: readonly string[];
  /** Knative Services of the install not run here (the webhook's). */
  readonly notRun: readonly string[];
  readonly pids: () => readonly number[];
  readonly stop: () => Promise<void>;
}

type Gvr = AdapterConfig['resources'][number]['gvr'];

const gvrName = (g: Gvr): string => `${g.Resource}${g.Group === '' ? '' : `.${g.Group}`}`;

/** Whether the API server serves a resource, by discovery of its group version. */
const servedBy = (rest: KubeRest) => {
  const found = new Map<string, Promise<ReadonlySet<string>>>();
  return async (g: Gvr): Promise<boolean> => {
    const path = g.Group === '' ? `/api/${g.Version}` : `/apis/${g.Group}/${g.Version}`;
    let names = found.get(path);
    if (names === undefined) {
      names = rest.request('GET', path).then((a) => {
        if (a.status === 404) return new Set<string>();
        if (a.status !== 200)
          throw new Error(`discovery of ${path}: HTTP ${String(a.status)} ${a.body.slice(0, 200)}`);
        return new Set(((a.json as { resources?: { name: string }[] }).resources ?? []).map((r) => r.name));
      });
      found.set(path, names);
    }
    return (await names).has(g.Resource);
  };
};

export const startClusterBridge = async (o: ClusterBridgeOptions): Promise<ClusterBridge> => {
  const kc = new KubeConfig();
  kc.loadFromFile(o.kubeconfigPath);
  const server = kc.getCurrentCluster()?.server ?? '?';
  const rest = await kubeRest(kc);
  const logDir = o.logDir ?? mkdtempSync(join(tmpdir(), 'quay-bridge-cluster-'));
  const install = readEventPath(renderInstall());
  const stoppers: (() => Promise<void>)[] = [];
  let pinger: NodeJS.Timeout | undefined;
  const stop = async (): Promise<void> => {
    if (pinger !== undefined) clearInterval(pinger);
    await stopInReverse(stoppers, 'stopping the bridge failed');
  };

  try {
    // What the source watches, narrowed to what this cluster serves: the adapter refuses to start on a resource
    // the API server does not know (plain Kubernetes has no ImageStream or Build).
    const served = servedBy(rest);
    const unserved = new Set<string>();
    for (const source of install.apiServerSources)
      for (const r of source.adapterConfig([]).resources)
        if (!(await served(r.gvr))) unserved.add(gvrName(r.gvr));
    const narrow = (_: unknown, config: AdapterConfig): AdapterConfig => ({
      ...config,
      resources: config.resources.filter((r) => !unserved.has(gvrName(r.gvr))),
    });

    const namespaces = await rest.request('GET', '/api/v1/namespaces');
    if (namespaces.status !== 200)
      throw new Error(
        `listing namespaces: HTTP ${String(namespaces.status)} ${namespaces.body.slice(0, 200)}`,
      );

    const webhooks = webhookBackends(install);
    const services = await startServices({
      install,
      logDir,
      run: (k) => !webhooks.has(k.name),
      kubeconfigFor: () => o.kubeconfigPath,
      stoppers,
    });
    const { broker, adapters, ping } = await startRouting({
      install,
      logDir,
      services,
      kubeconfigFor: () => o.kubeconfigPath,
      namespaces: (namespaces.json as { items: { metadata: { name: string } }[] }).items.map(
        (n) => n.metadata.name,
      ),
      adapterConfig: narrow,
      stoppers,
    });
    // The adapter sends nothing for objects that existed before it started: the resync syncs them.
    ping();
    pinger = setInterval(ping, o.resyncIntervalMs ?? 30 * 60_000);

    return {
      server,
      logDir,
      services,
      broker,
      adapters,
      unserved: [...unserved],
      notRun: [...webhooks],
      pids: () => [...[...adapters.values()].map((a) => a.pid), ...[...services.values()].map((s) => s.pid)],
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
};
