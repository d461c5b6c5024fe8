// The steps as a function module: `loadHandler` builds the step QUAY_BRIDGE_STEP names for the image's host
// (host.ts); `init` and `handle(context, event)` serve the same step under faas-js-runtime (`faas-js-runtime
// dist/functions/index.js`), which calls `init` before it listens. Only that step's modules are imported
// (dynamically), and built before the first request, so a cold start pays for one step.
import type { HttpAnswer, InvocationContext } from '../shared/runtime/handler.js';
import { answerInvalidCloudEventsWith400 } from './runtime-patches.js';

/**
 * The largest request a step reads (FUNC_BODY_LIMIT in each step's Knative Service, read by the host and by
 * faas-js-runtime): above
 * the 3 MiB the API server takes for one request, so the event of any object it holds fits, with its envelope.
 */
export const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

type Handler = (context: InvocationContext, event?: unknown) => Promise<HttpAnswer>;

const steps = {
  namespace: async () => (await import('./namespace/handle.js')).namespaceStep,
  'service-account': async () => (await import('./service-account/handle.js')).serviceAccountStep,
  'image-stream': async () => (await import('./image-stream/handle.js')).imageStreamStep,
  resync: async () => (await import('./resync/handle.js')).resyncStep,
  build: async () => (await import('./build/handle.js')).buildStep,
} as const;

export type StepName = keyof typeof steps;

export const isStepName = (s: string | undefined): s is StepName =>
  s !== undefined && Object.hasOwn(steps, s);

/** The handler of one step with the production environment. */
export const loadHandler = async (name: string | undefined): Promise<Handler> => {
  if (name === 'dead-letter') {
    // The dead-letter sink talks to neither Kubernetes nor Quay (its pod mounts no token): only a logger.
    const [{ makeHandler }, { stdoutLogger }, { deadLetterStep }] = await Promise.all([
      import('../shared/runtime/handler.js'),
      import('../shared/log.js'),
      import('./dead-letter/handle.js'),
    ]);
    const env = { log: stdoutLogger() };
    return makeHandler(deadLetterStep, () => Promise.resolve(env));
  }
  if (!isStepName(name))
    throw new Error(
      `QUAY_BRIDGE_STEP must be one of ${[...Object.keys(steps), 'dead-letter'].join(', ')}, not ${JSON.stringify(name)}`,
    );
  const [
    { makeHandler },
    { createGate },
    { watchGate },
    { productionEnv, maxInFlight, maxQueued, maxQueuedMs },
    step,
  ] = await Promise.all([
    import('../shared/runtime/handler.js'),
    import('../shared/runtime/gate.js'),
    import('../shared/runtime/metrics.js'),
    import('../shared/wiring.js'),
    steps[name](),
  ]);
  const gate = createGate(maxInFlight(), maxQueued(), { maxWaitMs: maxQueuedMs() });
  watchGate(() => gate.waiting());
  const env = await productionEnv();
  // Not awaited: the read overlaps the runtime's own start, and the first event waits for it if it must.
  void env.settings.warm();
  return makeHandler(step, () => Promise.resolve(env), gate);
};

let loaded: Promise<Handler> | undefined;
const handler = (): Promise<Handler> => (loaded ??= loadHandler(process.env.QUAY_BRIDGE_STEP));

/** Called by faas-js-runtime before the server listens: a misconfigured step fails the start, visibly. */
export const init = async (): Promise<void> => {
  answerInvalidCloudEventsWith400();
  (await import('../shared/runtime/metrics.js')).exposeOnRuntime();
  await handler();
};

export const handle = async (context: InvocationContext, event?: unknown): Promise<HttpAnswer> =>
  (await handler())(context, event);
