// The Kubernetes half of a robot: its Secret (server-side apply, docs/qbo-compatibility.md#b10; a Secret of another type is replaced) and the
// link from its ServiceAccount (a resourceVersion-locked merge patch that keeps everyone else's entries).
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../errors.js';
import { getOptional } from '../kube/client.js';
import { Secret, ServiceAccount } from '../kube/objects.js';
import { Resources, type ObjectRef } from '../kube/resources.js';
import { updateWithRetry } from '../kube/update.js';
import type { Change, Robot } from '../quay/types.js';
import type { WorkEnv } from '../runtime/work.js';
import { desiredSecret, planLinks, planSecret, secretApplyBody, type RobotTarget } from './robot-plan.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

const secretRef = (target: RobotTarget): ObjectRef => ({
  type: Resources.Secret,
  namespace: target.serviceAccount.metadata.namespace,
  name: target.secretName,
});

/**
 * The install's RBAC reaches robot Secrets only by the names generated from knative/base/robot-secrets.yaml: a 403
 * on one means that file's clusterID or ServiceAccount list does not match the QuayIntegration. Say so, by name.
 */
export const explainForbidden =
  (target: RobotTarget) =>
  (e: SyncError): SyncError =>
    e._tag === 'KubeForbidden' && e.status === 403
      ? {
          ...e,
          message:
            `${e.message} (the install lets the steps reach only the robot Secrets named in ` +
            `knative/base/robot-secrets.yaml: its clusterID must be the QuayIntegration's, lowercased, and ` +
            `"${target.serviceAccount.metadata.name}-quay" must be listed for Secret ${target.secretName})`,
        }
      : e;

/** The robot Secret as stored now; none when there is none. */
export const readSecret = (target: RobotTarget): Effect<O.Option<Secret>> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) => getOptional(kube, Secret, secretRef(target))),
    RTE.mapLeft(explainForbidden(target)),
  );

/**
 * The Secret with the robot's credentials, written by server-side apply (docs/qbo-compatibility.md#b10); `existing`: the Secret as read at the
 * start of this reconcile, if it was (else it is read here).
 */
export const ensureSecret = (
  target: RobotTarget,
  robot: Robot,
  existing?: O.Option<Secret>,
): Effect<Change> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) => {
      const ref = secretRef(target);
      const desired = desiredSecret(target, robot);
      const apply = (): TE.TaskEither<SyncError, undefined> =>
        pipe(
          kube.patch(ref, { type: 'apply', force: true, body: secretApplyBody(desired) }),
          TE.map(() => undefined),
        );
      return pipe(
        existing !== undefined
          ? TE.right<SyncError, O.Option<Secret>>(existing)
          : getOptional(kube, Secret, ref),
        TE.flatMap((stored): TE.TaskEither<SyncError, Change> => {
          const plan = planSecret(stored, desired);
          switch (plan._tag) {
            case 'Unchanged':
              return TE.right('unchanged');
            case 'Apply':
              return pipe(apply(), TE.as<Change>(O.isNone(stored) ? 'created' : 'updated'));
            case 'Replace':
              return pipe(
                kube.delete(ref, { preconditions: { uid: plan.uid } }),
                TE.orElse((e) => (e._tag === 'KubeNotFound' ? TE.right(undefined) : TE.left(e))),
                TE.flatMap(apply),
                TE.as<Change>('updated'),
              );
          }
        }),
      );
    }),
    RTE.mapLeft(explainForbidden(target)),
  );

/** The Secret in the ServiceAccount's `secrets` and `imagePullSecrets`, under a resourceVersion lock. */
export const linkSecret = (target: RobotTarget): Effect<Change> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) =>
      updateWithRetry(
        kube,
        {
          type: Resources.ServiceAccount,
          namespace: target.serviceAccount.metadata.namespace,
          name: target.serviceAccount.metadata.name,
        },
        ServiceAccount,
        target.serviceAccount,
        (current) => planLinks(current, target.secretName),
      ),
    ),
    RTE.map((r): Change => (r === 'updated' ? 'updated' : 'unchanged')),
  );
