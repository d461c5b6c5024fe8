// The webhook as a faas-js-runtime function module, for the one image whose start command is the function runtime
// (../../func.yaml, the step picked by QUAY_BRIDGE_STEP): `init` opens the HTTPS admission port and the informers,
// the runtime's own server on PORT answers /health/liveness and /health/readiness (ready once the QuayIntegration
// has been read), and `handle` refuses everything: nothing is meant to call the function itself.
import { exposeOnRuntime } from '../../shared/runtime/metrics.js';
import { optionsFromEnvironment, startWebhook, type Webhook } from './main.js';

/** The part of fastify's reply the runtime hands a readiness handler (fastify is the runtime's, not ours). */
interface Reply {
  code: (status: number) => Reply;
  header: (name: string, value: string) => Reply;
  send: (body: string) => unknown;
}

let webhook: Webhook | undefined;

export const init = async (): Promise<void> => {
  exposeOnRuntime(); // the admissions' metrics on the runtime's /metrics
  webhook ??= await startWebhook(optionsFromEnvironment(process.env, false));
};

export const readiness = (_request: unknown, reply: Reply): void => {
  const ready = webhook?.ready() === true;
  reply
    .code(ready ? 200 : 503)
    .header('content-type', 'text/plain; charset=utf-8')
    .send(ready ? 'OK' : 'the QuayIntegration has not been read yet');
};

export const shutdown = async (): Promise<void> => {
  await webhook?.stop();
  webhook = undefined;
};

export const handle = (): { statusCode: number; headers: Record<string, string>; body: string } => ({
  statusCode: 404,
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: 'the quay-bridge webhook takes admissions on its HTTPS port, at /admissionwebhook',
});
