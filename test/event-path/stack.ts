// The whole of quay-bridge on one machine, assembled from the install's manifests (`kubectl apply -k knative`):
//   the control plane (real etcd, kube-apiserver, kube-controller-manager) with the install created in it;
//   the OpenShift stand-in (project ServiceAccounts, build phases, image import) and the Quay emulator;
//   every Knative Service of the install as its own local process (steps under their host, the webhook),
//     each authenticated as its own ServiceAccount, so the manifests' RBAC is what they run with;
//   the webhook registered from the install's MutatingWebhookConfiguration, over TLS from the control plane's CA;
//   the broker stand-in routing with the install's Triggers to those processes;
//   Knative's real ApiServerSource receive adapter for each ApiServerSource of the install, configured from it,
//     authenticated as the source's ServiceAccount, sinking into the broker;
//   the PingSource's event, sent by `ping()` (and every `pingIntervalMs`, for a long-running stack).
// Only the broker and Quay are stand-ins. `npm start` and the end-to-end tests use this same assembly.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudEvent } from 'cloudevents';
import { freePort, issueCertificate, sharedControlPlane, type ControlPlane } from '../harness/index.js';
import { OpenShiftStandIn, webhookTlsFor } from '../openshift-standin/index.js';
import { startQuayEmulator, type QuayEmulator, type QuayEmulatorOptions } from '../quay-emulator/index.js';
import { startAdapter, type Adapter, type AdapterRun } from './adapter.js';
import { newEventId, startBroker, type BrokerStandIn } from './broker.js';
import type { Destination } from './delivery.js';
import { applyInstallOrThrow, serviceAccountKubeconfig } from './install.js';
import { kubeRest, type KubeRest } from './kube-rest.js';
import { objectId, type KubeObject } from './kustomize.js';
import {
  readEventPath,
  refKey,
  renderInstall,
  renderInstallFor,
  type AdapterConfig,
  type ApiServerSource,
  type EventPathManifests,
  type KnativeService,
} from './manifests.js';
import { startLocalService, type LocalService, type LocalServiceRun } from './services.js';
import {
  describeEvent,
  supervise,
  type Backoff,
  type Incarnation,
  type SupervisedState,
  type Supervised,
  type SupervisorEvent,
} from './supervisor.js';

/** How the stack keeps its processes running (test/event-path/supervisor.ts). */
export interface Supervision {
  /** Where exits, restarts and crash loops are told, one line (or a few) at a time. Default: stderr. */
  readonly say?: (line: string) => void;
  readonly backoff?: Partial<Backoff>;
}

/** A supervised process, as the health summary shows it. */
export interface ProcessHealth {
  readonly name: string;
  readonly pid: number | undefined;
  readonly state: SupervisedState;
  readonly restarts: number;
  readonly crashLooping: boolean;
}

/** The processes a stack supervises: kept here for its health summary. */
export type Watched = Supervised<Incarnation>[];

const sayOf =
  (s: Supervision | undefined) =>
  (line: string): void => {
    if (s?.say !== undefined) s.say(line);
    else process.stderr.write(`${line}\n`);
  };

export const healthOf = (watched: Watched): ProcessHealth[] =>
  watched.map((w) => ({
    name: w.name,
    pid: w.current()?.pid,
    state: w.state(),
    restarts: w.restarts(),
    crashLooping: w.crashLooping(),
  }));

/** A supervised local service: the same name, port and URL across restarts; pid and log of the current run. */
const supervisedService = (first: LocalServiceRun, s: Supervised<LocalServiceRun>): LocalService => ({
  name: first.name,
  url: first.url,
  port: first.port,
  get pid() {
    return s.current()?.pid ?? 0;
  },
  log: (lines) => (s.current() ?? first).log(lines),
  exited: () => s.current() === undefined,
  stop: () => s.stop(),
});

const supervisedAdapter = (first: AdapterRun, s: Supervised<AdapterRun>): Adapter => ({
  get pid() {
    return s.current()?.pid ?? 0;
  },
  logFile: first.logFile,
  log: (lines) => (s.current() ?? first).log(lines),
  exited: () => s.current() === undefined,
  stop: () => s.stop(),
});

