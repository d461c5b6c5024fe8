// Reading Quay's error answers into the tagged QuayError. Quay has five error body shapes
// (docs/quay-api.md#error-bodies): A {detail, error_message, …}, B and C {message}, D {error} labelled text/html, and E a
// Werkzeug HTML page. Messages are built from Quay's words, the method and the path only: never from request options
// (got's errors carry the headers, and so the token).
import type { QuayResponse } from './request.js';
import type { QuayError } from './types.js';

const MAX_MESSAGE = 300;

const firstLine = (s: string): string => {
  const line = s.split('\n').find((l) => l.trim() !== '') ?? '';
  const trimmed = line.trim();
  return trimmed.length > MAX_MESSAGE ? `${trimmed.slice(0, MAX_MESSAGE)}…` : trimmed;
};

/**
 * Quay's own message from an error body, looking at detail → error_message → message → error (the order of Quay's
 * UI, web/src/resources/ErrorHandling.ts). Only the first line is kept: jsonschema failures append the whole schema
 * after a blank line, and only the first line is stable across jsonschema versions (docs/quay-api.md#error-bodies).
 */
export const quayMessage = (body: unknown): string | undefined => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Readonly<Record<string, unknown>>;
  for (const key of ['detail', 'error_message', 'message', 'error']) {
    const value = fields[key];
    if (typeof value === 'string' && value.trim() !== '') return firstLine(value);
  }
  return undefined;
};

/** Quay's message, or what the body was when it had none (an HTML page from a router, an empty 502, …). */
export const describeBody = (res: Pick<QuayResponse, 'body' | 'text' | 'headers'>): string => {
  const message = quayMessage(res.body);
  if (message !== undefined) return message;
  if (res.text.trim() === '') return 'an empty body';
  const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (type === 'text/html' || /^\s*</.test(res.text)) return 'an HTML page';
  if (type === 'text/plain' && !res.text.includes('\n')) return firstLine(res.text);
  return `a ${type === '' ? 'body' : type} body of ${res.text.length} characters`;
};

/**
 * Quay's CSRF check runs before the endpoint and fires on every write whose bearer token is missing, unknown or
 * expired: 403 {"error": "CSRF token was invalid or missing."} (docs/quay-api.md#request-handling). It means "bad token", not "not allowed".
 */
export const isCsrfRejection = (res: Pick<QuayResponse, 'status' | 'body'>): boolean => {
  if (res.status !== 403 || typeof res.body !== 'object' || res.body === null) return false;
  const error = (res.body as Readonly<Record<string, unknown>>)['error'];
  return typeof error === 'string' && /csrf/i.test(error);
};

/** True for the given status with Quay's message matching the pattern, e.g. 400 "Existing robot with name". */
export const answered = (
  res: Pick<QuayResponse, 'status' | 'body'>,
  status: number,
  pattern: RegExp,
): boolean => res.status === status && pattern.test(quayMessage(res.body) ?? '');

const where = (res: Pick<QuayResponse, 'method' | 'path'>): string => `${res.method} ${res.path}`;

/** Seconds from a Retry-After in milliseconds, rounded up so that "retry in 0.2 s" is not "retry now". */
const seconds = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : Math.ceil(ms / 1000);

/**
 * The QuayError for an answer the operation did not expect. 401 and the CSRF 403 mean the token is bad; 429 and 5xx
 * are transient (they arrive here only after the retry policy gave up); any other 4xx is Quay refusing, in its words.
 * A 1xx/2xx/3xx the operation did not expect is a response we cannot interpret.
 */
