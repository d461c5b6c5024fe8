// The build step under its real runtime (faas-js-runtime over HTTP), as its own process: faas-js-runtime installs
// process-wide exit handlers that have no place in the mocha process. Env: KUBECONFIG, PORT.
import { KubeConfig } from '@kubernetes/client-node';
import faas from 'faas-js-runtime';
import { buildStep } from '../../../functions/build/handle.js';
import type { BuildEnv } from '../../../functions/build/apply.js';
import { createKubeClient } from '../../../shared/kube/http.js';
import { stdoutLogger } from '../../../shared/log.js';
import { makeHandler } from '../../../shared/runtime/handler.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromDefault();
const env: BuildEnv = {
  kube: createKubeClient(kubeConfig, { fieldManager: 'quay-bridge' }),
  log: stdoutLogger(),
};
await faas.start(
  { handle: makeHandler(buildStep, () => Promise.resolve(env)) },
  { port: Number(process.env.PORT) },
);