export interface StackOptions {
  /** Default: the shared control plane of the test run (not stopped by the stack). */
  readonly controlPlane?: ControlPlane;
  /** The kustomizations to install, together. Default: knative/ (the OpenShift flavour). */
  readonly installDirs?: readonly string[];
  /**
   * The clusterID the install is made for, as an operator sets it in knative/base/robot-secrets.yaml (the RBAC names
   * the robot Secrets after it). Default: the file's own (openshift).
   */
  readonly clusterID?: string;
  /** The QuayIntegration's additionalServiceAccounts, listed in that file likewise. Default: none. */
  readonly additionalServiceAccounts?: readonly string[];
  /**
   * Objects of the install not applied, because the stack does their controllers' work itself: e.g. cert-manager's
   * Certificate and Issuer (the webhook's certificate is issued below). Default: none.
   */
  readonly omit?: (object: KubeObject) => boolean;
  /**
   * Whether the cluster is OpenShift: the stand-in plays its controllers (project ServiceAccounts, builds, image
   * import). false for plain Kubernetes (a control plane without the OpenShift CRDs). Default true.
   */
  readonly openshift?: boolean;
  /** Which Knative Services run as processes. Default: all of them. */
  readonly runService?: (service: KnativeService) => boolean;
  /** Multiplies the Triggers' back-off (tests: e.g. 0.01). Default 1. */
  readonly backoffScale?: number;
  readonly quay?: QuayEmulatorOptions;
  /** Registry hosts (host:port) that speak plain http, besides the emulator's: where Builds push to. */
  readonly httpRegistries?: readonly string[];
  /** Pause between the stand-in's Build phases. Default 20 ms. */
  readonly buildStepDelayMs?: number;
  /** Send the PingSources' events this often. Default: only when ping() is called. */
  readonly pingIntervalMs?: number;
  /** Where logs go; default a temporary directory, removed by stop() unless keepLogs. */
  readonly logDir?: string;
  readonly keepLogs?: boolean;
  /** How exits and restarts of the stack's processes are told. Default: on stderr. */
  readonly supervision?: Supervision;
}

export interface Stack {
  readonly controlPlane: ControlPlane;
  readonly install: EventPathManifests;
  readonly quay: QuayEmulator;
  /** None on plain Kubernetes (`openshift: false`). */
  readonly standIn: OpenShiftStandIn | undefined;
  readonly broker: BrokerStandIn;
  /** A receive adapter per ApiServerSource, by the source's name. */
  readonly adapters: ReadonlyMap<string, Adapter>;
  /** The running Knative Services, by name. */
  readonly services: ReadonlyMap<string, LocalService>;
  /** ServiceAccount name (in the install's namespace) → kubeconfig path. */
  readonly kubeconfigs: ReadonlyMap<string, string>;
  readonly logDir: string;
  /** Sends each PingSource's event into the broker, as a tick of its schedule would. */
  readonly ping: () => void;
  /** The processes the stack started (the receive adapter and every Knative Service). */
  readonly pids: () => readonly number[];
  /** The last lines of every process's log, for failure messages. */
  readonly logs: (lines?: number) => string;
  /** Every supervised process: up or not, restarts, crash-looping. */
  readonly processes: () => readonly ProcessHealth[];
  readonly stop: () => Promise<void>;
}

const WEBHOOK_KINDS = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);

interface WebhookClientConfig {
  service?: { namespace: string; name: string; path?: string; port?: number };
  url?: string;
  caBundle?: string;
}

/** Runs every stopper, the last started first, even when some fail; then fails with all their errors. */
export const stopInReverse = async (stoppers: (() => Promise<void>)[], failure: string): Promise<void> => {
  const errors: unknown[] = [];
  for (const s of stoppers.reverse()) await s().catch((e: unknown) => errors.push(e));
  stoppers.length = 0;
  if (errors.length > 0) throw new AggregateError(errors, failure);
};

/** The Knative Services of the install that serve a webhook registration of it (through a plain Service). */
export const webhookBackends = (install: EventPathManifests): ReadonlySet<string> => {
  const names = new Set<string>();
  for (const o of install.objects.filter((x) => WEBHOOK_KINDS.has(x.kind)))
    for (const w of (o as { webhooks?: { clientConfig: WebhookClientConfig }[] }).webhooks ?? []) {
      const svc = w.clientConfig.service;
      const ps = install.podServices.find((p) => p.namespace === svc?.namespace && p.name === svc.name);
      if (ps !== undefined) names.add(ps.knativeService);
    }
  return names;
};

