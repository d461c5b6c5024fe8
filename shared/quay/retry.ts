// The retry policy of the Quay client, as pure functions: which failures are worth another attempt and how long to
// wait before it. got's own retry is switched off (http.ts) so that this is the only policy, and it is tested.

export interface RetryPolicy {
  /** Attempts in all, the first one included; 1 means "never retry". */
  readonly attempts: number;
  /** The backoff ceiling of the first retry; it doubles on each further one. */
  readonly baseDelayMs: number;
  /** No wait is longer, whatever the backoff or Quay's Retry-After says. */
  readonly maxDelayMs: number;
}

/**
 * Four attempts over at most about 7 s of waiting (≤0.25 + ≤0.5 + ≤1 s of backoff, or Retry-After capped at 5 s
 * each): long enough to ride out a Quay pod restart or nginx's burst limit, short enough that the event's handler
 * answers before the broker's own delivery timeout, which then retries the whole event with its own backoff.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000 };

/**
 * 429 and every 5xx. Quay's nginx answers 429 when FEATURE_RATE_LIMITS is on, with an HTML body and no Retry-After
 * (docs/quay-api.md#rate-limits-and-paging); 502/503/504 come from routers in front of Quay during restarts. No other 4xx is retried:
 * the same request would get the same answer.
 */
export const isRetryableStatus = (status: number): boolean =>
  status === 429 || (status >= 500 && status <= 599);

// Failures of the connection rather than of the request. A TLS verification failure, an unknown host name or a
// malformed URL is not here: retrying cannot fix configuration.
const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', // also what Node gives for "socket hang up"
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT', // got's TimeoutError carries this code
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN', // temporary DNS failure
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ERR_STREAM_PREMATURE_CLOSE', // the response body was cut off
  'UND_ERR_SOCKET',
]);

/** A network failure worth another attempt, from the error's code, class name and message (got wraps Node's errors). */
export const isRetryableNetworkError = (e: {
  readonly code?: string | undefined;
  readonly name: string;
  readonly message: string;
}): boolean =>
  (e.code !== undefined && TRANSIENT_ERROR_CODES.has(e.code)) ||
  e.name === 'TimeoutError' ||
  e.name === 'ReadError' ||
  /socket hang up/i.test(e.message);

/**
 * Retry-After in milliseconds, in either form HTTP allows (RFC 9110, section 10.2.3): delay-seconds or an HTTP-date.
 * A date in the past means "now" (0); anything unparsable is undefined, and the caller falls back to backoff.
 */
export const parseRetryAfter = (header: string | undefined, nowMs: number): number | undefined => {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Date.parse also accepts "1.5" or "2026" as dates; an HTTP-date always names a weekday and has a comma.
  if (!/^[A-Za-z]{3},/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
};

/**
 * "Full jitter" (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/): a uniform wait between
 * 0 and min(maxDelay, base · 2^(n-1)) after the n-th failed attempt, so that many functions failing together do not
 * come back together.
 */
export const backoffDelay = (policy: RetryPolicy, failedAttempt: number, random: () => number): number => {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.floor(Math.min(1, Math.max(0, random())) * ceiling);
};

/** The wait before the next attempt: Quay's Retry-After when it sent one (capped at maxDelay), else backoff. */
export const retryDelay = (
  policy: RetryPolicy,
  failedAttempt: number,
  retryAfterMs: number | undefined,
  random: () => number,
): number =>
  retryAfterMs !== undefined
    ? Math.min(policy.maxDelayMs, retryAfterMs)
    : backoffDelay(policy, failedAttempt, random);
