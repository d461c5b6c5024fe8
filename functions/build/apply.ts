// The build step's effects: look the digest up in Quay, import, mark, and say so on the Build. Import first and mark
// after: a crash or a lost answer in between only means the next delivery imports the same digest again, which
// changes nothing (the tag's head already is that image), whereas marking first could lose an import for good.
import { pipe } from 'fp-ts/lib/function.js';
import * as O from 'fp-ts/lib/Option.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { badEvent, type SyncError } from '../../shared/errors.js';
import type { KubeEnv } from '../../shared/kube/client.js';
import type { EventsEnv, Regarding } from '../../shared/kube/events.js';
import { Resources } from '../../shared/kube/resources.js';
import type { LogEnv } from '../../shared/log.js';
import { TAG_VERSIONS_LIMIT } from '../../shared/quay/tags.js';
import type { QuayClient } from '../../shared/quay/types.js';
import type { StepResult } from '../../shared/runtime/handler.js';
import type { SettingsEnv } from '../../shared/settings/load.js';
import {
  imageStreamImport,
  importOutcome,
  markImported,
  verifyDigest,
  type BuildRef,
  type ImportPlan,
  type ImportSettings,
  type Refusal,
} from './plan.js';

export interface BuildEnv extends KubeEnv, LogEnv, SettingsEnv, EventsEnv {}

const ACTION = 'ImportImage';

export const regardingBuild = (b: BuildRef): Regarding => ({
  apiVersion: 'build.openshift.io/v1',
  kind: 'Build',
  namespace: b.namespace,
  name: b.name,
  ...(b.uid === undefined ? {} : { uid: b.uid }),
});

/**
 * A refused Build: a Warning Event on it (where its editors see it: `oc describe build`), and the answer. Poison
 * input is 422 (dead-lettered, never retried: a forged Build is not transient); a namespace out of scope is 204.
 */
export const refuseImport =
  (b: BuildRef, r: Refusal) =>
  ({ events }: EventsEnv): TE.TaskEither<SyncError, StepResult> =>
    pipe(
      TE.fromTask(
        events.record(regardingBuild(b), {
          type: 'Warning',
          reason: r.reason,
          action: ACTION,
          note: r.message,
        }),
      ),
      TE.flatMap(() =>
        r.poison
          ? TE.left(badEvent(`not imported (${r.reason}): ${r.message}`))
          : TE.right<SyncError, StepResult>({
              outcome: 'ignored',
              reason: `not imported (${r.reason}): ${r.message}`,
            }),
      ),
    );

/** One Quay read: the newest versions of the tag the Build pushed must include its digest. */
export const checkDigest = (
  p: ImportPlan,
  quay: QuayClient,
): TE.TaskEither<SyncError, Refusal | ImportPlan> =>
  p.quay === undefined
    ? TE.right(verifyDigest(p, O.none, TAG_VERSIONS_LIMIT))
    : pipe(
        quay.tagVersions(p.quay.org, p.quay.repository, p.quay.tag),
        TE.mapLeft((e): SyncError => e),
        TE.map((versions) => verifyDigest(p, versions, TAG_VERSIONS_LIMIT)),
      );

export const applyImport =
  (p: ImportPlan, settings: ImportSettings) =>
  ({ kube, events }: KubeEnv & EventsEnv): TE.TaskEither<SyncError, StepResult> => {
    const target = `ImageStreamTag ${p.destination.namespace}/${p.destination.imageStream}:${p.destination.tag}`;
    return pipe(
      kube.create(Resources.ImageStreamImport, p.destination.namespace, imageStreamImport(p, settings)),
      TE.mapLeft((e): SyncError => e),
      TE.flatMapEither((answer) => importOutcome(p, answer)),
      TE.flatMap(({ image }) =>
        pipe(
          kube.patch(
            { type: Resources.Build, namespace: p.build.namespace, name: p.build.name },
            { type: 'merge', body: markImported(p) },
          ),
          TE.mapLeft((e): SyncError => e),
          TE.tap(() =>
            TE.fromTask(
              events.record(regardingBuild(p.build), {
                type: 'Normal',
                reason: 'Imported',
                action: ACTION,
                note: `Imported ${settings.scheduledImageStreamImport ? p.tagged : p.from} into ${target}`,
              }),
            ),
          ),
          TE.map((): StepResult => ({
            outcome: 'updated',
            reason: `imported into ${target}`,
            details: { image },
          })),
        ),
      ),
    );
  };
