// Delivering one CloudEvent to a step the way the Knative broker does (docs/design.md#event-delivery; Trigger
// delivery in eventing/triggers.yaml): retried on no answer, 5xx, 404, 408, 409 and 429, with exponential back-off,
// a bounded number of times; any other answer ends the delivery (2xx done, other 4xx dead-lettered). The wait is
// scaled down from the triggers' PT0.5S so that tests stay short; the bound and the classification are Knative's.
import http from 'node:http';
import { HTTP, type CloudEvent } from 'cloudevents';
import { classify } from '../event-path/delivery.js';
import type { StepName } from '../../functions/index.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import { makeHandler, type Step } from '../../shared/runtime/handler.js';

export interface Attempt {
  /** undefined: no answer (connection refused or reset, timed out). */
  readonly status: number | undefined;
  readonly retryAfter?: string | undefined;
  readonly body?: string;
}

/** One attempt at handing an event to a step. */
export type Transport = (step: StepName, event: CloudEvent<unknown>) => Promise<Attempt>;

export interface DeliveryPolicy {
  /** Retries after the first attempt (the triggers say 10). */
  readonly retry: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export const TEST_DELIVERY: DeliveryPolicy = { retry: 10, backoffMs: 50, maxBackoffMs: 1_000 };

export interface DeliveryResult {
  readonly step: StepName;
  readonly event: CloudEvent<unknown>;
  readonly attempts: readonly Attempt[];
  readonly verdict: 'done' | 'dead-lettered';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const deliver = async (
  transport: Transport,
  step: StepName,
  event: CloudEvent<unknown>,
  policy: DeliveryPolicy = TEST_DELIVERY,
): Promise<DeliveryResult> => {
  const attempts: Attempt[] = [];
  for (let n = 0; ; n++) {
    const a = await transport(step, event).catch((): Attempt => ({ status: undefined }));
    attempts.push(a);
    const verdict = classify(a.status);
    if (verdict === 'done') return { step, event, attempts, verdict: 'done' };
    if (verdict === 'give-up' || n >= policy.retry)
      return { step, event, attempts, verdict: 'dead-lettered' };
    await sleep(Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** n));
  }
};

const stepModules: Record<StepName, () => Promise<Step<StepEnv>>> = {
  namespace: async () => (await import('../../functions/namespace/handle.js')).namespaceStep,
  'service-account': async () =>
    (await import('../../functions/service-account/handle.js')).serviceAccountStep,
  'image-stream': async () => (await import('../../functions/image-stream/handle.js')).imageStreamStep,
  resync: async () => (await import('../../functions/resync/handle.js')).resyncStep,
  build: () => Promise.reject(new Error('the build step has its own environment; not driven here')),
};

/** Steps run in this process by the runtime wrapper every step runs in (makeHandler), with `env`. */
export const inProcess = (env: StepEnv): Transport => {
  const handlers = new Map<StepName, Promise<ReturnType<typeof makeHandler>>>();
  return async (step, event) => {
    let h = handlers.get(step);
    if (h === undefined) {
      h = stepModules[step]().then((s) => makeHandler(s, () => Promise.resolve(env)));
      handlers.set(step, h);
    }
    const answer = await (await h)({ cloudevent: event }, event.data);
    return { status: answer.statusCode, retryAfter: answer.headers['retry-after'], body: answer.body };
  };
};

/**
 * Steps reached over HTTP in binary mode, as the broker sends them, over kept-alive connections (as the broker's
 * dispatcher keeps them). node's own http client rather than fetch: in a burst this stand-in shares the two cores with
 * the steps it measures, and fetch spent about twice its CPU per delivery.
 */
export const overHttp = (urlOf: (step: StepName) => string, timeoutMs = 30_000): Transport => {
  const agent = new http.Agent({ keepAlive: true });
  return (step, event) =>
    new Promise<Attempt>((resolve, reject) => {
      const message = HTTP.binary(event);
      const body = Buffer.from(message.body as string);
      const req = http.request(
        urlOf(step),
        {
          method: 'POST',
          agent,
          headers: { ...(message.headers as Record<string, string>), 'content-length': String(body.length) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const retryAfter = res.headers['retry-after'];
            resolve({
              status: res.statusCode,
              retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${step} in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
};
