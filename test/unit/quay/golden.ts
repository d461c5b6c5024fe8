// Recorded answers of a real Quay (test/fixtures/quay/golden-exchanges.json), as the transport would hand
// them to an operation, and a scripted transport that plays them back in order.
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import type { QuayHttp, QuayRequest, QuayResponse } from '../../../shared/quay/request.js';
import type { QuayError } from '../../../shared/quay/types.js';

interface Exchange {
  readonly note: string;
  readonly request: { readonly method: string; readonly path: string; readonly body: unknown };
  readonly response: {
    readonly status: number;
    readonly headers: Record<string, string>;
    readonly body: unknown;
  };
}

const file = new URL('../../fixtures/quay/golden-exchanges.json', import.meta.url);
const exchanges = (JSON.parse(readFileSync(file, 'utf8')) as { exchanges: readonly Exchange[] }).exchanges;

export const goldenExchange = (note: string): Exchange => {
  const found = exchanges.filter((e) => e.note === note);
  if (found.length !== 1 || found[0] === undefined)
    throw new Error(`golden note "${note}" matches ${found.length} exchanges`);
  return found[0];
};

const parse = (text: string): unknown => {
  try {
    return text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
};

/** A response built the way http.ts builds it: the body text, and its JSON parse whatever the Content-Type. */
export const response = (
  status: number,
  text: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): QuayResponse => ({ method: 'GET', path: '/', status, headers, text, body: parse(text) });

/** The recorded response; the recording stores JSON bodies parsed, and other bodies (HTML pages) as strings. */
export const golden = (note: string): QuayResponse => {
  const { status, headers, body } = goldenExchange(note).response;
  const isJson = (headers['content-type'] ?? '').includes('json') || typeof body !== 'string';
  const text = body === null ? '' : isJson || typeof body !== 'string' ? JSON.stringify(body) : body;
  return response(status, text, headers);
};

export const goldenBody = (note: string): unknown => goldenExchange(note).response.body;

/** `METHOD /path?query`, the way the script names requests. */
export const describeRequest = (r: QuayRequest): string => {
  const query = new URLSearchParams(r.query ?? {}).toString();
  return `${r.method} ${r.path}${query === '' ? '' : `?${query}`}`;
};

/**
 * A transport that expects exactly these requests in this order and answers each with its response (or transport
 * failure). An unexpected request rejects, which fails the test with both names.
 */
export const scripted = (
  script: ReadonlyArray<readonly [string, QuayResponse | QuayError]>,
): { readonly http: QuayHttp; readonly sent: QuayRequest[]; readonly calls: () => string[] } => {
  const sent: QuayRequest[] = [];
  const http: QuayHttp = {
    send: (request) => () => {
      const key = describeRequest(request);
      const step = script[sent.length];
      sent.push(request);
      if (step?.[0] !== key)
        return Promise.reject(
          new Error(`request ${sent.length}: sent ${key}, expected ${step?.[0] ?? 'none'}`),
        );
      const answer = step[1];
      return Promise.resolve(
        '_tag' in answer
          ? E.left(answer)
          : E.right({ ...answer, method: request.method, path: key.slice(key.indexOf(' ') + 1) }),
      );
    },
  };
  return { http, sent, calls: () => sent.map(describeRequest) };
};
