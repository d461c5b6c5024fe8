// The dead-letter sink of every Trigger: the broker sends here each event a step refused (4xx) or kept failing
// after its last retry, with Knative's extensions saying where it went and what came back (knativeerrordest,
// knativeerrorcode, knativeerrordata: the answer's body, base64). Nothing is lost: each one is logged at error
// level with those facts, and acknowledged whatever it looks like (an answer other than 2xx here has nowhere
// further to go). The resync repairs what the event was about once its cause is fixed.
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import type { LogEnv } from '../../shared/log.js';
import type { Step, StepResult } from '../../shared/runtime/handler.js';

const MAX_ERROR_DATA = 2000;

const attribute = (ce: unknown, key: string): string | undefined => {
  if (typeof ce !== 'object' || ce === null) return undefined;
  const v = (ce as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
};

/** The failing answer's body, decoded and bounded (it is the step's own message, never a token: steps log none). */
const errorData = (ce: unknown): string | undefined => {
  const data = attribute(ce, 'knativeerrordata');
  if (data === undefined) return undefined;
  const text = Buffer.from(data, 'base64').toString('utf8');
  return text.length > MAX_ERROR_DATA ? `${text.slice(0, MAX_ERROR_DATA)}…` : text;
};

export const deadLetterFacts = (ce: unknown): Readonly<Record<string, string>> => {
  const facts: Record<string, string> = {};
  for (const [field, key] of [
    ['destination', 'knativeerrordest'],
    ['status', 'knativeerrorcode'],
    ['eventType', 'type'],
    ['eventSource', 'source'],
    ['subject', 'subject'],
  ] as const) {
    const v = attribute(ce, key);
    if (v !== undefined) facts[field] = v;
  }
  const answer = errorData(ce);
  if (answer !== undefined) facts.answer = answer;
  return facts;
};

export const deadLetterStep: Step<LogEnv> = {
  name: 'dead-letter',
  run: (ce) => (env) => {
    env.log.error('dead-lettered event', { ...deadLetterFacts(ce), id: attribute(ce, 'id') ?? '' });
    return RTE.right<LogEnv, never, StepResult>({ outcome: 'ignored', reason: 'dead-lettered: logged' })(env);
  },
};
