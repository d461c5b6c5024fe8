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
import { startAdapter, type Adapter } from '../test/event-path/adapter.js';
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
  /** Resources of the ApiServerSource the cluster did not serve at start (e.g. ImageStream and Build off OpenShift). */
  readonly unserved: readonly string[];
  /** What the source watches now, narrowed to what the cluster serves (asked again at every resync). */
  readonly watched: () => readonly string[];
  /**
   * A resync, as a tick of the PingSource's schedule: the cluster's APIs are discovered again first, and the
   * receive adapter restarted when they changed (a CRD installed since, e.g. OpenShift's), so that it watches
   * them too; the resync then syncs what exists.
   */
  readonly ping: () => Promise<void>;
  /** Knative Services of the install not run here (the webhook's). */
  readonly notRun: readonly string[];
  readonly pids: () => readonly number[];
  readonly stop: () => Promise<void>;
}

type Gvr = AdapterConfig['resources'][number]['gvr'];

const gvrName = (g: Gvr): string => `${g.Resource}${g.Group === '' ? '' : `.${g.Group}`}`;

/** Whether the API server serves a resource, by discovery of its group version (each call of servedBy anew). */
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
    // What the source watches, narrowed to what this cluster serves: the adapter refuses to start on a group
    // version the API server does not serve (knative.dev/eventing pkg/adapter/apiserver: its discovery fails), and
    // plain Kubernetes has no ImageStream or Build.
    const discoverUnserved = async (): Promise<Set<string>> => {
      const served = servedBy(rest);
      const found = new Set<string>();
      for (const source of install.apiServerSources)
        for (const r of source.adapterConfig([]).resources)
          if (!(await served(r.gvr))) found.add(gvrName(r.gvr));
      return found;
    };
    const atStart = await discoverUnserved();
    let unserved = atStart;
    const narrow = (_: unknown, config: AdapterConfig): AdapterConfig => ({
      ...config,
      resources: config.resources.filter((r) => !unserved.has(gvrName(r.gvr))),
    });

    const listNamespaces = async (): Promise<string[]> => {
      const answer = await rest.request('GET', '/api/v1/namespaces');
      if (answer.status !== 200)
        throw new Error(`listing namespaces: HTTP ${String(answer.status)} ${answer.body.slice(0, 200)}`);
      return (answer.json as { items: { metadata: { name: string } }[] }).items.map((n) => n.metadata.name);
    };
    const namespaces = await listNamespaces();

    const webhooks = webhookBackends(install);
    const services = await startServices({
      install,
      logDir,
      run: (k) => !webhooks.has(k.name),
      kubeconfigFor: () => o.kubeconfigPath,
      stoppers,
    });
    const routing = await startRouting({
      install,
      logDir,
      services,
      kubeconfigFor: () => o.kubeconfigPath,
      namespaces,
      adapterConfig: narrow,
      stoppers,
    });
    const { broker } = routing;
    const adapters = new Map(routing.adapters);

    // An API served since the adapter started (a CRD installed later) is watched from the next resync on: one
    // adapter at a time (it always binds :8080), so the old one stops first; the resync covers the gap.
    const rediscover = async (): Promise<void> => {
      const now = await discoverUnserved();
      if ([...now].sort().join() === [...unserved].sort().join()) return;
      unserved = now;
      const current = await listNamespaces();
      for (const source of install.apiServerSources) {
        await adapters.get(source.name)?.stop();
        const a = await startAdapter({
          config: narrow(source, source.adapterConfig(current)),
          name: source.name,
          namespace: source.namespace,
          sink: broker.url,
          kubeconfigPath: o.kubeconfigPath,
          logFile: join(logDir, `apiserver_receive_adapter.${source.name}.log`),
        });
        adapters.set(source.name, a);
        stoppers.push(() => a.stop());
      }
    };
    let pinging: Promise<void> = Promise.resolve();
    const ping = (): Promise<void> => {
      pinging = pinging
        .then(rediscover)
        .catch((e: unknown) => {
          process.stderr.write(
            `discovering the cluster's APIs again: ${e instanceof Error ? e.message : String(e)}\n`,
          );
        })
        .then(() => {
          routing.ping();
        });
      return pinging;
    };
    // The adapter sends nothing for objects that existed before it started: the resync syncs them.
    routing.ping();
    pinger = setInterval(() => void ping(), o.resyncIntervalMs ?? 30 * 60_000);

    return {
      server,
      logDir,
      services,
      broker,
      adapters,
      unserved: [...atStart],
      watched: () =>
        install.apiServerSources.flatMap((source) =>
          narrow(source, source.adapterConfig([])).resources.map((r) => gvrName(r.gvr)),
        ),
      ping,
      notRun: [...webhooks],
      pids: () => [...[...adapters.values()].map((a) => a.pid), ...[...services.values()].map((s) => s.pid)],
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
};
