// The QuayIntegration's status at a glance (the printer columns of `kubectl get quayintegration`): namespaces in
// sync and failed, when the last pass ended, and which resync request (annotation) it handled. A merge patch on the
// status subresource, apart from the conditions' server-side apply (conditions.ts), so that each keeps its own
// fields. Written after every pass: the time of the last pass is the point, and the QuayIntegration event this write
// causes is ignored (plan.ts isStatusOnlyChange).
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { KubeClient } from '../../shared/kube/client.js';
import { Resources } from '../../shared/kube/resources.js';
import type { IntegrationRef } from '../../shared/settings/load.js';
import type { Tally } from './plan.js';

/** The status fields of a finished pass (`tally`), or of a request handled without a pass (none). */
export const summaryStatus = (
  integration: IntegrationRef,
  tally: Tally | undefined,
  now: Date,
): Record<string, unknown> | undefined => {
  const request =
    integration.resyncRequested !== undefined && integration.resyncRequested !== integration.lastResyncRequest
      ? { lastResyncRequest: integration.resyncRequested }
      : {};
  if (tally === undefined) return Object.keys(request).length === 0 ? undefined : request;
  return {
    namespacesSynced: tally.namespaces - tally.namespacesFailed,
    namespacesFailed: tally.namespacesFailed,
    lastResyncTime: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    ...request,
  };
};

/** Writes the summary of the one QuayIntegration; a failure is told in the result, never fails the pass. */
export const writeSummary = (
  kube: KubeClient,
  integrations: readonly IntegrationRef[],
  tally: Tally | undefined,
  now: Date,
): TE.TaskEither<never, string> => {
  const only = integrations.length === 1 ? integrations[0] : undefined;
  const status = only === undefined ? undefined : summaryStatus(only, tally, now);
  if (only === undefined || status === undefined) return TE.right('nothing to write');
  return pipe(
    kube.patch(
      { type: Resources.QuayIntegration, name: only.name },
      { type: 'merge', body: { status } },
      'status',
    ),
    TE.match(
      (e) => `summary not written: ${e.message}`,
      () => 'written',
    ),
    TE.fromTask,
  );
};
