// Namespace step: decode the ApiServerSource event → re-read the Namespace → plan → apply → answer. The events of
// its own writes (its finalizer and its organization stamp) are answered from its memory, without a call
// (docs/design.md#own-echoes).
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../../shared/errors.js';
import { decodeObjectEvent, type ObjectEvent } from '../../shared/events/envelope.js';
import { Namespace } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import type { Step, StepResult } from '../../shared/runtime/handler.js';
import { oneAtATime } from '../../shared/runtime/one-at-a-time.js';
import { ownEchoesPerEnvironment, type Version } from '../../shared/runtime/own-echoes.js';
import { loadSettings, ownerOf, readSinceCreation, reRead, workEnv } from '../../shared/runtime/observe.js';
import { reporting } from '../../shared/runtime/report.js';
import { reportingNotOurs } from '../../shared/sync/events.js';
import { applyNamespacePlanAt } from '../../shared/sync/namespace-apply.js';
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
/** The versions this process's own writes left each namespace at (docs/design.md#own-echoes). */
const echoesOf = ownEchoesPerEnvironment();

/** The uid and resourceVersion a Namespace event shows; none for a delete, which is never an echo. */
const shown = (event: ObjectEvent<Namespace>): Partial<Version> => {
  if (event.action === 'delete' || O.isNone(event.object)) return {};
  const { uid, resourceVersion } = event.object.value.metadata;
  return {
    ...(uid === undefined ? {} : { uid }),
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
  };
};

/**
 * The echo is looked for once the events at work on the namespace are done (its finalizer's echo comes while the
 * organization is being made), and before anything is read, not even the settings: a change of the
 * QuayIntegration starts a resync that revisits every namespace.
 */
const handleEvent =
  (
    plan: typeof planNamespace,
    event: ObjectEvent<Namespace>,
  ): RTE.ReaderTaskEither<StepEnv, SyncError, StepResult> =>
  (env) => {
    const seen = shown(event);
    return echoesOf(env).isEcho(event.name, seen)
      ? TE.right({
          outcome: 'unchanged',
          reason: `namespace ${event.name} at resourceVersion ${seen.resourceVersion ?? ''}: written so by this step's own reconcile (its own echo)`,
        })
      : pipe(
          handleObserved(plan, event)(env),
          // A handling that failed leaves nothing to skip.
          TE.tapError(() =>
            TE.fromIO(() => {
              echoesOf(env).forget(event.name);
            }),
          ),
        );
  };

const handleObserved = (
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
        applyNamespacePlanAt(planned)(workEnv(env, settings, O.toUndefined(owner))),
        // What a Provision's writes left is remembered in place of what was; a namespace found ensured changes
        // nothing (the echoes of the writes that ensured it may still come); any other plan forgets.
        TE.tapIO((applied) => () => {
          if (planned._tag !== 'Provision' || !planned.ensured)
            echoesOf(env).record(event.name, applied.written);
        }),
        TE.map((applied) => applied.result),
        reporting(env.events, namespaceReports(planned)),
      );
    }),
  );

export const namespaceStep: Step<StepEnv> = namespaceStepWith();
