// The Kubernetes half of a robot: its Secret (server-side apply, docs/qbo-compatibility.md#b10; a Secret of another type is replaced) and the
// link from its ServiceAccount (a resourceVersion-locked merge patch that keeps everyone else's entries).
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../errors.js';
import { getOptional, type KubeClient } from '../kube/client.js';
import type { KubeError } from '../kube/errors.js';
import { Secret, ServiceAccount } from '../kube/objects.js';
import { Resources, type ObjectRef } from '../kube/resources.js';
import { updateWithRetryAt } from '../kube/update.js';
import type { Change, Robot } from '../quay/types.js';
import type { OwnEchoes } from '../runtime/own-echoes.js';
import type { WorkEnv } from '../runtime/work.js';
import {
  desiredSecret,
  planLinks,
  planSecret,
  secretApplyBody,
  secretEchoOf,
  type RobotTarget,
} from './robot-plan.js';

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

/** A robot Secret read ahead, beside the event's other reads, under the name the last settings gave it. */
export interface KnownSecret {
  readonly namespace: string;
  readonly name: string;
  readonly read: E.Either<KubeError, O.Option<Secret>>;
}

/** Reads a Secret for KnownSecret; never fails (its failure counts only if the read is used). */
export const readAhead = (kube: KubeClient, namespace: string, name: string): T.Task<KnownSecret> =>
  pipe(
    getOptional(kube, Secret, { type: Resources.Secret, namespace, name }, { asOfEvent: true }),
    T.map((read) => ({ namespace, name, read })),
  );

/** The robot Secret as stored now (or as read ahead under its name); none when there is none. */
export const readSecret = (target: RobotTarget, known?: KnownSecret): Effect<O.Option<Secret>> =>
  pipe(
    known !== undefined &&
      known.namespace === target.serviceAccount.metadata.namespace &&
      known.name === target.secretName
      ? RTE.fromEither<KubeError, O.Option<Secret>, WorkEnv>(known.read)
      : pipe(
          RTE.asks((env: WorkEnv) => env.kube),
          RTE.flatMapTaskEither((kube) => getOptional(kube, Secret, secretRef(target))),
        ),
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
    RTE.ask<WorkEnv>(),
    RTE.flatMapTaskEither(({ kube, echoes }) => {
      const ref = secretRef(target);
      const desired = desiredSecret(target, robot);
      // The event the write causes is expected (docs/design.md#own-echoes) when a step's memory is at hand.
      const apply = (stored: O.Option<Secret>): TE.TaskEither<SyncError, undefined> =>
        expecting(
          echoes,
          `${ref.namespace ?? ''}/${ref.name}`,
          secretEchoOf(stored),
          pipe(
            kube.patch(ref, { type: 'apply', force: true, body: secretApplyBody(desired) }),
            TE.map(() => undefined),
          ),
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
              return pipe(apply(stored), TE.as<Change>(O.isNone(stored) ? 'created' : 'updated'));
            case 'Replace':
              return pipe(
                kube.delete(ref, { preconditions: { uid: plan.uid } }),
                TE.orElse((e) => (e._tag === 'KubeNotFound' ? TE.right(undefined) : TE.left(e))),
                TE.flatMap(() => apply(O.none)),
                TE.as<Change>('updated'),
              );
          }
        }),
      );
    }),
    RTE.mapLeft(explainForbidden(target)),
  );

/**
 * A write whose event the robot-secrets source will send (docs/design.md#own-echoes): the echo is expected before
 * the write is sent, so that an event quicker than the write's answer is still known; a write that failed takes its
 * expectation back (one that went through all the same is then processed like any event).
 */
const expecting = <A>(
  echoes: OwnEchoes | undefined,
  key: string,
  action: 'add' | 'update',
  write: TE.TaskEither<SyncError, A>,
): TE.TaskEither<SyncError, A> =>
  echoes === undefined
    ? write
    : pipe(
        TE.fromIO(() => echoes.expect(key, action)),
        TE.flatMap((takeBack) =>
          pipe(
            write,
            TE.tapError(() => TE.fromIO(takeBack)),
          ),
        ),
      );

/** What the link left: its change, and the ServiceAccount's resourceVersion after it (undefined when it is gone). */
export interface Link {
  readonly change: Change;
  readonly resourceVersion: string | undefined;
}

/** The Secret in the ServiceAccount's `secrets` and `imagePullSecrets`, under a resourceVersion lock. */
export const linkSecret = (target: RobotTarget): Effect<Link> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) =>
      updateWithRetryAt(
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
    RTE.map((r): Link => ({
      change: r.result === 'updated' ? 'updated' : 'unchanged',
      resourceVersion: r.resourceVersion,
    })),
  );
