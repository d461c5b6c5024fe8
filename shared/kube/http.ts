// KubeClient over HTTP: a KubeAccess (access.ts, or client-node's KubeConfig) supplies the server, TLS material
// and credentials (kubeconfig, in-cluster token, exec plugins); node's own http(s) sends plain JSON requests over one
// keep-alive agent (got, the Quay client's, cost about a fifth of the service-account step's CPU in a burst, where
// nearly every request is a kube one: docs/design.md#bursts). client-node's
// generated API classes are not used because they deserialize into typed models that drop unknown fields and turn
// timestamps into Dates, which is exactly what "decode to read, patch to write" must avoid.
import http from 'node:http';
import https from 'node:https';
import { createSecureContext } from 'node:tls';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
import * as O from 'fp-ts/lib/Option.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { countCall } from '../runtime/calls.js';
import type { KubeAccess } from './access.js';
import type { DeleteOptions, KubeClient, ListOptions, Patch } from './client.js';
import { isNotServed, kubeErrorOfStatus, type KubeError } from './errors.js';
import { collectionPath, groupVersionPath, objectPath } from './resources.js';

export interface KubeHttpOptions {
  /** Field manager for every write (server-side apply and patches), e.g. `quay-bridge`. */
  readonly fieldManager: string;
  /** Per-request timeout. Default 15 s. */
  readonly timeoutMs?: number;
  /** Page size of lists. Default 500. */
  readonly pageSize?: number;
  /** How long credentials read from the kubeconfig are reused (tokens rotate). Default 60 s. */
  readonly credentialsTtlMs?: number;
  /** Told of every answered request (the bench's trace: where an event's time goes). */
  readonly onRequest?: (info: KubeRequestInfo) => void;
}

export interface KubeRequestInfo {
  readonly method: string;
  /** The path without its query. */
  readonly path: string;
  readonly status: number;
  /** Epoch milliseconds, with fractions. */
  readonly startedAt: number;
  readonly durationMs: number;
}

interface Connection {
  readonly server: string;
  readonly agent: { readonly http?: http.Agent; readonly https?: https.Agent };
  readonly headers: Record<string, string>;
  readonly expires: number;
}

interface Response {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | undefined;
}

const contentTypes: Record<Patch['type'], string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

const messageOf = (body: string, status: number): string => {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through
  }
  const text = body.trim().slice(0, 200);
  return text === '' ? `HTTP ${status}` : text;
};

const parseJson = (body: string): unknown => (body === '' ? undefined : JSON.parse(body));

class WatchRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${String(status)}`);
  }
}

/** Server-side conversion to metadata only (meta.k8s.io/v1), without fallback: a full list is never what was asked. */
export const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/** One request and its whole answer; the deadline covers both (a stalled body is as dead as a stalled server). */
const exchange = (
  url: URL,
  method: Method,
  headers: Record<string, string>,
  body: string | undefined,
  agent: Connection['agent'],
  timeoutMs: number,
): Promise<Response> =>
  new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(
      url,
      {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
        agent: secure ? agent.https : agent.http,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfter: res.headers['retry-after'],
          });
        });
      },
    );
    function fail(e: Error): void {
      clearTimeout(deadline);
      reject(e);
    }
    const deadline = setTimeout(() => {
      req.destroy(new Error(`no complete answer within ${String(timeoutMs)} ms`));
    }, timeoutMs);
    req.on('error', fail);
    req.end(body);
  });

/**
 * A watch of one object (newline-delimited watch events), until `decide` answers for an event or the deadline: the
 * status, and the answer (undefined when the deadline came first or the server ended the watch).
 */
const watchUntil = <A>(
  url: URL,
  headers: Record<string, string>,
  agent: Connection['agent'],
  timeoutMs: number,
  decide: (event: { readonly type?: unknown; readonly object?: unknown }) => A | undefined,
): Promise<{ readonly status: number; readonly body: string; readonly answer: A | undefined }> =>
  new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    let settled = false;
    const settle = (r: {
      readonly status: number;
      readonly body: string;
      readonly answer: A | undefined;
    }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(r);
      req.destroy();
    };
    const req = (secure ? https : http).request(
      url,
      { method: 'GET', headers, agent: secure ? agent.https : agent.http },
      (res) => {
        const status = res.statusCode ?? 0;
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          if (status !== 200) return;
          for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
            const line = pending.slice(0, i);
            pending = pending.slice(i + 1);
            if (line.trim() === '') continue;
            let event: { readonly type?: unknown; readonly object?: unknown };
            try {
              event = JSON.parse(line) as typeof event;
            } catch {
              settle({ status, body: '', answer: undefined });
              return;
            }
            const answer = decide(event);
            if (answer !== undefined) {
              settle({ status, body: '', answer });
              return;
            }
          }
        });
        res.on('error', () => {
          settle({ status, body: pending, answer: undefined });
        });
        res.on('end', () => {
          settle({ status, body: pending, answer: undefined });
        });
      },
    );
    const deadline = setTimeout(() => {
      settle({ status: 200, body: '', answer: undefined });
    }, timeoutMs);
    req.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      reject(e);
    });
    req.end();
  });

export const createKubeClient = (kc: KubeAccess, options: KubeHttpOptions): KubeClient => {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const pageSize = options.pageSize ?? 500;
  const ttl = options.credentialsTtlMs ?? 60_000;
  let connection: Connection | undefined;
  let agent: Connection['agent'] | undefined;

  const connect = async (): Promise<Connection> => {
    if (connection !== undefined && connection.expires > Date.now()) return connection;
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    // One keep-alive agent for the process; client-node would build a new one per request.
    agent ??= cluster.server.startsWith('http:')
      ? { http: new http.Agent({ keepAlive: true }) }
      : {
          https: new https.Agent({
            keepAlive: true,
            // Parsed once: given as ca/cert/key, every new connection would parse them again (a burst opens many).
            secureContext: createSecureContext({
              ...(opts.ca === undefined ? {} : { ca: opts.ca }),
              ...(opts.cert === undefined ? {} : { cert: opts.cert }),
              ...(opts.key === undefined ? {} : { key: opts.key }),
            }),
            ...(opts.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: opts.rejectUnauthorized }),
            ...(opts.servername === undefined ? {} : { servername: opts.servername }),
          }),
        };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {}))
      if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
    if (typeof opts.auth === 'string')
      headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    connection = { server: cluster.server.replace(/\/$/, ''), agent, headers, expires: Date.now() + ttl };
    return connection;
  };

  const send = (
    method: Method,
    path: string,
    search: Record<string, string>,
    body?: { readonly contentType: string; readonly json: unknown },
    accept = 'application/json',
  ): TE.TaskEither<KubeError, Response> =>
    TE.tryCatch(
      async () => {
        const c = await connect();
        countCall('kube');
        const started = performance.now();
        const res = await exchange(
          new URL(
            `${c.server}${path}${Object.keys(search).length === 0 ? '' : `?${new URLSearchParams(search).toString()}`}`,
          ),
          method,
          {
            ...c.headers,
            accept,
            ...(body === undefined ? {} : { 'content-type': body.contentType }),
          },
          body === undefined ? undefined : JSON.stringify(body.json),
          c.agent,
          timeoutMs,
        );
        // Refused credentials (an exec plugin's token expired or was revoked before the TTL): read them afresh
        // for the next request, as client-go does on a 401; the broker's retry then goes through.
        if (res.status === 401 && connection === c) connection = undefined;
        options.onRequest?.({
          method,
          path,
          status: res.status,
          startedAt: performance.timeOrigin + started,
          durationMs: performance.now() - started,
        });
        return res;
      },
      (e): KubeError => ({
        _tag: 'KubeUnavailable',
        status: undefined,
        message: `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`,
      }),
    );

  const expectJson =
    (method: string, path: string) =>
    (res: Response): TE.TaskEither<KubeError, unknown> => {
      if (res.status >= 200 && res.status < 300) {
        try {
          return TE.right(parseJson(res.body));
        } catch {
          return TE.left({
            _tag: 'KubeResponseInvalid',
            message: `${method} ${path}: the answer is not JSON`,
          });
        }
      }
      if (isNotServed(res.status, res.body))
        return TE.left({
          _tag: 'KubeNotServed',
          message: `${method} ${path}: the cluster does not serve this API (${messageOf(res.body, res.status)})`,
        });
      const seconds = res.retryAfter === undefined ? undefined : Number(res.retryAfter);
      return TE.left(
        kubeErrorOfStatus(
          res.status,
          `${method} ${path}: ${messageOf(res.body, res.status)}`,
          seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined,
        ),
      );
    };

  const call = (
    method: Method,
    path: string,
    search: Record<string, string> = {},
    body?: { readonly contentType: string; readonly json: unknown },
    accept?: string,
  ): TE.TaskEither<KubeError, unknown> =>
    TE.flatMap(send(method, path, search, body, accept), expectJson(method, path));

  const list = (type: Parameters<KubeClient['list']>[0], opts: ListOptions = {}) => {
    const path = collectionPath(type, opts.namespace);
    const page = (
      token: string | undefined,
      acc: readonly unknown[],
    ): TE.TaskEither<KubeError, readonly unknown[]> =>
      TE.flatMap(
        call(
          'GET',
          path,
          {
            limit: String(pageSize),
            ...(token === undefined ? {} : { continue: token }),
            // A continued list is read at its first page's version; the API server refuses both together.
            ...(opts.fromCache === true && token === undefined ? { resourceVersion: '0' } : {}),
            ...(opts.labelSelector === undefined ? {} : { labelSelector: opts.labelSelector }),
            ...(opts.fieldSelector === undefined ? {} : { fieldSelector: opts.fieldSelector }),
          },
          undefined,
          opts.metadataOnly === true ? METADATA_LIST_ACCEPT : undefined,
        ),
        (u) => {
          const l = u as { items?: unknown; metadata?: { continue?: unknown } } | undefined;
          // An empty PartialObjectMetadataList comes with `items: null` (a nil Go slice).
          const listed = l?.items === null && opts.metadataOnly === true ? [] : l?.items;
          if (l === undefined || !Array.isArray(listed))
            return TE.left<KubeError>({ _tag: 'KubeResponseInvalid', message: `GET ${path}: not a list` });
          const items = [...acc, ...(listed as unknown[])];
          const next = l.metadata?.continue;
          return typeof next === 'string' && next !== '' ? page(next, items) : TE.right(items);
        },
      );
    return page(undefined, []);
  };

  const waitFor: NonNullable<KubeClient['waitFor']> = (ref, resourceVersion, accept, waitMs) => {
    const path = collectionPath(ref.type, ref.namespace);
    return TE.tryCatch(
      async () => {
        const c = await connect();
        countCall('kube');
        const started = performance.now();
        const search = new URLSearchParams({
          watch: 'true',
          fieldSelector: `metadata.name=${ref.name}`,
          resourceVersion,
          timeoutSeconds: String(Math.max(1, Math.ceil(waitMs / 1000))),
        });
        const r = await watchUntil(
          new URL(`${c.server}${path}?${search.toString()}`),
          { ...c.headers, accept: 'application/json' },
          c.agent,
          waitMs,
          (event): O.Option<unknown> | undefined =>
            event.type === 'DELETED' || event.type === 'ERROR'
              ? O.none
              : (event.type === 'ADDED' || event.type === 'MODIFIED') && accept(event.object)
                ? O.some(event.object)
                : undefined,
        );
        options.onRequest?.({
          method: 'WATCH',
          path,
          status: r.status,
          startedAt: performance.timeOrigin + started,
          durationMs: performance.now() - started,
        });
        if (r.status !== 200) throw new WatchRefused(r.status, r.body);
        return r.answer ?? O.none;
      },
      (e): KubeError =>
        e instanceof WatchRefused
          ? kubeErrorOfStatus(e.status, `WATCH ${path}: ${messageOf(e.body, e.status)}`, undefined)
          : {
              _tag: 'KubeUnavailable',
              status: undefined,
              message: `WATCH ${path}: ${e instanceof Error ? e.message : String(e)}`,
            },
    );
  };

  return {
    get: (ref) => call('GET', objectPath(ref)),
    list,
    waitFor,
    create: (type, namespace, body) =>
      call(
        'POST',
        collectionPath(type, namespace),
        { fieldManager: options.fieldManager },
        {
          contentType: 'application/json',
          json: body,
        },
      ),
    patch: (ref, patch, subresource) =>
      call(
        'PATCH',
        objectPath(ref, subresource),
        patch.type === 'apply'
          ? { fieldManager: options.fieldManager, force: String(patch.force) }
          : { fieldManager: options.fieldManager },
        { contentType: contentTypes[patch.type], json: patch.type === 'json' ? patch.ops : patch.body },
      ),
    delete: (ref, opts: DeleteOptions = {}) =>
      TE.flatMap(
        call(
          'DELETE',
          objectPath(ref),
          {},
          {
            contentType: 'application/json',
            json: {
              apiVersion: 'v1',
              kind: 'DeleteOptions',
              propagationPolicy: 'Background',
              ...(opts.preconditions === undefined ? {} : { preconditions: opts.preconditions }),
            },
          },
        ),
        () => TE.right(undefined),
      ),
    discover: (apiVersion) =>
      pipe(
        call('GET', groupVersionPath(apiVersion)),
        TE.flatMap((u): TE.TaskEither<KubeError, O.Option<ReadonlySet<string>>> => {
          const resources = (u as { resources?: unknown } | undefined)?.resources;
          if (!Array.isArray(resources))
            return TE.left({
              _tag: 'KubeResponseInvalid',
              message: `GET ${groupVersionPath(apiVersion)}: not an APIResourceList`,
            });
          return TE.right(
            O.some(
              new Set(
                resources.flatMap((r: unknown) => {
                  const name = (r as { name?: unknown } | null)?.name;
                  return typeof name === 'string' ? [name] : [];
                }),
              ),
            ),
          );
        }),
        TE.orElse((e) => (e._tag === 'KubeNotServed' ? TE.right(O.none) : TE.left(e))),
      ),
  };
};
