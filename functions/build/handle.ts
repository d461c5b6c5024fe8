// Build step: decode the ApiServerSource event → re-read the Build (the event is a hint, possibly stale or
// replayed) → plan (the Build alone) → confine (the settings) → verify the digest (Quay) → import and mark → answer.
// A refusal at any of these is a Warning Event on the Build and a final answer (plan.ts says why).
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeObjectEvent } from '../../shared/events/envelope.js';
import type { SyncError } from '../../shared/errors.js';
import { getOptional } from '../../shared/kube/client.js';
import { Resources } from '../../shared/kube/resources.js';
import type { Step, StepResult } from '../../shared/runtime/handler.js';
import { applyImport, checkDigest, refuseImport, type BuildEnv } from './apply.js';
import { Build } from '../../shared/build.js';
import { ALL_CHECKS, confine, plan, type Candidate, type Checks } from './plan.js';

export const decodeBuildEvent = decodeObjectEvent([
  { kind: 'Build', group: 'build.openshift.io', codec: Build },
]);

const ignored = (reason: string): StepResult => ({ outcome: 'ignored', reason });

const importCandidate =
  (c: Candidate, checks: Checks) =>
  (env: BuildEnv): TE.TaskEither<SyncError, StepResult> =>
    pipe(
      env.settings.configured(),
      TE.flatMap(({ settings, quay }) => {
        const confined = confine(c, settings, checks);
        if (confined._tag === 'Refuse') return refuseImport(c.build, confined)(env);
        return pipe(
          checks.verifyDigest ? checkDigest(confined, quay) : TE.right(confined),
          TE.flatMap((p) =>
            p._tag === 'Refuse' ? refuseImport(c.build, p)(env) : applyImport(p, settings)(env),
          ),
        );
      }),
    );

/** The step; `checks` other than ALL_CHECKS only in the hostile-tenant tests (plan.ts Checks). */
export const makeBuildStep = (checks: Checks = ALL_CHECKS): Step<BuildEnv> => ({
  name: 'build',
  run: (ce) =>
    pipe(
      RTE.fromEither(decodeBuildEvent(ce)),
      RTE.flatMap((event) => (env: BuildEnv) => {
        const namespace = event.namespace ?? '';
        const ref = { namespace, name: event.name };
        return pipe(
          getOptional(env.kube, Build, { type: Resources.Build, namespace, name: event.name }),
          TE.mapLeft((e): SyncError => e),
          TE.flatMap(
            O.match(
              () => TE.right(ignored('the Build no longer exists')),
              (build) => {
                const p = plan(ref, build);
                switch (p._tag) {
                  case 'Ignore':
                    return TE.right(ignored(p.reason));
                  case 'Refuse':
                    return refuseImport(
                      {
                        namespace,
                        name: event.name,
                        uid: build.metadata.uid,
                        resourceVersion: build.metadata.resourceVersion,
                      },
                      p,
                    )(env);
                  case 'Candidate':
                    return importCandidate(p, checks)(env);
                }
              },
            ),
          ),
        );
      }),
    ),
});

export const buildStep: Step<BuildEnv> = makeBuildStep();
