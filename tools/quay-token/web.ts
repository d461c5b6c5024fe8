// HTTP to Quay as its web UI talks to it: one cookie jar (Quay's session cookie, named `_csrf_token`), redirects
// never followed (the token is in a 302's Location), no retries (a sign-in must not be repeated behind the user's
// back: each failure lengthens Quay's back-off). Transport failures come back as tagged values, TLS ones apart.
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { rootCertificates } from 'node:tls';
import * as E from 'fp-ts/lib/Either.js';
import got from 'got';
import type { TokenError } from './errors.js';

export interface WebResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON, if it is JSON (Quay labels some JSON text/html). */
  readonly json: unknown;
}

export interface WebRequest {
  readonly method: 'GET' | 'POST';
  /** Absolute path with its query. */
  readonly path: string;
  readonly json?: unknown;
  readonly form?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  /** Send no cookie (a bearer-token call). */
  readonly cookieless?: boolean;
}

export interface QuayWeb {
  readonly url: string;
  readonly send: (request: WebRequest) => Promise<E.Either<TokenError, WebResponse>>;
}

export interface TlsOptions {
  readonly insecure: boolean;
  readonly caFile: string | undefined;
}

// Node's codes for a certificate it will not trust (and the handshake failures that mean the same to a user).
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

export const createQuayWeb = (url: string, tls: TlsOptions): E.Either<TokenError, QuayWeb> => {
  let ca: string[] | undefined;
  if (tls.caFile !== undefined) {
    try {
      ca = [...rootCertificates, readFileSync(tls.caFile, 'utf8')];
    } catch {
      return E.left({ _tag: 'Usage', message: `cannot read --ca-file ${tls.caFile}` });
    }
  }
  const client = got.extend({
    throwHttpErrors: false,
    followRedirect: false,
    retry: { limit: 0 },
    timeout: { request: 30_000 },
    responseType: 'text',
    headers: { 'user-agent': 'quay-bridge quay-token' },
    https: { rejectUnauthorized: !tls.insecure, ...(ca === undefined ? {} : { certificateAuthority: ca }) },
  });
  const cookies = new Map<string, string>();

  const remember = (setCookie: readonly string[] | undefined): void => {
    for (const line of setCookie ?? []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  };

  const send = async (request: WebRequest): Promise<E.Either<TokenError, WebResponse>> => {
    const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    try {
      const res = await client(new URL(request.path, url), {
        method: request.method,
        headers: {
          accept: 'application/json',
          ...(request.cookieless === true || cookie === '' ? {} : { cookie }),
          ...request.headers,
        },
        ...(request.json === undefined ? {} : { json: request.json }),
        ...(request.form === undefined ? {} : { form: request.form }),
      });
      remember(res.headers['set-cookie']);
      return E.right({
        status: res.statusCode,
        headers: res.headers,
        text: res.body,
        json: parseJson(res.body),
      });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const message = e instanceof Error ? e.message : String(e);
      if (typeof code === 'string' && TLS_CODES.has(code))
        return E.left({ _tag: 'TlsRefused', url, cause: `${message} (${code})` });
      return E.left({
        _tag: 'QuayUnreachable',
        url,
        cause: typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message,
      });
    }
  };
  return E.right({ url, send });
};
