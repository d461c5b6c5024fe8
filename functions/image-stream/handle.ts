// ImageStream step: decode → re-read the ImageStream and its Namespace → plan → apply → answer.
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as O from 'fp-ts/lib/Option.js';
import { badEvent } from '../../shared/errors.js';
import { decodeObjectEvent } from '../../shared/events/envelope.js';
import { ImageStream, Namespace } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import type { Step } from '../../shared/runtime/handler.js';
import { ownerOf, readSinceCreation, reRead } from '../../shared/runtime/observe.js';
import { reporting } from '../../shared/runtime/report.js';
import { imageStreamReports, reportingNotOurs } from '../../shared/sync/events.js';
import { planImageStream } from '../../shared/sync/repository-plan.js';
import { applyImageStreamPlan } from './apply.js';

export const decodeImageStreamEvent = decodeObjectEvent([
  { kind: 'ImageStream', group: 'image.openshift.io', codec: ImageStream },
]);

export const imageStreamStep: Step<StepEnv> = {
  name: 'image-stream',
  run: (ce) =>
    pipe(
      RTE.fromEither(decodeImageStreamEvent(ce)),
      RTE.flatMap((event) =>
        event.namespace === undefined
          ? RTE.left(badEvent('an ImageStream event without a namespace'))
          : RTE.right({ event, namespace: event.namespace }),
      ),
      RTE.bind(
        'configured',
        ({ event }) =>
          (env: StepEnv) =>
            env.settings.configured(readSinceCreation(event.object)),
      ),
      RTE.bind('current', ({ event, namespace }) =>
        reRead(ImageStream, { type: Resources.ImageStream, namespace, name: event.name }),
      ),
      RTE.bind('ns', ({ namespace }) => reRead(Namespace, { type: Resources.Namespace, name: namespace })),
      RTE.bind('owner', ({ configured }) => ownerOf(configured.settings)),
      RTE.flatMap(({ event, namespace, configured, current, ns, owner }) => (env: StepEnv) => {
        const plan = planImageStream(
          { namespaceName: namespace, name: event.name, current, namespace: ns, action: event.action },
          configured.settings,
        );
        return pipe(
          applyImageStreamPlan(plan)({ kube: env.kube, quay: O.some(configured.quay), owner }),
          reporting(env.events, imageStreamReports(plan, namespace, event.name, current)),
        );
      }),
      reportingNotOurs,
    ),
};
