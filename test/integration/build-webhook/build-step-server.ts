// The build step under its real runtime (faas-js-runtime over HTTP), as its own process: faas-js-runtime installs
// process-wide exit handlers that have no place in the mocha process. Env: KUBECONFIG, PORT.
import { KubeConfig } from '@kubernetes/client-node';
import faas from 'faas-js-runtime';
import { buildStep } from '../../../functions/build/handle.js';
import type { BuildEnv } from '../../../functions/build/apply.js';
import { createEventRecorder } from '../../../shared/kube/events.js';
import { createKubeClient } from '../../../shared/kube/http.js';
import { stdoutLogger } from '../../../shared/log.js';
import { createQuayClient } from '../../../shared/quay/client.js';
import { makeHandler } from '../../../shared/runtime/handler.js';
import { createSettingsSource } from '../../../shared/settings/load.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const kube = createKubeClient(kubeConfig, { fieldManager: 'quay-bridge' });
const log = stdoutLogger();
const env: BuildEnv = {
  kube,
  log,
  // TTL 0: the test changes the QuayIntegration and expects the next event to see it.
  settings: createSettingsSource({
    kube,
    ttlMs: 0,
    makeQuay: (p) =>
      createQuayClient({
        apiUrl: p.apiUrl,
        token: p.token,
        insecure: p.insecure,
        ...(p.caBundle === undefined ? {} : { caBundle: p.caBundle }),
      }),
  }),
  events: createEventRecorder({ kube, instance: 'build', log }),
};
await faas.start(
  { handle: makeHandler(buildStep, () => Promise.resolve(env)) },
  { port: Number(process.env.PORT) },
);
