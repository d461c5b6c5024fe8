// Build step: decode the ApiServerSource event → re-read the Build (the event is a hint, possibly stale or
// replayed) → plan → import and mark → answer.
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeObjectEvent } from '../../shared/events/envelope.js';
import type { SyncError } from '../../shared/errors.js';
import { getOptional } from '../../shared/kube/client.js';
import { Resources } from '../../shared/kube/resources.js';
import type { Step, StepResult } from '../../shared/runtime/handler.js';
import { applyImport, type BuildEnv } from './apply.js';
import { Build } from './build.js';
import { plan } from './plan.js';

export const decodeBuildEvent = decodeObjectEvent([
  { kind: 'Build', group: 'build.openshift.io', codec: Build },
]);

const ignored = (reason: string): StepResult => ({ outcome: 'ignored', reason });

export const buildStep: Step<BuildEnv> = {
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
              (build) =>
                pipe(
                  TE.fromEither(plan(ref, build)),
                  TE.flatMap((p) =>
                    p._tag === 'Ignore' ? TE.right(ignored(p.reason)) : applyImport(p)(env),
                  ),
                ),
            ),
          ),
        );
      }),
    ),
};
