// The transport: sends a QuayRequest with got and the retry policy of retry.ts, and turns whatever happened into
// a QuayResponse or a QuayError. got's own retry and error throwing are off; everything it throws is caught here,
// so `send` never rejects.
//
// Why retrying a write is safe: every write the client makes is part of an ensure operation that reads "already
// there" as success. If Quay applied a POST or PUT but the answer was lost (dropped connection, 502 from a router),
// the retried request gets Quay's "already exists" answer and the operation reports `unchanged`:
//   - POST /organization/ → 400 "A user or organization with this name already exists";
//   - PUT …/robots/{name} → 400 "Existing robot with name" → the robot is fetched;
//   - POST /repository → 400 "Repository already exists";
//   - DELETE of an organization, robot, prototype or permission → 403/400/404 "not there", read as unchanged;
//   - PUT of a repository permission or a prototype role is an upsert;
//   - POST …/prototypes is the one write Quay does not deduplicate: a retried one may leave two identical
//     prototypes (Quay applies duplicates as a single permission, docs/quay-api.md#repositories). Every add is
//     followed by a re-read that removes duplicates (prototypes.ts), so the world still converges.
//   - POST …/regenerate retried makes a second token; the one returned is the one that is valid.
import * as http from 'node:http';
import * as https from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import got, { type Response } from 'got';
import type { Token } from '../settings/quay-integration.js';
import { failureOf, isCsrfRejection, redactError } from './errors.js';
import type { QuayHttp, QuayRequest, QuayResponse } from './request.js';
import {
  DEFAULT_RETRY_POLICY,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  retryDelay,
  type RetryPolicy,
} from './retry.js';
import type { QuayError } from './types.js';

/** One HTTP attempt, for call counting and logs. It never carries a header, so never the token. */
export interface RequestInfo {
  readonly method: string;
  /** The path with its query string. */
  readonly path: string;
  /** Undefined when no answer came (network failure, timeout). */
  readonly status: number | undefined;
  readonly durationMs: number;
  /** 1 for the first try of a request, 2 for its first retry, … */
  readonly attempt: number;
}