export const failureOf = (
  res: QuayResponse,
  context?: { attempts?: number; retryAfterMs?: number },
): QuayError => {
  const tries =
    context?.attempts !== undefined && context.attempts > 1 ? ` after ${context.attempts} attempts` : '';
  if (res.status === 401 || isCsrfRejection(res))
    return {
      _tag: 'QuayAuthFailed',
      status: res.status,
      message: `Quay did not accept the token (${res.status} to ${where(res)}: ${describeBody(res)})`,
    };
  if (res.status === 429)
    return { _tag: 'QuayRateLimited', retryAfterSeconds: seconds(context?.retryAfterMs) };
  if (res.status >= 500)
    return {
      _tag: 'QuayUnavailable',
      status: res.status,
      message: `Quay answered ${res.status} to ${where(res)}${tries}: ${describeBody(res)}`,
    };
  if (res.status >= 400) return { _tag: 'QuayRejected', status: res.status, message: describeBody(res) };
  return {
    _tag: 'QuayResponseInvalid',
    status: res.status,
    message: `unexpected ${res.status} to ${where(res)}: ${describeBody(res)}`,
  };
};

/** Whether a refusal of Quay's (a QuayRejected) can pass without anyone acting, and why. */
export interface RejectionClass {
  /** true: answered so that the broker retries (the world may change); false: dead-lettered at once. */
  readonly retry: boolean;
  readonly reason: string;
}

// 400s that pass by themselves: a state Quay holds for a while, or a race another retry resolves.
const PASSING_400: readonly (readonly [RegExp, string])[] = [
  [
    /username is not available/i,
    "the name of a deleted organization is held until Quay's namespace GC runs (docs/quay-api.md#lifecycle)",
  ],
  [
    /missing delegate user or team|could not find robot/i,
    'the robot was deleted meanwhile; a retry creates it',
  ],
  [/organization does not exist/i, 'the organization was deleted meanwhile; a retry creates it'],
  [/already exists|existing robot with name/i, 'a concurrent create; a retry reads it as there'],
];

/**
 * The one place that decides which of Quay's refusals are worth retrying (docs/design.md#event-delivery: the broker retries
 * 5xx, 404, 408, 409 and 429 and dead-letters any other 4xx; docs/quay-api.md for what Quay means by each).
 * 401 and the CSRF 403 (a bad token, which an operator may fix), 429 and 5xx never get here: failureOf makes them
 * QuayAuthFailed, QuayRateLimited and QuayUnavailable, all retried. The operations already read the refusals they
 * expect (a missing robot, an organization that is gone, "already exists"); what is left here is mostly final. A
 * dead-lettered event is not lost work: the resync reconciles the object again at its next pass.
 */
export const classifyRejection = (status: number, message: string): RejectionClass => {
  if (status === 400) {
    const passing = PASSING_400.find(([pattern]) => pattern.test(message));
    return passing !== undefined
      ? { retry: true, reason: passing[1] }
      : {
          retry: false,
          reason: 'Quay refuses the request itself (a name, an email or a body it never accepts)',
        };
  }
  switch (status) {
    case 402:
      return { retry: false, reason: 'Quay wants a payment or a licence for this (exceeds_license)' };
    case 403:
      return {
        retry: false,
        reason:
          "the token's user may not do this here (an organization it does not administer, or a missing scope)",
      };
    case 404:
      return { retry: true, reason: 'something was deleted meanwhile; a retry reads the world again' };
    case 408:
      return { retry: true, reason: 'Quay timed the request out' };
    case 409:
      return { retry: true, reason: 'a conflicting change; a retry reads the world again' };
  }
  return status >= 400 && status < 500
    ? { retry: false, reason: `Quay answers ${status} to a request it does not accept` }
    : { retry: true, reason: `HTTP ${status} is not a refusal` };
};

/** A body that does not decode as the operation's codec. */
export const invalidBody = (
  res: Pick<QuayResponse, 'method' | 'path' | 'status'>,
  problem: string,
): QuayError => ({
  _tag: 'QuayResponseInvalid',
  status: res.status,
  message: `${where(res)} answered ${res.status} with a body that does not decode: ${problem}`,
});

/** Replaces every occurrence of the secret in the error's message; the last guard before an error leaves the client. */
export const redactError =
  (secret: string) =>
  (e: QuayError): QuayError => {
    if (e._tag === 'QuayRateLimited' || secret === '' || !e.message.includes(secret)) return e;
    return { ...e, message: e.message.split(secret).join('[token]') };
  };
