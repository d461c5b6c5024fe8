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
import {
  healthOf,
  startRouting,
  startServices,
  stopInReverse,
  superviseAdapter,
  webhookBackends,
  type ProcessHealth,
  type Supervision,
  type Watched,
} from '../test/event-path/stack.js';
import { clusterCheck, watchReachability } from './reachability.js';

export interface ClusterBridgeOptions {
  readonly kubeconfigPath: string;
  /** How often the resync runs after the one at start. Default: every 30 minutes, the PingSource's schedule. */
  readonly resyncIntervalMs?: number;
  readonly logDir?: string;
  /** How exits and restarts of the bridge's processes, and the cluster lost or regained, are told. */
  readonly supervision?: Supervision;
  /** How often the cluster is checked. Default 5 s. */
  readonly reachabilityIntervalMs?: number;
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
  /** Every supervised process: up or not, restarts, crash-looping. */
  readonly processes: () => readonly ProcessHealth[];
  /** Whether the last check of the cluster failed. */
  readonly clusterLost: () => boolean;
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
  const processes: Watched = [];
  let pinger: NodeJS.Timeout | undefined;
  let reachability: ReturnType<typeof watchReachability> | undefined;
  const stop = async (): Promise<void> => {
    if (pinger !== undefined) clearInterval(pinger);
    reachability?.stop();
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
      watched: processes,
      ...(o.supervision === undefined ? {} : { supervision: o.supervision }),
    });
    const routing = await startRouting({
      install,
      logDir,
      services,
      kubeconfigFor: () => o.kubeconfigPath,
      namespaces,
      adapterConfig: narrow,
      stoppers,
      watched: processes,
      ...(o.supervision === undefined ? {} : { supervision: o.supervision }),
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
        const name = `apiserver_receive_adapter ${source.name}`;
        processes.splice(0, processes.length, ...processes.filter((w) => w.name !== name));
        const { adapter: a, supervised } = await superviseAdapter({
          source,
          config: narrow(source, source.adapterConfig(current)),
          sink: broker.url,
          kubeconfigPath: o.kubeconfigPath,
          logDir,
          resync: () => {
            routing.ping();
          },
          ...(o.supervision === undefined ? {} : { supervision: o.supervision }),
        });
        adapters.set(source.name, a);
        processes.push(supervised);
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
    const say =
      o.supervision?.say ??
      ((line: string): void => {
        process.stderr.write(`${line}\n`);
      });
    reachability = watchReachability({
      server,
      check: await clusterCheck(o.kubeconfigPath),
      intervalMs: o.reachabilityIntervalMs ?? 5000,
      say,
      onRegained: () => void ping(),
    });

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
      pids: () => processes.flatMap((w) => w.current()?.pid ?? []),
      processes: () => healthOf(processes),
      clusterLost: () => reachability?.lost() ?? false,
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
};
