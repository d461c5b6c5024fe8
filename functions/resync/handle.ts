// Resync step, driven by a PingSource and by QuayIntegration events: read the settings afresh, reconcile every
// Namespace, ServiceAccount and ImageStream, sweep orphaned organizations, and write the QuayIntegration's status.
// It answers 2xx once a pass is done, even if some objects failed: those are counted in the Ready condition and
// the next pass retries them; a broker retry would only repeat the whole pass.
import { performance } from 'node:perf_hooks';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import type { SyncError } from '../../shared/errors.js';
import { decodeEnvelope, decodeObjectEvent } from '../../shared/events/envelope.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import type { Step, StepResult } from '../../shared/runtime/handler.js';
import { discoverServed } from '../../shared/kube/discovery.js';
import { writeConditions } from '../../shared/settings/conditions.js';
import { DISCOVERED_TYPES, partsFor, type Part } from '../../shared/settings/parts.js';
import { configuredOf, type SettingsReport } from '../../shared/settings/load.js';
import { ownerOf } from '../../shared/runtime/observe.js';
import { recordNotOurs } from '../../shared/sync/events.js';
import { observeResync } from '../../shared/runtime/metrics.js';
import { recordAll } from '../../shared/runtime/report.js';
import { reconcileAll, releaseAll } from './apply.js';
import { resyncReports, totals } from './events.js';
import { writeSummary } from './status.js';
import { isStatusOnlyChange, type Tally } from './plan.js';

const decodeQuayIntegrationEvent = decodeObjectEvent([
  {
    kind: 'QuayIntegration',
    group: 'quay.redhat.com',
    codec: t.type({ metadata: t.type({ name: t.string }) }),
  },
]);

const summary = (t: Tally): Record<string, unknown> => ({ ...t });

const withConditions =
  (
    report: SettingsReport,
    tally: Tally | undefined,
    parts?: readonly Part[],
  ): RTE.ReaderTaskEither<StepEnv, never, number | string> =>
  (env) =>
    pipe(
      writeConditions(
        env.kube,
        report,
        tally === undefined
          ? undefined
          : {
              objects: tally.namespaces + tally.serviceAccounts + tally.imageStreams,
              failed: tally.failed,
              failures: tally.failures,
              notOurs: tally.notOurs.map((n) => n.org),
            },
        env.now(),
        parts,
      ),
      TE.orElse((e) => TE.right<never, number | string>(`status not written: ${e.message}`)),
    );

export const resyncStep: Step<StepEnv> = {
  name: 'resync',
  run: (ce) =>
    pipe(
      RTE.fromEither(decodeEnvelope(ce)),
      RTE.flatMap((): RTE.ReaderTaskEither<StepEnv, SyncError, StepResult> => {
        const qiEvent = decodeQuayIntegrationEvent(ce);
        if (E.isRight(qiEvent) && isStatusOnlyChange(qiEvent.right))
          return RTE.right({ outcome: 'ignored', reason: 'a status-only change of the QuayIntegration' });
        return pipe(
          (env: StepEnv) =>
            pipe(
              env.settings.report({ fresh: true }),
              TE.mapLeft((e): SyncError => e),
            ),
          RTE.flatMap((report) => (env: StepEnv): TE.TaskEither<SyncError, StepResult> => {
            // A resync request that a pass begun since the event was sent has handled already.
            if (
              E.isRight(qiEvent) &&
              report.integrations.length === 1 &&
              isStatusOnlyChange(qiEvent.right, report.integrations[0]?.lastResyncRequest)
            )
              return TE.right({ outcome: 'ignored', reason: 'the resync request was handled already' });
            const work = { kube: env.kube, quay: O.none };
            if (report.state._tag === 'NoIntegration')
              return pipe(
                releaseAll(work),
                TE.map((tally) => ({
                  outcome: tally.changed > 0 ? ('updated' as const) : ('unchanged' as const),
                  reason: 'no QuayIntegration: every namespace finalizer of ours released, nothing deleted',
                  details: summary(tally),
                })),
              );
            const configured = configuredOf(report);
            if (E.isLeft(configured))
              return pipe(
                withConditions(report, undefined)(env),
                TE.tap(() => writeSummary(env.kube, report.integrations, undefined, env.now())),
                TE.tap(() => TE.fromTask(recordAll(env.events, resyncReports(report, undefined)))),
                TE.flatMap(() => TE.left(configured.left)),
              );
            // What the cluster serves, asked at every pass: an API installed since the last one is used now.
            const started = performance.now();
            return pipe(
              discoverServed(env.kube, DISCOVERED_TYPES),
              TE.mapLeft((e): SyncError => e),
              TE.flatMap((served) =>
                pipe(
                  ownerOf(configured.right.settings)(env),
                  TE.flatMap((owner) =>
                    reconcileAll(
                      configured.right,
                      env.resyncConcurrency,
                      served,
                    )({ kube: env.kube, quay: O.some(configured.right.quay), owner }),
                  ),
                  TE.tap((tally) =>
                    TE.fromTask(
                      pipe(
                        tally.notOurs.map((n) => recordNotOurs(env, n)),
                        T.sequenceSeqArray,
                      ),
                    ),
                  ),
                  TE.tap((tally) =>
                    TE.fromIO(() => {
                      observeResync((performance.now() - started) / 1000, totals(tally));
                    }),
                  ),
                  TE.tap((tally) =>
                    TE.fromTask(recordAll(env.events, [...tally.reports, ...resyncReports(report, tally)])),
                  ),
                  TE.map((tally) => ({ tally, parts: partsFor(served) })),
                ),
              ),
              TE.flatMap(({ tally, parts }) =>
                pipe(
                  withConditions(report, tally, parts)(env),
                  TE.tap(() => writeSummary(env.kube, report.integrations, tally, env.now())),
                  TE.map((written): StepResult => ({
                    outcome: tally.changed + tally.swept > 0 ? 'updated' : 'unchanged',
                    reason: `${tally.namespaces} namespaces, ${tally.serviceAccounts} ServiceAccounts, ${tally.imageStreams} ImageStreams reconciled; ${tally.failed} failed`,
                    details: {
                      ...summary(tally),
                      conditions: written,
                      inactive: parts.filter((p) => !p.active).map((p) => p.name),
                    },
                  })),
                ),
              ),
            );
          }),
        );
      }),
    ),
};
