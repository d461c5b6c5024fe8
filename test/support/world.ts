// The integration world of the fault-tolerance tests and the bench: the shared control plane (real kube-apiserver
// and kube-controller-manager), a Quay emulator over real HTTP, one QuayIntegration pointing at it with its token
// Secret, and the OpenShift stand-in creating the project ServiceAccounts. Steps run in this process with the
// production clients (createKubeClient, createQuayClient, the settings source) and a log sink of our own.
import type { KubeConfig } from '@kubernetes/client-node';
import { sharedControlPlane, type ControlPlane } from '../harness/index.js';
import { kubeRest, type KubeRest } from '../event-path/kube-rest.js';
import { OpenShiftStandIn, webhookTlsFor } from '../openshift-standin/index.js';
import { startQuayEmulator, type QuayEmulator } from '../quay-emulator/index.js';
import { createEventRecorder } from '../../shared/kube/events.js';
import { createKubeClient } from '../../shared/kube/http.js';
import { jsonLogger, type Logger } from '../../shared/log.js';
import { createQuayClient } from '../../shared/quay/client.js';
import type { RetryPolicy } from '../../shared/quay/retry.js';
import { countCall } from '../../shared/runtime/calls.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import { createSettingsSource } from '../../shared/settings/load.js';
import { recordLogLine, recordToken } from './log-ledger.js';

export const BRIDGE_NAMESPACE = 'quay-bridge';
export const TOKEN_SECRET = 'quay-integration';
export const INTEGRATION = 'quay';
export const CLUSTER_ID = 'openshift';

export interface World {
  readonly cp: ControlPlane;
  readonly kubeConfig: KubeConfig;
  readonly rest: KubeRest;
  readonly quay: QuayEmulator;
  /** A StepEnv for in-process steps: production clients, settings read afresh (TTL 0), logs into the ledger. */
  readonly stepEnv: (options?: StepEnvOptions) => StepEnv;
  /** Takes note of every token the emulator holds now (the ledger also polls). */
  readonly noteTokens: () => void;
  readonly stop: () => Promise<void>;
}

export interface StepEnvOptions {
  /** Who the step is to the API server (e.g. impersonating its ServiceAccount); default the harness's admin. */
  readonly kubeConfig?: KubeConfig;
  /** Per Quay request attempt (production: QUAY_BRIDGE_QUAY_TIMEOUT_SECONDS). */
  readonly quayTimeoutMs?: number;
  readonly quayRetry?: RetryPolicy;
  /** How long settings are reused (production default 10 s); 0 here by default, so that tests see changes. */
  readonly settingsTtlMs?: number;
  readonly log?: Logger;
}

export interface WorldOptions {
  readonly seed?: number;
  /** Run the OpenShift stand-in (project ServiceAccounts, dockercfg Secrets). Default true. */
  readonly standIn?: boolean;
}

const ok = (what: string, a: { status: number; body: string }): void => {
  if (a.status >= 300 && a.status !== 409)
    throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 300)}`);
};

export const ledgerLogger = (source: string): Logger =>
  jsonLogger((line) => {
    recordLogLine(source, line);
  });

/** Creates (or replaces) the QuayIntegration and its token Secret, pointing at `quay`. */
export const configureIntegration = async (rest: KubeRest, quay: QuayEmulator): Promise<void> => {
  ok(
    'namespace quay-bridge',
    await rest.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: BRIDGE_NAMESPACE },
    }),
  );
  const others = await rest.request('GET', '/apis/quay.redhat.com/v1/quayintegrations');
  const names = ((others.json as { items?: { metadata: { name: string } }[] } | undefined)?.items ?? [])
    .map((i) => i.metadata.name)
    .filter((n) => n !== INTEGRATION);
  if (names.length > 0)
    throw new Error(
      `another test left QuayIntegration(s) ${names.join(', ')}: the steps would refuse to work`,
    );
  const apply = async (path: string, body: object): Promise<void> => {
    ok(
      `apply ${path}`,
      await rest.request(
        'PATCH',
        `${path}?fieldManager=fault-tolerance-tests&force=true`,
        body,
        'application/apply-patch+yaml',
      ),
    );
  };
  await apply(`/api/v1/namespaces/${BRIDGE_NAMESPACE}/secrets/${TOKEN_SECRET}`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: TOKEN_SECRET, namespace: BRIDGE_NAMESPACE },
    type: 'Opaque',
    data: { token: Buffer.from(quay.adminToken).toString('base64') },
  });
  await apply(`/apis/quay.redhat.com/v1/quayintegrations/${INTEGRATION}`, {
    apiVersion: 'quay.redhat.com/v1',
    kind: 'QuayIntegration',
    metadata: { name: INTEGRATION },
    spec: {
      clusterID: CLUSTER_ID,
      credentialsSecret: { namespace: BRIDGE_NAMESPACE, name: TOKEN_SECRET },
      quayHostname: quay.url,
      insecureRegistry: true,
    },
  });
};

export const removeIntegration = async (rest: KubeRest): Promise<void> => {
  await rest.request('DELETE', `/apis/quay.redhat.com/v1/quayintegrations/${INTEGRATION}`);
  await rest.request('DELETE', `/api/v1/namespaces/${BRIDGE_NAMESPACE}/secrets/${TOKEN_SECRET}`);
};

export const startWorld = async (options: WorldOptions = {}): Promise<World> => {
  const cp = await sharedControlPlane();
  const rest = await kubeRest(cp.kubeConfig);
  const quay = await startQuayEmulator({ seed: options.seed ?? 1 });
  const noteTokens = (): void => {
    recordToken(quay.adminToken);
    for (const r of quay.state().robots) recordToken(r.token);
  };
  noteTokens();
  // Robot tokens of deleted organizations vanish from the emulator's state: look often enough to see them all.
  const poll = setInterval(noteTokens, 50);
  poll.unref();
  const standIn =
    options.standIn === false ? undefined : new OpenShiftStandIn({ webhookTls: webhookTlsFor(cp.pki) });
  try {
    await configureIntegration(rest, quay);
    await standIn?.start(cp.kubeConfig);
  } catch (e) {
    clearInterval(poll);
    await quay.close();
    throw e;
  }
  const kube = createKubeClient(cp.kubeConfig, { fieldManager: 'quay-bridge' });
  return {
    cp,
    kubeConfig: cp.kubeConfig,
    rest,
    quay,
    noteTokens,
    stepEnv: (o = {}) => {
      const stepKube =
        o.kubeConfig === undefined ? kube : createKubeClient(o.kubeConfig, { fieldManager: 'quay-bridge' });
      const log = o.log ?? ledgerLogger('in-process');
      return {
        kube: stepKube,
        events: createEventRecorder({ kube: stepKube, instance: 'in-process', log }),
        settings: createSettingsSource({
          kube: stepKube,
          ttlMs: o.settingsTtlMs ?? 0,
          makeQuay: (p) =>
            createQuayClient({
              apiUrl: p.apiUrl,
              token: p.token,
              insecure: p.insecure,
              ...(o.quayTimeoutMs === undefined ? {} : { timeoutMs: o.quayTimeoutMs }),
              ...(o.quayRetry === undefined ? {} : { retry: o.quayRetry }),
              onRequest: () => {
                countCall('quay');
              },
            }),
        }),
        log,
        now: () => new Date(),
        resyncConcurrency: 4,
      };
    },
    stop: async () => {
      noteTokens();
      clearInterval(poll);
      await standIn?.stop();
      await removeIntegration(rest);
      await quay.close();
    },
  };
};
