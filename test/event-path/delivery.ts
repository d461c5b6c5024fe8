// Knative's delivery semantics for a Trigger (knative.dev/eventing pkg/apis/duck/v1 DeliverySpec and
// pkg/kncloudevents retries), as docs/design.md#event-delivery sums them up: a 2xx is done; a 5xx, 404, 408, 409 or
// 429 (or no answer at all) is retried up to `retry` times with back-off; anything else (other 4xx, 3xx) is not
// retried; whatever is not a 2xx in the end goes to the dead-letter sink.

/** Where an event goes: a Knative object reference (resolved by the broker stand-in's address book) or a URI. */
export type Destination =
  | {
      readonly ref: {
        readonly apiVersion: string;
        readonly kind: string;
        readonly name: string;
        readonly namespace?: string;
      };
    }
  | { readonly uri: string };

export interface DeliverySpec {
  readonly retry?: number;
  readonly backoffPolicy?: 'exponential' | 'linear';
  /** ISO 8601 duration, e.g. PT0.5S. */
  readonly backoffDelay?: string;
  readonly deadLetterSink?: Destination;
  /** Knative's experimental delivery-timeout feature (off by default: its webhook refuses the field). */
  readonly timeout?: string;
  /** Knative's experimental delivery-retryafter feature (off by default). */
  readonly retryAfterMax?: string;
}

export type Verdict = 'done' | 'retry' | 'give-up';

/** What Knative does with a subscriber's answer (`undefined`: no answer, e.g. connection refused or timed out). */
export const classify = (status: number | undefined): Verdict => {
  if (status === undefined) return 'retry';
  if (status >= 200 && status <= 299) return 'done';
  if (status >= 500 || status === 404 || status === 408 || status === 409 || status === 429) return 'retry';
  return 'give-up';
};

const NUMBER = String.raw`(\d+(?:[.,]\d+)?)`;
const ISO_DURATION = new RegExp(
  `^P(?:${NUMBER}Y)?(?:${NUMBER}M)?(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`,
);

/** An ISO 8601 duration in milliseconds (years and months approximated like Go's period package), or undefined. */
export const parseIsoDuration = (text: string): number | undefined => {
  const m = ISO_DURATION.exec(text);
  if (m === null || text === 'P' || text.endsWith('T')) return undefined;
  const n = (i: number): number => Number((m[i] ?? '0').replace(',', '.'));
  const day = 86_400_000;
  return (
    n(1) * 365.2425 * day +
    n(2) * 30.436875 * day +
    n(3) * 7 * day +
    n(4) * day +
    n(5) * 3_600_000 +
    n(6) * 60_000 +
    n(7) * 1000
  );
};

/**
 * The wait before retry number `attempt` (0 for the first retry). Knative backs off only when both backoffPolicy
 * and backoffDelay are set: exponential waits delay·2^attempt, linear delay·attempt; otherwise it retries at once.
 */
export const backoffMs = (spec: DeliverySpec, attempt: number): number => {
  if (spec.backoffPolicy === undefined || spec.backoffDelay === undefined) return 0;
  const delay = parseIsoDuration(spec.backoffDelay) ?? 0;
  return spec.backoffPolicy === 'exponential' ? delay * 2 ** attempt : delay * attempt;
};

/** Retry-After in ms (seconds or an HTTP date), honoured only with retryAfterMax and only for 429 and 503. */
export const retryAfterMs = (
  spec: DeliverySpec,
  status: number | undefined,
  header: string | undefined,
): number => {
  if (spec.retryAfterMax === undefined || header === undefined || (status !== 429 && status !== 503))
    return 0;
  const max = parseIsoDuration(spec.retryAfterMax) ?? 0;
  const seconds = /^\d+$/.test(header.trim())
    ? Number(header.trim()) * 1000
    : Date.parse(header) - Date.now();
  return Number.isNaN(seconds) ? 0 : Math.max(0, Math.min(seconds, max));
};

/** What Knative's webhook refuses in a DeliverySpec (with its default feature flags). */
export const deliveryProblems = (spec: DeliverySpec | undefined, at: string): string[] => {
  if (spec === undefined) return [];
  const problems: string[] = [];
  if (spec.retry !== undefined && (!Number.isInteger(spec.retry) || spec.retry < 0))
    problems.push(`${at}.retry: must be a whole number ≥ 0`);
  if (spec.backoffDelay !== undefined && parseIsoDuration(spec.backoffDelay) === undefined)
    problems.push(`${at}.backoffDelay: "${spec.backoffDelay}" is not an ISO 8601 duration`);
  if (spec.timeout !== undefined)
    problems.push(`${at}.timeout: needs Knative's delivery-timeout feature flag`);
  if (spec.retryAfterMax !== undefined)
    problems.push(`${at}.retryAfterMax: needs Knative's delivery-retryafter feature flag`);
  if (spec.deadLetterSink !== undefined && !('ref' in spec.deadLetterSink) && !('uri' in spec.deadLetterSink))
    problems.push(`${at}.deadLetterSink: needs a ref or a uri`);
  return problems;
};
