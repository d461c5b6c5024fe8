// One admission over HTTP: path and method, a bounded body, the AdmissionReview decoded, the plan, the Secret
// check, the answer. Nothing a client sends can crash the process: bad input is a 400 with a sentence, a bug is a
// 500 with a sentence, and both are logged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from '../../shared/log.js';
import { createGate } from '../../shared/runtime/gate.js';
import {
  parseReview,
  reviewAnswer,
  statusBody,
  type AdmissionRequest,
  type Decision,
} from './admission-review.js';
import { decide, plan, type SecretPresence, type SettingsView } from './plan.js';

export const ADMISSION_PATH = '/admissionwebhook';

/**
 * The webhook is registered for Build CREATE only, so a review carries one Build (no oldObject) and the requester's
 * user info. etcd stores no object above 1.5 MiB (a larger Build could never be created anyway); 2 MiB leaves the
 * envelope room. Larger bodies are answered 413 without being read.
 */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Admissions worked on at once (bodies read, decoded, decided); the others wait, unread, in order. With the body
 * limit this bounds the memory requests can take (8 × 2 MiB, parsed a few times over, within the pod's 256 MiB).
 */
export const DEFAULT_MAX_IN_FLIGHT = 8;
/** Admissions that may wait for a turn; beyond, 429 with Retry-After (the API server gives a webhook 5 s anyway). */
export const DEFAULT_MAX_QUEUED = 64;

export interface AdmitEnv {
  readonly view: () => SettingsView;
  readonly builderSecret: (namespace: string, name: string) => Promise<SecretPresence>;
}

export interface Admitted {
  readonly decision: Decision;
  readonly reason: string;
}

export const admit =
  (env: AdmitEnv) =>
  async (request: AdmissionRequest): Promise<Admitted> => {
    const p = plan(request, env.view());
    if (p._tag === 'Final') return { decision: p.decision, reason: p.reason };
    const presence = await env.builderSecret(p.secret.namespace, p.secret.name);
    return {
      decision: decide(p, presence),
      reason: `redirect to ${p.image} (builder Secret ${presence._tag})`,
    };
  };

export interface HttpAnswer {
  readonly status: number;
  readonly body: object;
  /** Close the connection after answering (the rest of an oversized body is not read). */
  readonly close?: boolean;
  /** For metrics: mutated, allowed, denied; rejected (not an admission review); failed (a bug). */
  readonly outcome?: string;
}

export type BodyResult = E.Either<string, string>;

/** The body as text, or why not; stops reading at `limit` bytes. */
export const readBody = (stream: Readable, limit: number, declaredLength?: number): Promise<BodyResult> => {
  if (declaredLength !== undefined && declaredLength > limit)
    return Promise.resolve(
      E.left(`the request body of ${declaredLength} bytes exceeds the limit of ${limit} bytes`),
    );
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult): void => {
      if (done) return;
      done = true;
      stream.off('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer | string): void => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > limit) {
        stream.pause();
        finish(E.left(`the request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(b);
    };
    stream.on('data', onData);
    stream.once('end', () => {
      finish(E.right(Buffer.concat(chunks).toString('utf8')));
    });
    stream.once('error', (e) => {
      finish(E.left(`the request body could not be read: ${e.message}`));
    });
  });
};

export interface AdmissionHttpEnv {
  readonly admit: (request: AdmissionRequest) => Promise<Admitted>;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  /** DEFAULT_MAX_IN_FLIGHT when absent. */
  readonly maxInFlight?: number;
  /** DEFAULT_MAX_QUEUED when absent. */
  readonly maxQueued?: number;
}

const outcomeOf = (d: Decision): string => {
  switch (d._tag) {
    case 'Allow':
      return 'allowed';
    case 'Mutate':
      return 'mutated';
    case 'Deny':
      return 'denied';
  }
};

export const answerAdmission = async (
  env: AdmissionHttpEnv,
  method: string,
  url: string,
  body: Readable,
  declaredLength: number | undefined,
): Promise<HttpAnswer> => {
  const path = url.split('?')[0];
  if (path !== ADMISSION_PATH)
    return {
      status: 404,
      body: statusBody(404, `no admission webhook at ${path ?? url}`),
      outcome: 'rejected',
    };
  if (method !== 'POST')
    return {
      status: 405,
      body: statusBody(405, `${ADMISSION_PATH} takes POST, not ${method}`),
      outcome: 'rejected',
    };
  const text = await readBody(body, env.maxBodyBytes, declaredLength);
  if (E.isLeft(text)) {
    const status = text.left.includes('exceeds the limit') ? 413 : 400;
    env.log.warn('admission refused', { outcome: 'rejected', status, message: text.left });
    return { status, body: statusBody(status, text.left), close: true, outcome: 'rejected' };
  }
  const request = parseReview(text.right);
  if (E.isLeft(request)) {
    env.log.warn('admission refused', { outcome: 'rejected', message: request.left.message });
    return { status: 400, body: statusBody(400, request.left.message), outcome: 'rejected' };
  }
  const r = request.right;
  const { decision, reason } = await env.admit(r);
  env.log.info('admission', {
    uid: r.uid,
    operation: r.operation,
    kind: r.kind.kind,
    namespace: r.namespace,
    name: r.name,
    outcome: outcomeOf(decision),
    reason,
    ...(decision._tag === 'Deny' ? { message: decision.message } : {}),
  });
  return { status: 200, body: reviewAnswer(r.uid, decision), outcome: outcomeOf(decision) };
};

export interface Timing {
  /** Server-side time from the request's arrival to the answer's last byte handed to the socket. */
  readonly ms: number;
  readonly status: number;
  readonly outcome: string;
}

const send = (
  res: ServerResponse,
  a: HttpAnswer,
  headers: Record<string, string>,
  done: () => void,
): void => {
  const payload = JSON.stringify(a.body);
  res.writeHead(a.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...(a.close === true ? { connection: 'close' } : {}),
    ...headers,
  });
  res.end(payload, done);
};

export interface AdmissionListener {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Admissions being worked on, and waiting for a turn (tests and the bench). */
  readonly load: () => { readonly running: number; readonly waiting: number };
}

/** The Node request listener of the HTTPS server, with its own bound on admissions at once. */
export const admissionListener = (
  env: AdmissionHttpEnv,
  onTiming?: (t: Timing) => void,
): AdmissionListener => {
  const gate = createGate(env.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  const maxQueued = env.maxQueued ?? DEFAULT_MAX_QUEUED;
  let running = 0;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const start = process.hrtime.bigint();
    const timed = (status: number, outcome: string) => () => {
      onTiming?.({ ms: Number(process.hrtime.bigint() - start) / 1e6, status, outcome });
    };
    if (gate.waiting() >= maxQueued) {
      // Not read: the connection is closed after the answer, so the body costs nothing here.
      const message = `the admission webhook is working on ${running} reviews with ${gate.waiting()} waiting; retry`;
      env.log.warn('admission refused', { outcome: 'rejected', status: 429, message });
      const refused: HttpAnswer = {
        status: 429,
        body: statusBody(429, message),
        close: true,
        outcome: 'rejected',
      };
      send(res, refused, { 'retry-after': '1' }, () => {
        timed(429, 'rejected')();
        req.destroy();
      });
      return;
    }
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    gate
      .run(async () => {
        running += 1;
        try {
          return await answerAdmission(
            env,
            req.method ?? 'GET',
            req.url ?? '/',
            req,
            Number.isFinite(length) ? length : undefined,
          );
        } finally {
          running -= 1;
        }
      })
      .catch((e: unknown): HttpAnswer => {
        const message = e instanceof Error ? e.message : String(e);
        env.log.error('admission failed', { outcome: 'failed', message });
        return {
          status: 500,
          body: statusBody(500, `the admission webhook failed: ${message}`),
          outcome: 'failed',
        };
      })
      .then((a) => {
        send(res, a, {}, () => {
          timed(a.status, a.outcome ?? 'failed')();
          if (a.close === true) req.destroy();
        });
      })
      .catch((e: unknown) => {
        env.log.error('admission answer failed', { message: e instanceof Error ? e.message : String(e) });
        res.destroy();
      });
  };
  return Object.assign(listener, { load: () => ({ running, waiting: gate.waiting() }) });
};