export interface ServicesOptions {
  readonly install: EventPathManifests;
  readonly logDir: string;
  /** Which Knative Services run. */
  readonly run: (service: KnativeService) => boolean;
  /** The kubeconfig a process of this ServiceAccount (of the install's namespace) runs with. */
  readonly kubeconfigFor: (serviceAccount: string) => string | undefined;
  /** Knative Service → container port → local port, for ports other objects reach. */
  readonly podPorts?: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** Secret name → local directory, for Secret volumes. */
  readonly secrets?: ReadonlyMap<string, string>;
  /** Each started process's stop is pushed here. */
  readonly stoppers: (() => Promise<void>)[];
  readonly supervision?: Supervision;
  /** Each supervised process is pushed here. */
  readonly watched: Watched;
}

/** Starts the chosen Knative Services of the install as local processes, at once; fails if any does not start. */
export const startServices = async (o: ServicesOptions): Promise<Map<string, LocalService>> => {
  const services = new Map<string, LocalService>();
  const say = sayOf(o.supervision);
  const started = await Promise.allSettled(
    o.install.services.filter(o.run).map(async (k) => {
      const kubeconfigPath = o.kubeconfigFor(k.serviceAccountName);
      let port: number | undefined; // the first run's, kept by every restart
      const s = await supervise<LocalServiceRun>({
        name: k.name,
        start: async (signal) => {
          const run = await startLocalService({
            service: k,
            logFile: join(o.logDir, `${k.name}.log`),
            ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }),
            extraPorts: o.podPorts?.get(k.name) ?? new Map(),
            ...(o.secrets === undefined ? {} : { secrets: o.secrets }),
            ...(port === undefined ? {} : { port }),
            signal,
          });
          port = run.port;
          return run;
        },
        log: (run) => run.log(8),
        onEvent: (e) => {
          say(describeEvent(e));
        },
        ...(o.supervision?.backoff === undefined ? {} : { backoff: o.supervision.backoff }),
      });
      const first = s.current();
      if (first === undefined) throw new Error(`${k.name}: not running after its start`);
      return { service: supervisedService(first, s), supervised: s };
    }),
  );
  for (const r of started)
    if (r.status === 'fulfilled') {
      services.set(r.value.service.name, r.value.service);
      o.watched.push(r.value.supervised);
      o.stoppers.push(() => r.value.supervised.stop());
    }
  const failed = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length > 0)
    throw new AggregateError(
      failed.map((f) => f.reason as unknown),
      'a Knative Service did not start',
    );
  return services;
};

export interface RoutingOptions {
  readonly install: EventPathManifests;
  readonly logDir: string;
  /** The running Knative Services, by name: the Triggers' subscribers. */
  readonly services: ReadonlyMap<string, LocalService>;
  /** The kubeconfig a source's receive adapter runs with, by the source's ServiceAccount. */
  readonly kubeconfigFor: (serviceAccount: string) => string | undefined;
  /** The namespaces that exist (the adapter's configuration lists them, as the source's reconciler does). */
  readonly namespaces: readonly string[];
  readonly backoffScale?: number;
  /** Narrows a source's adapter configuration (e.g. to the resources a cluster serves). Default: as is. */
  readonly adapterConfig?: (source: ApiServerSource, config: AdapterConfig) => AdapterConfig;
  readonly stoppers: (() => Promise<void>)[];
  readonly supervision?: Supervision;
  readonly watched: Watched;
}

export interface Routing {
  readonly broker: BrokerStandIn;
  readonly adapters: ReadonlyMap<string, Adapter>;
  /** Sends each PingSource's event into the broker, as a tick of its schedule would. */
  readonly ping: () => void;
}

export interface AdapterSupervisionOptions {
  readonly source: ApiServerSource;
  readonly config: AdapterConfig;
  readonly sink: string;
  readonly kubeconfigPath: string;
  readonly logDir: string;
  /** Starts a resync (the PingSource's event). */
  readonly resync: () => void;
  readonly supervision?: Supervision;
}

/**
 * The receive adapter of a source, supervised. Whenever it (re)lists — started again after a death, or its watch
 * broke and it listed anew — a resync follows: a list sends nothing (its store's Replace is a no-op in
 * knative.dev/eventing pkg/adapter/apiserver), so what changed meanwhile is found only by the resync.
 */
