// The whole of quay-bridge on one machine, assembled from the install's manifests (`kubectl apply -k knative`):
//   the control plane (real etcd, kube-apiserver, kube-controller-manager) with the install created in it;
//   the OpenShift stand-in (project ServiceAccounts, build phases, image import) and the Quay emulator;
//   every Knative Service of the install as its own local process (steps under faas-js-runtime, the webhook),
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
import { OpenShiftStandIn, parseImageRef, webhookTlsFor } from '../openshift-standin/index.js';
import { startQuayEmulator, type QuayEmulator, type QuayEmulatorOptions } from '../quay-emulator/index.js';
import { startAdapter, type Adapter } from './adapter.js';
import { newEventId, startBroker, type BrokerStandIn } from './broker.js';
import type { Destination } from './delivery.js';
import { applyInstallOrThrow, serviceAccountKubeconfig } from './install.js';
import { kubeRest, type KubeRest } from './kube-rest.js';
import { objectId, type KubeObject } from './kustomize.js';
import {
  readEventPath,
  refKey,
  renderInstall,
  type EventPathManifests,
  type KnativeService,
} from './manifests.js';
import { startLocalService, type LocalService } from './services.js';

export interface StackOptions {
  /** Default: the shared control plane of the test run (not stopped by the stack). */
  readonly controlPlane?: ControlPlane;
  /** The kustomizations to install, together. Default: knative/ (the OpenShift flavour). */
  readonly installDirs?: readonly string[];
  /** Which Knative Services run as processes. Default: all of them. */
  readonly runService?: (service: KnativeService) => boolean;
  /** Multiplies the Triggers' back-off (tests: e.g. 0.01). Default 1. */
  readonly backoffScale?: number;
  readonly quay?: QuayEmulatorOptions;
  /** Pause between the stand-in's Build phases. Default 20 ms. */
  readonly buildStepDelayMs?: number;
  /** Send the PingSources' events this often. Default: only when ping() is called. */
  readonly pingIntervalMs?: number;
  /** Where logs go; default a temporary directory, removed by stop() unless keepLogs. */
  readonly logDir?: string;
  readonly keepLogs?: boolean;
}

export interface Stack {
  readonly controlPlane: ControlPlane;
  readonly install: EventPathManifests;
  readonly quay: QuayEmulator;
  readonly standIn: OpenShiftStandIn;
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
  readonly stop: () => Promise<void>;
}

const WEBHOOK_KINDS = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);

interface WebhookClientConfig {
  service?: { namespace: string; name: string; path?: string; port?: number };
  url?: string;
  caBundle?: string;
}

/** The stand-in's pushes mirrored into Quay: a Build pushing <host>/<org>/<repo>:<tag> makes that tag exist. */
const mirrorPush =
  (quay: () => QuayEmulator | undefined) =>
  (ref: string, digest: string): void => {
    const parsed = parseImageRef(ref);
    const emulator = quay();
    if (emulator === undefined || parsed === undefined) throw new Error(`cannot push ${ref}`);
    // <registry host>/<organization>/<repository>
    const [, org = '', ...repo] = parsed.repository.split('/');
    emulator.pushTag(org, repo.join('/'), parsed.tag ?? 'latest', digest);
  };

