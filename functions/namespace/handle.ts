// Namespace step: decode the ApiServerSource event → re-read the Namespace → plan → apply → answer.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../../shared/errors.js';
import { decodeObjectEvent, type ObjectEvent } from '../../shared/events/envelope.js';
import { Namespace } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import type { Step, StepResult } from '../../shared/runtime/handler.js';
import { oneAtATime } from '../../shared/runtime/one-at-a-time.js';
import { loadSettings, ownerOf, readSinceCreation, reRead, workEnv } from '../../shared/runtime/observe.js';
import { reporting } from '../../shared/runtime/report.js';
import { reportingNotOurs } from '../../shared/sync/events.js';
import { applyNamespacePlan } from '../../shared/sync/namespace-apply.js';
import { planNamespace } from '../../shared/sync/namespace-plan.js';
import { namespaceReports } from './events.js';

export const decodeNamespaceEvent = decodeObjectEvent([{ kind: 'Namespace', group: '', codec: Namespace }]);

/** The step with its plan; `plan` is replaced only by tests that show an attack against a weakened plan. */
export const namespaceStepWith = (plan: typeof planNamespace = planNamespace): Step<StepEnv> => ({
  name: 'namespace',
  run: (ce) =>
    pipe(
      RTE.fromEither(decodeNamespaceEvent(ce)),
      RTE.flatMap((event) => perNamespace(event.name, () => handleEvent(plan, event))),
      reportingNotOurs,
    ),
});

/** Our finalizer write comes back while the first event still makes the organization: it waits, then finds the stamp. */
const perNamespace = oneAtATime();

const handleEvent = (
  plan: typeof planNamespace,
  event: ObjectEvent<Namespace>,
): RTE.ReaderTaskEither<StepEnv, SyncError, StepResult> =>
  pipe(
    // The settings and the namespace are read side by side (one round trip, not two).
    RTE.Do,
    RTE.apS('settings', loadSettings(readSinceCreation(event.object))),
    RTE.apS('current', reRead(Namespace, { type: Resources.Namespace, name: event.name })),
    RTE.map((read) => ({ event, ...read })),
    RTE.bind('owner', ({ settings }) =>
      E.isRight(settings) ? pipe(ownerOf(settings.right.settings), RTE.map(O.some)) : RTE.right(O.none),
    ),
    RTE.flatMap(({ event, settings, current, owner }) => (env: StepEnv) => {
      const planned = plan(
        { name: event.name, current, action: event.action },
        pipe(
          settings,
          E.map((c) => c.settings),
        ),
      );
      return pipe(
        applyNamespacePlan(planned)(workEnv(env, settings, O.toUndefined(owner))),
        reporting(env.events, namespaceReports(planned)),
      );
    }),
  );

export const namespaceStep: Step<StepEnv> = namespaceStepWith();
