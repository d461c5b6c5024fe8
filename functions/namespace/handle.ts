// Namespace step: decode the ApiServerSource event → re-read the Namespace → plan → apply → answer.
import * as E from 'fp-ts/lib/Either.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { decodeObjectEvent } from '../../shared/events/envelope.js';
import { Namespace } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import type { Step } from '../../shared/runtime/handler.js';
import { loadSettings, readSinceCreation, reRead, workEnv } from '../../shared/runtime/observe.js';
import { applyNamespacePlan } from './apply.js';
import { planNamespace } from './plan.js';

export const decodeNamespaceEvent = decodeObjectEvent([{ kind: 'Namespace', group: '', codec: Namespace }]);

export const namespaceStep: Step<StepEnv> = {
  name: 'namespace',
  run: (ce) =>
    pipe(
      RTE.fromEither(decodeNamespaceEvent(ce)),
      RTE.bindTo('event'),
      RTE.bind('settings', ({ event }) => loadSettings(readSinceCreation(event.object))),
      RTE.bind('current', ({ event }) => reRead(Namespace, { type: Resources.Namespace, name: event.name })),
      RTE.flatMap(({ event, settings, current }) => (env: StepEnv) => {
        const plan = planNamespace(
          { name: event.name, current, action: event.action },
          pipe(
            settings,
            E.map((c) => c.settings),
          ),
        );
        return applyNamespacePlan(plan)(workEnv(env, settings));
      }),
    ),
};
