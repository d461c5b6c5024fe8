// What the host's /metrics serves: the bridge's metrics (shared/runtime/metrics.ts, same names as on
// faas-js-runtime's /metrics before) and the process's own (process_*, nodejs_*), which faas-js-runtime's registry
// had too. Its faas_* metrics are gone: the bridge's count events and their answers by step and result.
import prom from 'prom-client';
import { registerMetrics } from '../../shared/runtime/metrics.js';

export interface Exposition {
  readonly contentType: string;
  readonly text: string;
}

export const hostMetrics = (): (() => Promise<Exposition>) => {
  const registry = new prom.Registry();
  registerMetrics(registry);
  prom.collectDefaultMetrics({ register: registry });
  return async () => ({ contentType: registry.contentType, text: await registry.metrics() });
};
