// The image's process for every step (knative/base, Procfile `web`): `node dist/functions/host.js`, one file that
// `npm run build` bundles with every dependency (functions/bundle.ts), serving the step QUAY_BRIDGE_STEP names
// through the lean host (host/server.ts) instead of faas-js-runtime, whose own start (fastify, its metrics, its
// CLI's modules) was most of a step's cold start (docs/design.md#packaging). The step is the same
// `handle(context, event)` faas-js-runtime calls (functions/index.ts), so `faas-js-runtime dist/functions/index.js`
// still serves it too.
//   PORT               the port (Knative's), default 8080
//   FUNC_BODY_LIMIT    the largest request body read, default BODY_LIMIT_BYTES (faas-js-runtime's name for it)
//   QUAY_BRIDGE_STEP   and the other QUAY_BRIDGE_* settings (functions/README.md)
import { pathToFileURL } from 'node:url';
import { stdoutLogger } from '../shared/log.js';
import { hostMetrics } from './host/metrics.js';
import { startHost, type Host } from './host/server.js';
import { BODY_LIMIT_BYTES, loadHandler } from './index.js';

export interface HostSettings {
  readonly port: number;
  readonly bodyLimit: number;
}

const positive = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number, not ${value}`);
  return n;
};

export const hostSettings = (env: NodeJS.ProcessEnv): HostSettings => ({
  port: positive('PORT', env.PORT, 8080),
  bodyLimit: positive('FUNC_BODY_LIMIT', env.FUNC_BODY_LIMIT, BODY_LIMIT_BYTES),
});

/** Builds the step (a misconfigured one fails the start, visibly), then listens. */
export const startStepHost = async (step: string | undefined, settings: HostSettings): Promise<Host> => {
  const handle = await loadHandler(step);
  const log = stdoutLogger();
  return startHost({
    port: settings.port,
    bodyLimit: settings.bodyLimit,
    handle,
    metrics: hostMetrics(),
    onError: (e) => {
      log.error('request failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    },
  });
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const host = await startStepHost(process.env.QUAY_BRIDGE_STEP, hostSettings(process.env));
  // Kubernetes sends SIGTERM, then SIGKILL after the grace period: answer what is in flight, then go.
  const stop = (): void => {
    void host.drain().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