export const startStack = async (options: StackOptions = {}): Promise<Stack> => {
  const controlPlane = options.controlPlane ?? (await sharedControlPlane());
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'quay-bridge-stack-'));
  mkdirSync(logDir, { recursive: true });
  const objects = (options.installDirs ?? [undefined]).flatMap((dir) => renderInstall(dir));
  const ids = objects.map(objectId);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice !== undefined) throw new Error(`${twice} is in two of the installed kustomizations`);
  const install = readEventPath(objects);
  const stoppers: (() => Promise<void>)[] = [];
  const services = new Map<string, LocalService>();
  const kubeconfigs = new Map<string, string>();
  let quay: QuayEmulator | undefined;
  let pinger: NodeJS.Timeout | undefined;

  const stop = async (): Promise<void> => {
    if (pinger !== undefined) clearInterval(pinger);
    const errors: unknown[] = [];
    for (const s of stoppers.reverse()) await s().catch((e: unknown) => errors.push(e));
    stoppers.length = 0;
    if (options.keepLogs !== true && options.logDir === undefined)
      rmSync(logDir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'stopping the stack failed');
  };

  try {
    // The install, with webhook registrations as a dry run only: they are registered below, pointing here.
    await applyInstallOrThrow(controlPlane.kubeConfig, objects);
    const rest: KubeRest = await kubeRest(controlPlane.kubeConfig);

    quay = await startQuayEmulator(options.quay ?? {});
    const q = quay;
    stoppers.push(() => q.close());

    const s = new OpenShiftStandIn({
      webhookTls: webhookTlsFor(controlPlane.pki),
      stepDelayMs: options.buildStepDelayMs ?? 20,
      onPush: mirrorPush(() => quay),
    });
    await s.start(controlPlane.kubeConfig);
    stoppers.push(() => s.stop());

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

    const wanted = install.services.filter((k) => options.runService?.(k) ?? true);
    const started = await Promise.allSettled(
      wanted.map((k) => {
        const kubeconfigPath = kubeconfigs.get(k.serviceAccountName);
        return startLocalService({
          service: k,
          logFile: join(logDir, `${k.name}.log`),
          ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }),
          extraPorts: podPorts.get(k.name) ?? new Map(),
          secrets,
        });
      }),
    );
    for (const r of started)
      if (r.status === 'fulfilled') {
        services.set(r.value.name, r.value);
        stoppers.push(() => r.value.stop());
      }
    const failed = started.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0)
      throw new AggregateError(
        failed.map((f) => f.reason as unknown),
        'a Knative Service did not start',
      );

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

    // The broker, resolving Knative Service references to the local processes.
    const resolve = (d: Destination, namespace: string): string | undefined => {
      if ('uri' in d) return d.uri;
      const key = refKey(d, namespace);
      const k = install.services.find((x) => `Service/${x.namespace}/${x.name}` === key);
      return k === undefined ? undefined : services.get(k.name)?.url;
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
      backoffScale: options.backoffScale ?? 1,
    });
    stoppers.push(() => b.close());

    // A receive adapter per ApiServerSource, each sinking into the broker with its own ServiceAccount's token.
    const namespaces = (
      (await rest.request('GET', '/api/v1/namespaces')).json as { items: { metadata: { name: string } }[] }
    ).items.map((n) => n.metadata.name);
    const adapters = new Map<string, Adapter>();
    for (const source of install.apiServerSources) {
      if (refKey(source.sink, source.namespace) !== `Broker/${brokerSpec.namespace}/${brokerSpec.name}`)
        throw new Error(`ApiServerSource ${source.name} does not sink into the Broker`);
      const a = await startAdapter({
        config: source.adapterConfig(namespaces),
        name: source.name,
        namespace: source.namespace,
        sink: b.url,
        kubeconfigPath: kubeconfigs.get(source.serviceAccountName) ?? '',
        logFile: join(logDir, `apiserver_receive_adapter.${source.name}.log`),
      });
      adapters.set(source.name, a);
      stoppers.push(() => a.stop());
    }

    const ping = (): void => {
      for (const p of install.pingSources) {
        if (refKey(p.sink, p.namespace) !== `Broker/${brokerSpec.namespace}/${brokerSpec.name}`) continue;
        const json = /json/i.test(p.event.datacontenttype ?? '');
        const data =
          p.event.data === undefined
            ? undefined
            : json
              ? (JSON.parse(p.event.data) as unknown)
              : p.event.data;
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
      pids: () => [
        ...[...adapters.values()].map((a) => a.pid),
        ...[...services.values()].map((svc) => svc.pid),
      ],
      logs: (lines = 30) =>
        [
          ...[...adapters].map(([name, a]) => `--- apiserver_receive_adapter ${name}\n${a.log(lines)}`),
          ...[...services.values()].map((svc) => `--- ${svc.name}\n${svc.log(lines)}`),
        ].join('\n'),
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
};
