// What a step tells `kubectl describe` about its work: each step maps its plan and result to Kubernetes Events
// (pure, in its events.ts), and this records them once the work is done. Only changes and failures are reported,
// never "unchanged"; a failure retried by the broker repeats the same note, so the recorder counts it in one series.
import type * as E from 'fp-ts/lib/Either.js';
import type * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import type * as T from 'fp-ts/lib/Task.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { describeError, type SyncError } from '../errors.js';
import type { EventNote, EventRecorder, Regarding } from '../kube/events.js';

export interface Report {
  readonly regarding: Regarding;
  readonly event: EventNote;
}

export const normal = (regarding: Regarding, reason: string, action: string, note: string): Report => ({
  regarding,
  event: { type: 'Normal', reason, action, note },
});

export const warning = (regarding: Regarding, reason: string, action: string, note: string): Report => ({
  regarding,
  event: { type: 'Warning', reason, action, note },
});

/**
 * A failure worth a Warning: not the races that the step's own retry resolves (a 409, a 404 on re-read), not an
 * API the cluster does not serve (nothing to do there), not a missing configuration (the QuayIntegration's status
 * says it once for every object), not a bad event (it names no object the bridge acted on).
 */
export const failureReport = (
  regarding: Regarding,
  action: string,
  e: SyncError,
  refusedReason = 'NameRefused',
): Report | undefined => {
  switch (e._tag) {
    case 'KubeConflict':
    case 'KubeNotFound':
    case 'KubeNotServed':
    case 'NotOurs': // reported by the ownership check itself (OrganizationNotOurs)
    case 'NotConfigured':
    case 'BadEvent':
      return undefined;
    case 'InvalidName':
      return warning(regarding, refusedReason, action, e.message);
    case 'KubeForbidden':
    case 'KubeRejected':
    case 'KubeResponseInvalid':
    case 'KubeUnavailable':
    case 'QuayAuthFailed':
    case 'QuayRateLimited':
    case 'QuayRejected':
    case 'QuayResponseInvalid':
    case 'QuayUnavailable':
    case 'QuayUnreachable':
      return warning(regarding, e._tag, action, describeError(e));
  }
};

/** Runs `work`, then records what `reportsOf` makes of its result (the Events never change the result). */
export const reporting =
  <A>(
    events: EventRecorder,
    reportsOf: (result: E.Either<SyncError, A>) => readonly (Report | undefined)[],
  ) =>
  (work: TE.TaskEither<SyncError, A>): TE.TaskEither<SyncError, A> =>
  async () => {
    const result = await work();
    await recordAll(events, reportsOf(result))();
    return result;
  };

/** Records `reports` one after the other. */
export const recordAll =
  (events: EventRecorder, reports: readonly (Report | undefined)[]): T.Task<void> =>
  async () => {
    for (const r of reports) if (r !== undefined) await events.record(r.regarding, r.event)();
  };

/** `reporting` for an effect that still needs its environment. */
export const reported =
  <R, A>(
    events: EventRecorder,
    reportsOf: (result: E.Either<SyncError, A>) => readonly (Report | undefined)[],
  ) =>
  (work: RTE.ReaderTaskEither<R, SyncError, A>): RTE.ReaderTaskEither<R, SyncError, A> =>
  (r) =>
    reporting(events, reportsOf)(work(r));

/** The Regarding of a Namespace, ServiceAccount or ImageStream as read (its uid is what `kubectl describe` matches). */
export const regardingOf = (
  apiVersion: string,
  kind: string,
  meta: { readonly name: string; readonly namespace?: string; readonly uid?: string },
): Regarding => ({
  apiVersion,
  kind,
  name: meta.name,
  ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }),
  ...(meta.uid === undefined ? {} : { uid: meta.uid }),
});