export const superviseAdapter = async (
  o: AdapterSupervisionOptions,
): Promise<{ readonly adapter: Adapter; readonly supervised: Supervised<AdapterRun> }> => {
  const say = sayOf(o.supervision);
  // Its reflectors relist one after the other: one resync once they are done (no list for 3 s).
  let relist: NodeJS.Timeout | undefined;
  const relisted = (): void => {
    if (relist !== undefined) clearTimeout(relist);
    relist = setTimeout(() => {
      relist = undefined;
      o.resync();
      say(
        '!! the receive adapter listed again (its watches broke): resync started, for what changed meanwhile.',
      );
    }, 3000);
    relist.unref();
  };
  const s = await supervise<AdapterRun>({
    name: `apiserver_receive_adapter ${o.source.name}`,
    start: (signal) =>
      startAdapter({
        config: o.config,
        name: o.source.name,
        namespace: o.source.namespace,
        sink: o.sink,
        kubeconfigPath: o.kubeconfigPath,
        logFile: join(o.logDir, `apiserver_receive_adapter.${o.source.name}.log`),
        signal,
        onRelist: relisted,
      }),
    log: (run) => run.log(8),
    onEvent: (e: SupervisorEvent) => {
      say(describeEvent(e));
      if (e.kind === 'restarted') {
        o.resync();
        say('!! resync started: what changed while the receive adapter was down is synced now.');
      }
    },
    ...(o.supervision?.backoff === undefined ? {} : { backoff: o.supervision.backoff }),
  });
  const first = s.current();
  if (first === undefined)
    throw new Error(`the receive adapter ${o.source.name}: not running after its start`);
  const adapter = supervisedAdapter(first, s);
  return {
    adapter: {
      ...adapter,
      get pid() {
        return adapter.pid;
      },
      stop: async () => {
        if (relist !== undefined) clearTimeout(relist);
        await s.stop();
      },
    },
    supervised: s,
  };
};

/**
 * The broker stand-in with the install's Triggers, resolving Knative Service references to the local processes,
 * and a receive adapter per ApiServerSource sinking into it; the adapters start last, so the first event finds
 * every subscriber up.
 */
export const startRouting = async (o: RoutingOptions): Promise<Routing> => {
  const { install } = o;
  const resolve = (d: Destination, namespace: string): string | undefined => {
    if ('uri' in d) return d.uri;
    const key = refKey(d, namespace);
    const k = install.services.find((x) => `Service/${x.namespace}/${x.name}` === key);
    return k === undefined ? undefined : o.services.get(k.name)?.url;
  };
  const [brokerSpec, ...moreBrokers] = install.brokers;
  if (brokerSpec === undefined || moreBrokers.length > 0)
    throw new Error('the install must have exactly one Broker');
  const b = await startBroker({
    name: brokerSpec.name,
    namespace: brokerSpec.namespace,
    triggers: install.triggers,
    ...(brokerSpec.delivery === undefined ? {} : { delivery: brokerSpec.delivery }),
    resolve,
    backoffScale: o.backoffScale ?? 1,
  });
  o.stoppers.push(() => b.close());
  const intoBroker = (sink: Destination, namespace: string): boolean =>
    refKey(sink, namespace) === `Broker/${brokerSpec.namespace}/${brokerSpec.name}`;

  const ping = (): void => {
    for (const p of install.pingSources) {
      if (!intoBroker(p.sink, p.namespace)) continue;
      const json = /json/i.test(p.event.datacontenttype ?? '');
      const data =
        p.event.data === undefined ? undefined : json ? (JSON.parse(p.event.data) as unknown) : p.event.data;
      b.publish(
        new CloudEvent<unknown>({
          id: newEventId(),
          type: p.event.type,
          source: p.event.source,
          time: new Date().toISOString(),
          ...(p.event.datacontenttype === undefined ? {} : { datacontenttype: p.event.datacontenttype }),
          ...(data === undefined ? {} : { data }),
        }),
      );
    }
  };
  const adapters = new Map<string, Adapter>();
  for (const source of install.apiServerSources) {
    if (!intoBroker(source.sink, source.namespace))
      throw new Error(`ApiServerSource ${source.name} does not sink into the Broker`);
    const config = source.adapterConfig(o.namespaces);
    const { adapter, supervised } = await superviseAdapter({
      source,
      config: o.adapterConfig?.(source, config) ?? config,
      sink: b.url,
      kubeconfigPath: o.kubeconfigFor(source.serviceAccountName) ?? '',
      logDir: o.logDir,
      resync: ping,
      ...(o.supervision === undefined ? {} : { supervision: o.supervision }),
    });
    adapters.set(source.name, adapter);
    o.watched.push(supervised);
    o.stoppers.push(() => adapter.stop());
  }

  return { broker: b, adapters, ping };
};

