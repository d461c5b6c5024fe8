// Requests to Quay as plain data, and the one capability that sends them. Every operation is a
// ReaderTaskEither over QuayHttp, so it can be read as "this request, then this status switch, then this decode" and
// run against any transport (http.ts over got, or a plain object in a unit test).
import type { IncomingHttpHeaders } from 'node:http';
import type * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import type { QuayError } from './types.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface QuayRequest {
  readonly method: Method;
  /** Absolute path, already encoded (paths.ts), e.g. `/api/v1/organization/`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Sent as JSON when present. */
  readonly body?: unknown;
}

export interface QuayResponse {
  readonly method: Method;
  readonly path: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body parsed as JSON whatever the Content-Type (Quay's CSRF 403 is JSON labelled text/html); else undefined. */
  readonly body: unknown;
  /** The raw body text, for messages about bodies that are not JSON. */
  readonly text: string;
  /** Set when the request had to be sent more than once: a write sent twice may have been applied twice. */
  readonly attempts?: number;
}

export interface QuayHttp {
  /**
   * Sends with the retry policy. Left: the network failed, or Quay answered 5xx, 429 or an authentication failure
   * (401, CSRF 403) after the policy gave up. Right: any other answer, for the operation's own status switch.
   */
  readonly send: (request: QuayRequest) => TE.TaskEither<QuayError, QuayResponse>;
}

export type QuayOp<A> = RTE.ReaderTaskEither<QuayHttp, QuayError, A>;

export const send =
  (request: QuayRequest): QuayOp<QuayResponse> =>
  (env) =>
    env.send(request);

export const get = (path: string, query?: Readonly<Record<string, string>>): QuayRequest =>
  query === undefined ? { method: 'GET', path } : { method: 'GET', path, query };
export const post = (path: string, body?: unknown): QuayRequest =>
  body === undefined ? { method: 'POST', path } : { method: 'POST', path, body };
export const put = (path: string, body?: unknown): QuayRequest =>
  body === undefined ? { method: 'PUT', path } : { method: 'PUT', path, body };
export const del = (path: string): QuayRequest => ({ method: 'DELETE', path });
