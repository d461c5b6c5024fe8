// One admission over HTTP: path and method, a bounded body, the AdmissionReview decoded, the plan, the Secret
// check, the answer. Nothing a client sends can crash the process: bad input is a 400 with a sentence, a bug is a
// 500 with a sentence, and both are logged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import type { Logger } from '../../shared/log.js';
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
 * The API server sends at most an object and its old version (etcd keeps objects under 1.5 MiB, request bodies
 * are capped at 3 MiB), so twice that is more than any real review.
 */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

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
    env.log.warn('admission refused', { outcome: 'rejected', message: text.left });
    return { status: 400, body: statusBody(400, text.left), close: true, outcome: 'rejected' };
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

/** The Node request listener of the HTTPS server. */
export const admissionListener =
  (env: AdmissionHttpEnv, onTiming?: (t: Timing) => void) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    const start = process.hrtime.bigint();
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    answerAdmission(
      env,
      req.method ?? 'GET',
      req.url ?? '/',
      req,
      Number.isFinite(length) ? length : undefined,
    )
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
        const payload = JSON.stringify(a.body);
        res.writeHead(a.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(a.close === true ? { connection: 'close' } : {}),
        });
        res.end(payload, () => {
          onTiming?.({
            ms: Number(process.hrtime.bigint() - start) / 1e6,
            status: a.status,
            outcome: a.outcome ?? 'failed',
          });
          if (a.close === true) req.destroy();
        });
      })
      .catch((e: unknown) => {
        env.log.error('admission answer failed', { message: e instanceof Error ? e.message : String(e) });
        res.destroy();
      });
  };
