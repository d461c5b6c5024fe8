// ServiceAccount step: decode → re-read the ServiceAccount and its Namespace → plan → apply → answer.
// It also takes events about robot Secrets (by a Reference-mode ApiServerSource on Secrets labelled
// app.kubernetes.io/managed-by=quay-bridge, which carries no Secret data), so that a Secret deleted or edited by
// hand is restored at once rather than at the next resync.
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { badEvent, type SyncError } from '../../shared/errors.js';
import { decodeObjectEvent } from '../../shared/events/envelope.js';
import { KubeObject, Namespace, ServiceAccount } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import type { Step, StepResult } from '../../shared/runtime/handler.js';
import { ownerOf, readSinceCreation, reRead } from '../../shared/runtime/observe.js';
import { oneAtATime } from '../../shared/runtime/one-at-a-time.js';
import { strongest } from '../../shared/runtime/work.js';
import { reported } from '../../shared/runtime/report.js';
import { reportingNotOurs } from '../../shared/sync/events.js';
import { planServiceAccount } from '../../shared/sync/robot-plan.js';
import { reconcileRobot } from '../../shared/sync/robot.js';
import { refusalReports, serviceAccountReports } from './events.js';
import { serviceAccountOfSecret } from './plan.js';

export const decodeServiceAccountEvent = decodeObjectEvent<unknown>([
  { kind: 'ServiceAccount', group: '', codec: ServiceAccount },
  { kind: 'Secret', group: '', codec: KubeObject },
]);

/** The ServiceAccount and its Namespace as they are now, read side by side. */
const objects = (
  namespace: string,
  name: string,
): RTE.ReaderTaskEither<StepEnv, SyncError, { sa: O.Option<ServiceAccount>; ns: O.Option<Namespace> }> =>
  pipe(
    RTE.Do,
    RTE.apS('sa', reRead(ServiceAccount, { type: Resources.ServiceAccount, namespace, name })),
    RTE.apS('ns', reRead(Namespace, { type: Resources.Namespace, name: namespace })),
  );

export const serviceAccountStep: Step<StepEnv> = {
  name: 'service-account',
  run: (ce) =>
    pipe(
      RTE.fromEither(decodeServiceAccountEvent(ce)),
      RTE.flatMap((event) =>
        event.namespace === undefined
          ? RTE.left(badEvent(`a ${event.kind} event without a namespace`))
          : RTE.right({ event, namespace: event.namespace }),
      ),
      RTE.flatMap(({ event, namespace }) =>
        pipe(
          RTE.Do,
          RTE.apS('configured', (env: StepEnv) => env.settings.configured(readSinceCreation(event.object))),
          // A ServiceAccount's own event names it: it and its namespace are read beside the settings (one round
          // trip); a Secret's names its ServiceAccount only through the settings' clusterID.
          RTE.apS(
            'early',
            event.kind === 'ServiceAccount' ? objects(namespace, event.name) : RTE.right(undefined),
          ),
          RTE.map((read) => ({ event, namespace, ...read })),
        ),
      ),
      RTE.flatMap(
        ({ event, namespace, configured, early }): RTE.ReaderTaskEither<StepEnv, SyncError, StepResult> => {
          const name =
            event.kind === 'Secret' ? serviceAccountOfSecret(event.name, configured.settings) : event.name;
          if (name === undefined)
            return RTE.right({
              outcome: 'ignored',
              reason: `Secret ${namespace}/${event.name} is not a robot Secret`,
            });
          return perServiceAccount(`${namespace}/${name}`, (waited) =>
            pipe(
              // Read again after waiting: the event at work before may have written what this one is about.
              early !== undefined && !waited ? RTE.right(early) : objects(namespace, name),
              RTE.bind('owner', () => ownerOf(configured.settings)),
              RTE.flatMap(({ sa, ns, owner }) => (env: StepEnv) => {
                const plan = planServiceAccount(
                  { namespaceName: namespace, name, serviceAccount: sa, namespace: ns },
                  configured.settings,
                );
                const work = { kube: env.kube, quay: O.some(configured.quay), owner };
                switch (plan._tag) {
                  case 'Ignore':
                    return RTE.right<StepEnv, SyncError, StepResult>({
                      outcome: 'ignored',
                      reason: plan.reason,
                    })(env);
                  case 'Refuse':
                    return pipe(
                      RTE.left<StepEnv, SyncError, StepResult>({
                        _tag: 'InvalidName',
                        message: plan.message,
                      }),
                      reported<StepEnv, StepResult>(env.events, refusalReports(namespace, name, sa)),
                    )(env);
                  case 'Reconcile':
                    return pipe(
                      reconcileRobot(plan.target),
                      reported(env.events, serviceAccountReports(plan.target)),
                      RTE.map((r): StepResult => ({
                        outcome: strongest([
                          r.changes.robot,
                          r.changes.secret,
                          r.changes.defaultPermission,
                          r.changes.link,
                          r.namespace,
                        ]),
                        reason: `robot ${plan.target.robotName}, Secret ${plan.target.secretName}`,
                        details: { organization: r.namespace, ...r.changes },
                      })),
                    )(work);
                }
              }),
            ),
          );
        },
      ),
      reportingNotOurs,
    ),
};

/** Its robot Secret's event and its link's come back while the ServiceAccount's event is still at work: they wait. */
const perServiceAccount = oneAtATime();
