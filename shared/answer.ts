// The one place where a step's result becomes the HTTP answer the Knative broker acts on (docs/design.md#event-delivery):
// a 2xx with an empty body is "done"; 5xx, 404, 408, 409 and 429 are retried with back-off; any other 4xx goes
// straight to the dead-letter sink. So 4xx is kept for input that can never succeed, and everything the world can
// fix (Quay or the API server down, a conflict, a rate limit) is a 5xx or 429. The resync step is the backstop for
// whatever exhausts the broker's retries.
import { describeError, type SyncError } from './errors.js';
import { classifyRejection } from './quay/errors.js';

export type Outcome = 'created' | 'updated' | 'unchanged' | 'deleted' | 'ignored';

export interface Answer {
  /** 204 for done and ignored: faas-js-runtime sends it with an empty body. */
  readonly status: number;
  /** How the event ends in the log line. */
  readonly outcome: Outcome | 'failed' | 'rejected';
  /** Text body for non-2xx answers (kept short; never a token). */
  readonly message?: string;
  readonly retryAfterSeconds?: number;
}

export const DONE = 204;

export const answerOf = (outcome: Outcome): Answer => ({ status: DONE, outcome });

export const answerOfError = (e: SyncError): Answer => {
  const message = describeError(e);
  switch (e._tag) {
    // Poison input: the same event can never succeed, dead-letter it at once.
    case 'BadEvent':
    case 'InvalidName':
    case 'NotOurs':
      return { status: 422, outcome: 'rejected', message };
    // Nothing to do until the QuayIntegration is fixed; its status conditions say why, and its next change
    // triggers a resync that reconciles everything. Retrying (or dead-lettering every event of the cluster) would
    // only add noise: this is QBO's 5-second hot loop (docs/qbo-compatibility.md#b2) turned into one log line per event.
    case 'NotConfigured':
      return { status: DONE, outcome: 'ignored', message };
    case 'QuayRateLimited':
      return e.retryAfterSeconds === undefined
        ? { status: 429, outcome: 'failed', message }
        : { status: 429, outcome: 'failed', message, retryAfterSeconds: e.retryAfterSeconds };
    case 'KubeUnavailable':
      if (e.status === 429)
        return e.retryAfterSeconds === undefined
          ? { status: 429, outcome: 'failed', message }
          : { status: 429, outcome: 'failed', message, retryAfterSeconds: e.retryAfterSeconds };
      return { status: 503, outcome: 'failed', message };
    // QuayAuthFailed is an expired or rotated token: retried while someone fixes the Secret; the resync catches up.
    case 'QuayUnreachable':
    case 'QuayUnavailable':
    case 'QuayAuthFailed':
      return { status: 503, outcome: 'failed', message };
    // Retried: the retry re-reads the object and finds the conflict resolved or the object gone.
    case 'KubeConflict':
      return { status: 409, outcome: 'failed', message };
    case 'KubeNotFound':
      return { status: 404, outcome: 'failed', message };
    // The cluster does not serve the kind (no ImageStream or Build off OpenShift): nothing to do for it, and a retry
    // would find the same. Final, like NotConfigured; an API installed later is used by the next event or resync.
    case 'KubeNotServed':
      return { status: DONE, outcome: 'ignored', message };
    // Quay refused a request: retried when the refusal can pass (e.g. "Username is not available" while a deleted
    // organization awaits Quay's GC), dead-lettered when it cannot (shared/quay/errors.ts classifyRejection).
    case 'QuayRejected': {
      const c = classifyRejection(e.status, e.message);
      return c.retry
        ? { status: 502, outcome: 'failed', message }
        : { status: 422, outcome: 'rejected', message: `${message}; not retried: ${c.reason}` };
    }
    // Quay answered nonsense: worth a bounded number of retries, not a dead letter.
    case 'QuayResponseInvalid':
    case 'KubeResponseInvalid':
      return { status: 502, outcome: 'failed', message };
    // The bridge's own RBAC or a request the API server refuses: an operator must act; retried a bounded number of
    // times so that a fix made meanwhile still lands.
    case 'KubeForbidden':
    case 'KubeRejected':
      return { status: 500, outcome: 'failed', message };
  }
};
