// The production wiring, and the only module that reads process.env for the sync steps:
//   QUAY_BRIDGE_STEP                    the step this process runs: the reportingInstance of its Events
//   KUBECONFIG                          optional; in the cluster the pod's ServiceAccount is used
//   QUAY_BRIDGE_FIELD_MANAGER           field manager of every write, default quay-bridge
//   QUAY_BRIDGE_SETTINGS_TTL_SECONDS    how long the QuayIntegration and its token are reused, default 10
//   QUAY_BRIDGE_RESYNC_CONCURRENCY      namespaces the resync reconciles at once, default 4
//   QUAY_BRIDGE_QUAY_TIMEOUT_SECONDS    per Quay request attempt, default the client's (10)
//   QUAY_BRIDGE_MAX_IN_FLIGHT           events a step process works on at once, the others wait (runtime/gate.ts);
//                                       default 16
//   QUAY_BRIDGE_MAX_QUEUED              events that may wait for the gate; more are answered 429 (shed), default 2048
//   QUAY_BRIDGE_MAX_QUEUED_SECONDS      nor may one wait longer than this at the pace events finish now, default 60
//   QUAY_BRIDGE_TRACE_KUBE_CALLS        1: log every Kubernetes request with its timing (bench/trace.ts reads them)
// Heavy modules (got, the Quay client) are imported here, lazily, so that loading a step stays light; client-node is
// not loaded at all unless the kubeconfig needs it (kube/access.ts).
import type { KubeAccess } from './kube/access.js';
import { stdoutLogger, type Logger } from './log.js';
import { countCall } from './runtime/calls.js';
import { observeQuayHold, observeQuayRequest } from './runtime/metrics.js';
import type { StepEnv } from './runtime/env.js';
import { sharingReads } from './kube/shared-reads.js';
import { createSettingsSource } from './settings/load.js';

type Env = Readonly<Record<string, string | undefined>>;

const positive = (env: Env, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not "${raw}"`);
  return n;
};

/** QUAY_BRIDGE_MAX_IN_FLIGHT, at least 1. */
export const maxInFlight = (env: Env = process.env): number =>
  Math.max(1, Math.floor(positive(env, 'QUAY_BRIDGE_MAX_IN_FLIGHT', 16)));

/** QUAY_BRIDGE_MAX_QUEUED, at least 0. */
export const maxQueued = (env: Env = process.env): number =>
  Math.floor(positive(env, 'QUAY_BRIDGE_MAX_QUEUED', 2048));

/**
 * QUAY_BRIDGE_MAX_QUEUED_SECONDS in milliseconds: long enough that a burst's queue does not run dry while shed
 * events back off (runtime/gate.ts), and far below the Knative Services' request timeout (300 s). 20 s shed 164–628
 * events of a 100-namespace burst that 60 s held and worked off with none shed (bench:burst, interleaved).
 */
export const maxQueuedMs = (env: Env = process.env): number =>
  positive(env, 'QUAY_BRIDGE_MAX_QUEUED_SECONDS', 60) * 1000;

/** What tests (and the bench) may replace: the cluster to talk to, and where the log lines go. */
export interface WiringOverrides {
  /** client-node's KubeConfig will do. */
  readonly kubeConfig?: KubeAccess;
  readonly log?: Logger;
}

export const productionEnv = async (
  env: Env = process.env,
  overrides: WiringOverrides = {},
): Promise<StepEnv> => {
  const [{ loadKubeAccess }, { createKubeClient }, { createQuayClient }, { createEventRecorder }] =
    await Promise.all([
      import('./kube/access.js'),
      import('./kube/http.js'),
      import('./quay/client.js'),
      import('./kube/events.js'),
    ]);
  const kubeConfig = overrides.kubeConfig ?? (await loadKubeAccess(env));
  const log = overrides.log ?? stdoutLogger();
  const kube = sharingReads(
    createKubeClient(kubeConfig, {
      fieldManager: env.QUAY_BRIDGE_FIELD_MANAGER ?? 'quay-bridge',
      ...(env.QUAY_BRIDGE_TRACE_KUBE_CALLS === '1'
        ? {
            onRequest: (info) => {
              log.info('kube call', { ...info });
            },
          }
        : {}),
    }),
  );
  const timeout = positive(env, 'QUAY_BRIDGE_QUAY_TIMEOUT_SECONDS', 0);
  const settings = createSettingsSource({
    kube,
    ttlMs: positive(env, 'QUAY_BRIDGE_SETTINGS_TTL_SECONDS', 10) * 1000,
    makeQuay: (p) =>
      createQuayClient({
        apiUrl: p.apiUrl,
        token: p.token,
        insecure: p.insecure,
        ...(p.caBundle === undefined ? {} : { caBundle: p.caBundle }),
        ...(timeout > 0 ? { timeoutMs: timeout * 1000 } : {}),
        onRequest: (info) => {
          countCall('quay');
          observeQuayRequest(info);
        },
        onHold: observeQuayHold,
      }),
  });
  return {
    kube,
    settings,
    log,
    events: createEventRecorder({ kube, instance: env.QUAY_BRIDGE_STEP ?? 'step', log }),
    now: () => new Date(),
    resyncConcurrency: Math.max(1, Math.floor(positive(env, 'QUAY_BRIDGE_RESYNC_CONCURRENCY', 4))),
  };
};
