// The lean function host of the steps (functions/host.ts): node:http serving what faas-js-runtime served for our
// steps, at a fraction of its start cost (docs/design.md#packaging):
// - POST / : the CloudEvent (binary or structured mode, host/cloudevent.ts) handed to the step's handler as
//   faas-js-runtime hands it, `handle({ cloudevent }, event)`, and its `{statusCode, headers, body}` sent as is; a
//   malformed CloudEvent is 400 (poison: dead-lettered, not retried; docs/design.md#event-delivery), a request that
//   is no CloudEvent goes to the handler, whose decoder refuses it (400) too; a handler that throws is 500;
// - a body over the limit is 413, by its declared length before it is read, else once the limit is passed;
// - GET /health/liveness, /health/readiness (200 once listening, 503 while draining) and /metrics;
// - drain(): stop accepting, let the events being worked on finish and answer, then close (SIGTERM).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import type { HttpAnswer, InvocationContext } from '../../shared/runtime/handler.js';
import { decodeCloudEvent } from './cloudevent.js';
import type { Exposition } from './metrics.js';

export interface HostOptions {
  readonly handle: (context: InvocationContext, event?: unknown) => Promise<HttpAnswer>;
  readonly bodyLimit: number;
  /** The Prometheus text exposition of the process's metrics. */
  readonly metrics: () => Promise<Exposition>;
  /** A handler that threw (a bug: the step's own failures are answers). */
  readonly onError?: (e: unknown) => void;
}

export interface Host {
  readonly server: http.Server;
  readonly port: number;
  /** Stops accepting, waits for the requests in flight to be answered, then closes every connection. */
  readonly drain: () => Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';

const send = (
  res: http.ServerResponse,
  status: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void => {
  res.writeHead(status, {
    'content-type': TEXT,
    ...headers,
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
};

/** The body, or undefined once it passed `limit` (the answer, 413, is sent then). */
const readBody = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  limit: number,
): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        tooLarge(res, limit);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });

const tooLarge = (res: http.ServerResponse, limit: number): void => {
  // The rest is never read: the connection goes with the answer.
  send(res, 413, `the request body is over ${String(limit)} bytes`, { connection: 'close' });
};

export const hostListener = (
  o: HostOptions,
  draining: () => boolean,
): ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) => {
  const invoke = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const declared = Number(req.headers['content-length']);
    if (declared > o.bodyLimit) {
      tooLarge(res, o.bodyLimit);
      return;
    }
    const body = await readBody(req, res, o.bodyLimit);
    if (body === undefined) return;
    const decoded = decodeCloudEvent(req.headers, body);
    if (E.isLeft(decoded)) {
      send(res, 400, `malformed CloudEvent: ${decoded.left}`);
      return;
    }
    let answer: HttpAnswer;
    try {
      answer =
        decoded.right === undefined
          ? await o.handle({}, body)
          : await o.handle({ cloudevent: decoded.right }, decoded.right);
    } catch (e) {
      o.onError?.(e);
      send(res, 500, 'internal error (see the log)');
      return;
    }
    send(res, answer.statusCode, answer.body, answer.headers);
  };
  return async (req, res) => {
    if (draining()) res.setHeader('connection', 'close');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    try {
      if (path === '/') {
        if (req.method === 'POST') await invoke(req, res);
        else send(res, 405, 'only POST\n', { allow: 'POST' });
      } else if (req.method !== 'GET' && req.method !== 'HEAD')
        send(res, 405, 'only GET\n', { allow: 'GET' });
      else if (path === '/health/liveness') send(res, 200, 'OK');
      else if (path === '/health/readiness')
        if (draining()) send(res, 503, 'draining');
        else send(res, 200, 'OK');
      else if (path === '/metrics') {
        const m = await o.metrics();
        send(res, 200, m.text, { 'content-type': m.contentType });
      } else send(res, 404, 'not found\n');
    } catch (e) {
      o.onError?.(e);
      if (!res.headersSent) send(res, 500, 'internal error (see the log)');
      else res.destroy();
    }
  };
};

/** Listens on `port` (0: any free one) once the handler is ready: a step that cannot start never answers ready. */
export const startHost = async (
  o: HostOptions & { readonly port: number; readonly host?: string },
): Promise<Host> => {
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const listener = hostListener(o, () => draining);
  const server = http.createServer((req, res) => {
    inFlight += 1;
    res.on('close', () => {
      inFlight -= 1;
      if (inFlight === 0) idle?.();
    });
    void listener(req, res);
  });
  // As faas-js-runtime (fastify) set them: an event's answer may take the step's whole work, so no request timeout
  // shorter than the broker's own.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> =>
    (drained ??= new Promise<void>((resolve) => {
      draining = true;
      server.close(() => {
        resolve();
      });
      server.closeIdleConnections();
      idle = () => {
        server.closeAllConnections();
      };
      if (inFlight === 0) idle();
    }));
  return { server, port: (server.address() as AddressInfo).port, drain };
};
