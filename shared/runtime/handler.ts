// The wrapper every step runs in: take the CloudEvent faas-js-runtime decoded (binary or structured mode), run the
// step's decode → plan → apply, turn the result into the broker's answer (answer.ts), and log one JSON line.
//
// faas-js-runtime (lib/invoker.js) calls handle(context, event) with `context.cloudevent` set when the request is a
// CloudEvent; otherwise the second argument is the raw body. A returned `{statusCode, headers, body}` is sent as is;
// a thrown error becomes a 500 with its message as body. A 2xx is sent here as 204 with an empty body: the broker
// would turn a 2xx with a body that is not a CloudEvent into a 502.
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import type * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { answerOf, answerOfError, type Answer, type Outcome } from '../answer.js';
import { describeError, type SyncError } from '../errors.js';
import type { LogEnv } from '../log.js';
import { withCallCounts } from './calls.js';
import { createGate, type Gate } from './gate.js';
import { observeEvent, observeShed } from './metrics.js';

/** What a step did, finishing the sentence "<kind> <namespace>/<name> was …". */
export interface StepResult {
  readonly outcome: Outcome;
  /** Why, for `ignored` (and a short summary otherwise). */
  readonly reason?: string;
  /** Details worth a log field (counts, what changed). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface Step<Env> {
  /** The step's name in logs, e.g. `namespace`. */
  readonly name: string;
  readonly run: (event: unknown) => RTE.ReaderTaskEither<Env, SyncError, StepResult>;
}

/** What faas-js-runtime passes; only the CloudEvent is read. */
export interface InvocationContext {
  readonly cloudevent?: unknown;
}

export interface HttpAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export const httpAnswerOf = (answer: Answer): HttpAnswer => ({
  statusCode: answer.status,
  headers: {
    'content-type': 'text/plain; charset=utf-8',
    ...(answer.retryAfterSeconds === undefined
      ? {}
      : { 'retry-after': String(Math.ceil(answer.retryAfterSeconds)) }),
  },
  body: answer.status >= 200 && answer.status < 300 ? '' : (answer.message ?? ''),
});

const str = (o: unknown, key: string): string | undefined => {
  if (typeof o !== 'object' || o === null) return undefined;
  const v = (o as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** The fields of the log line that come from the event itself (read leniently: the event may be garbage). */
const eventFields = (ce: unknown): Record<string, unknown> => ({
  id: str(ce, 'id'),
  type: str(ce, 'type'),
  kind: str(ce, 'kind'),
  namespace: str(ce, 'namespace'),
  name: str(ce, 'name'),
});

/** No bound: every event is worked on as it comes (unit tests that do not care). */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

export const makeHandler =
  <Env extends LogEnv>(
    step: Step<Env>,
    environment: () => Promise<Env>,
    gate: Gate = createGate(UNBOUNDED),
  ) =>
  async (context: InvocationContext, _event?: unknown): Promise<HttpAnswer> => {
    const started = performance.now();
    const arrival = { wall: Date.now(), mono: started };
    const ce = context.cloudevent;
    const env = await environment();
    if (gate.full()) {
      // Shed before any work: the broker retries a 429, by then the queue has moved.
      // The wait it would have had (a second a round of tasks before any finished); the broker may not honour it.
      const expected = gate.expectedWaitMs();
      const retryAfterSeconds = Math.max(
        1,
        Math.ceil(expected > 0 ? expected / 1000 : gate.waiting() / gate.limit),
      );
      env.log.warn('event shed', {
        ...eventFields(ce),
        step: step.name,
        status: 429,
        waiting: gate.waiting(),
        retryAfterSeconds,
      });
      observeShed(step.name, str(ce, 'kind'));
      return httpAnswerOf({
        status: 429,
        outcome: 'failed',
        message: `busy: ${String(gate.waiting())} events are waiting; retry later`,
        retryAfterSeconds,
      });
    }
    let answer: Answer;
    let result: StepResult | undefined;
    let error: SyncError | undefined;
    let bug: unknown;
    let queuedMs = 0;
    const { calls } = await gate.run(() => {
      queuedMs = performance.now() - started;
      return withCallCounts(async () => {
        try {
          const outcome = await step.run(ce)(env)();
          if (E.isRight(outcome)) result = outcome.right;
          else error = outcome.left;
        } catch (e) {
          bug = e;
        }
      }, arrival);
    });
    if (bug !== undefined)
      answer = { status: 500, outcome: 'failed', message: 'internal error (see the log)' };
    else if (error !== undefined) answer = answerOfError(error);
    else answer = answerOf(result?.outcome ?? 'ignored');
    const fields = {
      ...eventFields(ce),
      step: step.name,
      outcome: answer.outcome,
      status: answer.status,
      ...(result?.reason === undefined ? {} : { reason: result.reason }),
      ...(result?.details === undefined ? {} : { details: result.details }),
      ...(error === undefined ? {} : { error: describeError(error), errorTag: error._tag }),
      ...(bug === undefined
        ? {}
        : {
            error:
              bug instanceof Error
                ? (bug.stack ?? bug.message)
                : typeof bug === 'string'
                  ? bug
                  : 'a non-Error was thrown',
          }),
      durationMs: Math.round(performance.now() - started),
      ...(queuedMs >= 1 ? { queuedMs: Math.round(queuedMs) } : {}),
      quayCalls: calls.quay,
      kubeCalls: calls.kube,
    };
    observeEvent(
      step.name,
      str(ce, 'kind'),
      answer.outcome,
      (performance.now() - started) / 1000,
      queuedMs / 1000,
    );
    if (bug !== undefined || answer.status >= 500) env.log.error('event handled', fields);
    else if (answer.status >= 400) env.log.warn('event handled', fields);
    else env.log.info('event handled', fields);
    return httpAnswerOf(answer);
  };