export interface TransportOptions {
  /** The API origin, e.g. https://quay.example.com (Quay's API paths are absolute). */
  readonly apiUrl: string;
  readonly token: Token;
  /** Skip TLS verification for this Quay only (QuayIntegration insecureSkipTLSVerifyAPI; never insecureRegistry). */
  readonly insecure?: boolean;
  /** PEM certificates trusted in addition to Node's root store. */
  readonly caBundle?: string;
  /** Per attempt, connection to last byte. */
  readonly timeoutMs?: number;
  readonly retry?: RetryPolicy;
  readonly onRequest?: (info: RequestInfo) => void;
  /** Milliseconds added to the client-wide hold by a 429 (for the metric of time every request waited). */
  readonly onHold?: (ms: number) => void;
  /** Jitter source in [0, 1), e.g. a constant in tests. */
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** For Retry-After given as an HTTP date. */
  readonly now?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

type Attempt =
  | { readonly kind: 'response'; readonly response: QuayResponse }
  | {
      readonly kind: 'failure';
      readonly code: string | undefined;
      readonly name: string;
      readonly message: string;
    };

const parseJson = (text: string): unknown => {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

const headerValue = (v: string | readonly string[] | undefined): string | undefined =>
  typeof v === 'string' ? v : v?.[0];

// got's RequestError keeps the request options (and so the Authorization header) on `options`; only its code,
// class name and message are read here, and the message is Node's text about the connection.
const describeFailure = (e: unknown): { code: string | undefined; name: string; message: string } => {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : undefined, name: e.name, message: e.message };
  }
  return { code: undefined, name: 'Error', message: 'unknown failure' };
};

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const createTransport = (opts: TransportOptions): QuayHttp & { readonly close: () => void } => {
  const base = new URL(opts.apiUrl);
  const insecure = opts.insecure === true;
  // `ca` replaces Node's roots rather than adding to them, so the bundle goes on top of them.
  const ca = opts.caBundle !== undefined ? [...rootCertificates, opts.caBundle] : undefined;
  // One keep-alive agent per client: TLS settings stay with this Quay (never process-wide, as QBO's were), and a
  // resync's few calls share one connection.
  const agent = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({
      keepAlive: true,
      rejectUnauthorized: !insecure,
      // The roots and the bundle parsed once, not for every new connection.
      ...(ca !== undefined ? { secureContext: createSecureContext({ ca }) } : {}),
    }),
  };
  const client = got.extend({
    agent,
    https: { rejectUnauthorized: !insecure },
    throwHttpErrors: false,
    retry: { limit: 0 },
    timeout: { request: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS },
    responseType: 'text',
    // Paths are sent as Quay routes them (paths.ts); a 308 from a Quay that routes differently is still followed,
    // keeping the method and body. got drops the Authorization header if a redirect leaves the origin.
    followRedirect: true,
    maxRedirects: 5,
    methodRewriting: false,
    headers: { accept: 'application/json', 'user-agent': 'quay-bridge' },
  });
  const policy = opts.retry ?? DEFAULT_RETRY_POLICY;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const secret = opts.token.reveal();
  const authorization: Record<string, string> = secret === '' ? {} : { authorization: `Bearer ${secret}` };

  // A 429 is about the whole client (Quay limits by token and address), so its wait holds every request of this
  // client, not only the one that met it: the others would only collect 429s of their own and extend the limit.
  let pause: Promise<void> | undefined;
  let pauseEnds = 0;
  const holdAll = (ms: number): Promise<void> => {
    const at = now();
    const until = at + ms;
    if (pause === undefined || until > pauseEnds) {
      const added = until - (pause === undefined ? at : Math.max(at, pauseEnds));
      pauseEnds = until;
      try {
        opts.onHold?.(added);
      } catch {
        // An observer's failure is not the request's.
      }
      const p: Promise<void> = sleep(ms).then(() => {
        if (pause === p) pause = undefined;
      });
      pause = p;
    }
    return pause;
  };

  const report = (info: RequestInfo): void => {
    try {
      opts.onRequest?.(info);
    } catch {
      // A failing observer must not fail the request it observes.
    }
  };

  const attempt = async (request: QuayRequest, n: number): Promise<Attempt> => {
    const url = new URL(request.path, base);
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
    const shown = `${url.pathname}${url.search}`;
    const started = performance.now();
    try {
      const res: Response<string> = await client(url, {
        method: request.method,
        headers: authorization,
        ...(request.body !== undefined ? { json: request.body } : {}),
      });
      report({
        method: request.method,
        path: shown,
        status: res.statusCode,
        durationMs: performance.now() - started,
        attempt: n,
      });
      const text = res.body;
      return {
        kind: 'response',
        response: {
          method: request.method,
          path: shown,
          status: res.statusCode,
          headers: res.headers,
          body: parseJson(text),
          text,
        },
      };
    } catch (e) {
      report({
        method: request.method,
        path: shown,
        status: undefined,
        durationMs: performance.now() - started,
        attempt: n,
      });
      return { kind: 'failure', ...describeFailure(e) };
    }
  };

  const finish = (
    request: QuayRequest,
    outcome: Attempt,
    attempts: number,
    retryAfterMs: number | undefined,
  ): E.Either<QuayError, QuayResponse> => {
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    if (outcome.kind === 'failure') {
      const { code, message } = outcome;
      const cause = code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
      return E.left({
        _tag: 'QuayUnreachable',
        message: `${request.method} ${request.path} failed${tries}: ${cause}`,
      });
    }
    const res = outcome.response;
    if (isRetryableStatus(res.status) || res.status === 401 || isCsrfRejection(res))
      return E.left(failureOf(res, { attempts, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }));
    return E.right(attempts > 1 ? { ...res, attempts } : res);
  };

  const send =
    (request: QuayRequest): TE.TaskEither<QuayError, QuayResponse> =>
    async () => {
      // A name that is "." or ".." (which Quay's name rules forbid) would be resolved away by the URL parser and
      // reach another route; such a request is refused before it is sent.
      if (new URL(request.path, base).pathname !== request.path)
        return E.left({
          _tag: 'QuayRejected',
          status: 400,
          message: `not sent: ${request.method} ${request.path} names "." or ".." as a path segment`,
        });
      for (let n = 1; ; n++) {
        while (pause !== undefined) await pause;
        const outcome = await attempt(request, n);
        const retryAfterMs =
          outcome.kind === 'response'
            ? parseRetryAfter(headerValue(outcome.response.headers['retry-after']), now())
            : undefined;
        const retryable =
          outcome.kind === 'failure'
            ? isRetryableNetworkError(outcome)
            : isRetryableStatus(outcome.response.status);
        if (!retryable || n >= policy.attempts)
          return E.mapLeft(redactError(secret))(finish(request, outcome, n, retryAfterMs));
        const delay = retryDelay(policy, n, retryAfterMs, random);
        await (outcome.kind === 'response' && outcome.response.status === 429
          ? holdAll(delay)
          : sleep(delay));
      }
    };

  return {
    send,
    close: () => {
      agent.http.destroy();
      agent.https.destroy();
    },
  };
};