export const startStack = async (options: StackOptions = {}): Promise<Stack> => {
  const controlPlane = options.controlPlane ?? (await sharedControlPlane());
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'quay-bridge-stack-'));
  mkdirSync(logDir, { recursive: true });
  const { clusterID, additionalServiceAccounts = [] } = options;
  const objects = (options.installDirs ?? [undefined])
    .flatMap((dir) =>
      clusterID === undefined && additionalServiceAccounts.length === 0
        ? renderInstall(dir)
        : renderInstallFor(clusterID ?? 'openshift', dir, additionalServiceAccounts),
    )
    .filter((o) => options.omit?.(o) !== true);
  const ids = objects.map(objectId);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw new Error(`${twice} is in two of the installed kustomizations`);
  const install = readEventPath(objects);
  const stoppers: (() => Promise<void>)[] = [];
  const kubeconfigs = new Map<string, string>();
  const watched: Watched = [];
  let quay: QuayEmulator | undefined;
  let pinger: NodeJS.Timeout | undefined;

  const stop = async (): Promise<void> => {
    if (pinger !== undefined) clearInterval(pinger);
    try {
      await stopInReverse(stoppers, 'stopping the stack failed');
    } finally {
      if (options.keepLogs !== true && options.logDir === undefined)
        rmSync(logDir, { recursive: true, force: true });
    }
  };

  try {
    // The install, with webhook registrations as a dry run only: they are registered below, pointing here.
    await applyInstallOrThrow(controlPlane.kubeConfig, objects);
    const rest: KubeRest = await kubeRest(controlPlane.kubeConfig);

    quay = await startQuayEmulator(options.quay ?? {});
    const q = quay;
    stoppers.push(() => q.close());
    const httpRegistries = new Set([
      ...(q.url.startsWith('http:') ? [new URL(q.url).host] : []),
      ...(options.httpRegistries ?? []),
    ]);

    const s =
      options.openshift === false
        ? undefined
        : new OpenShiftStandIn({
            webhookTls: webhookTlsFor(controlPlane.pki),
            stepDelayMs: options.buildStepDelayMs ?? 20,
            // Builds push through the registry API of whatever Quay their output names (this emulator, or the user's).
            registry: { scheme: (host) => (httpRegistries.has(host) ? 'http' : 'https') },
          });
    if (s !== undefined) {
      await s.start(controlPlane.kubeConfig);
      stoppers.push(() => s.stop());
    }

    // Credentials: one kubeconfig per ServiceAccount the Knative Services and the sources run as.
    const accounts = new Set([
      ...install.services.map((k) => `${k.namespace}/${k.serviceAccountName}`),
      ...install.apiServerSources.map((a) => `${a.namespace}/${a.serviceAccountName}`),
    ]);
    for (const account of accounts) {
      const [namespace = '', name = ''] = account.split('/');
      const creds = await serviceAccountKubeconfig(controlPlane.kubeConfig, rest, namespace, name, logDir);
      kubeconfigs.set(name, creds.kubeconfigPath);
    }

    // Serving certificates for Secret volumes that hold TLS (the webhook's): issued by the control plane's CA,
    // as the service CA or cert-manager would issue them in a cluster.
    const secrets = new Map<string, string>();
    for (const k of install.services)
      for (const secretName of k.secretMounts.values()) {
        const dir = join(logDir, 'secrets', secretName);
        mkdirSync(dir, { recursive: true });
        const issued = issueCertificate(controlPlane.pki.dir, `stack-${secretName}`, `/CN=${secretName}`, {
          san: 'IP:127.0.0.1',
          serverAuth: true,
        });
        copyFileSync(issued.cert, join(dir, 'tls.crt'));
        copyFileSync(issued.key, join(dir, 'tls.key'));
        secrets.set(secretName, dir);
      }

    // Ports other objects reach a Knative Service's pods on (a plain Service selecting them), mapped to local ones.
    const podPorts = new Map<string, Map<number, number>>(); // Knative Service → container port → local port
    for (const ps of install.podServices)
      for (const containerPort of ps.ports.values()) {
        const ports = podPorts.get(ps.knativeService) ?? new Map<number, number>();
        if (!ports.has(containerPort)) ports.set(containerPort, await freePort());
        podPorts.set(ps.knativeService, ports);
      }

    const services = await startServices({
      install,
      logDir,
      run: (k) => options.runService?.(k) ?? true,
      kubeconfigFor: (account) => kubeconfigs.get(account),
      podPorts,
      secrets,
      stoppers,
      watched,
      ...(options.supervision === undefined ? {} : { supervision: options.supervision }),
    });

    // The webhook registrations of the install, pointed at the local processes over TLS; a registration whose
    // Knative Service was not started is left out (registered, it would refuse every matching request).
    const servedLocally = (w: { clientConfig: WebhookClientConfig }): boolean => {
      const svc = w.clientConfig.service;
      const ps = install.podServices.find((p) => p.namespace === svc?.namespace && p.name === svc.name);
      return ps !== undefined && services.has(ps.knativeService);
    };
    for (const o of objects.filter((x) => WEBHOOK_KINDS.has(x.kind))) {
      const webhooks = (o as { webhooks?: { clientConfig: WebhookClientConfig }[] }).webhooks ?? [];
      if (!webhooks.every(servedLocally)) continue;
      const local = {
        ...o,
        webhooks: webhooks.map((w) => {
          const svc = w.clientConfig.service;
          const ps = install.podServices.find((p) => p.namespace === svc?.namespace && p.name === svc.name);
          const containerPort = ps?.ports.get(svc?.port ?? 443);
          const port =
            containerPort === undefined
              ? undefined
              : podPorts.get(ps?.knativeService ?? '')?.get(containerPort);
          if (svc === undefined || port === undefined || !services.has(ps?.knativeService ?? ''))
            throw new Error(`${objectId(o)}: its service is not a running Knative Service's pods`);
          return {
            ...w,
            clientConfig: {
              url: `https://127.0.0.1:${port}${svc.path ?? '/'}`,
              caBundle: Buffer.from(controlPlane.pki.caPem).toString('base64'),
            },
          };
        }),
      } as KubeObject;
      const answer = await rest.createOrReplace(local, { fieldManager: 'quay-bridge-stack' });
      if (answer.status >= 300)
        throw new Error(`register ${objectId(o)}: HTTP ${answer.status} ${answer.body}`);
      // Unregistered first on stop: with failurePolicy Fail a registration outliving its server refuses requests.
      const path = await rest.objectPath(o);
      stoppers.push(async () => {
        await rest.request('DELETE', path);
      });
    }

    // The broker and a receive adapter per ApiServerSource, over every namespace that exists now.
    const namespaces = (
      (await rest.request('GET', '/api/v1/namespaces')).json as { items: { metadata: { name: string } }[] }
    ).items.map((n) => n.metadata.name);
    const {
      broker: b,
      adapters,
      ping,
    } = await startRouting({
      install,
      logDir,
      services,
      kubeconfigFor: (account) => kubeconfigs.get(account),
      namespaces,
      backoffScale: options.backoffScale ?? 1,
      stoppers,
      watched,
      ...(options.supervision === undefined ? {} : { supervision: options.supervision }),
    });
    if (options.pingIntervalMs !== undefined) pinger = setInterval(ping, options.pingIntervalMs);

    return {
      controlPlane,
      install,
      quay: q,
      standIn: s,
      broker: b,
      adapters,
      services,
      kubeconfigs,
      logDir,
      ping,
      pids: () => watched.flatMap((w) => w.current()?.pid ?? []),
      logs: (lines = 30) =>
        [
          ...[...adapters].map(([name, a]) => `--- apiserver_receive_adapter ${name}\n${a.log(lines)}`),
          ...[...services.values()].map((svc) => `--- ${svc.name}\n${svc.log(lines)}`),
        ].join('\n'),
      processes: () => healthOf(watched),
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
};
