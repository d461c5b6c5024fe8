// The Kubernetes Events that more than one step records (the resync reports what it repaired with the same words as
// the step that would have done it): on the Namespace (an organization not ours), the ServiceAccount (its robot,
// default permission, Secret and link) and the ImageStream (its repository and grants).
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { NotOurs, SyncError } from '../errors.js';
import type { EventsEnv } from '../kube/events.js';
import type { ImageStream, Namespace } from '../kube/objects.js';
import type { StepEnv } from '../runtime/env.js';
import type { StepResult } from '../runtime/handler.js';
import { failureReport, normal, regardingOf, type Report } from '../runtime/report.js';
import type { ImageStreamPlan } from './repository-plan.js';
import type { RobotResult } from './robot.js';
import type { RobotTarget } from './robot-plan.js';

export const regardingNamespace = (ns: Namespace | { readonly metadata: { readonly name: string } }) =>
  regardingOf('v1', 'Namespace', ns.metadata);

/**
 * A NotOurs error, reported where `kubectl describe namespace` shows it: a Warning Event on the Namespace. The
 * error itself goes on to the answer (dead-lettered) and, in the resync, to the QuayIntegration's conditions.
 */
export const reportingNotOurs = <A>(
  effect: RTE.ReaderTaskEither<StepEnv, SyncError, A>,
): RTE.ReaderTaskEither<StepEnv, SyncError, A> =>
  pipe(
    effect,
    RTE.tapError(
      (e) => (env: StepEnv) =>
        e._tag === 'NotOurs' ? TE.fromTask(recordNotOurs(env, e)) : TE.right<SyncError, undefined>(undefined),
    ),
  );

export const recordNotOurs = (env: EventsEnv, e: NotOurs): T.Task<undefined> =>
  pipe(
    env.events.record(
      { apiVersion: 'v1', kind: 'Namespace', name: e.namespace },
      { type: 'Warning', reason: 'OrganizationNotOurs', action: 'UseOrganization', note: e.message },
    ),
    T.map(() => undefined),
  );

export const regardingServiceAccount = (target: RobotTarget) =>
  regardingOf('v1', 'ServiceAccount', target.serviceAccount.metadata);

/**
 * What one reconciled robot reports (also used where no organization was made: `org` unchanged). A ServiceAccount
 * provisioned at once (robot and Secret created) gets one Event saying all of it: every Event is a write to etcd,
 * and a new namespace would otherwise cost three per ServiceAccount.
 */
export const robotReports = (target: RobotTarget, r: Pick<RobotResult, 'changes'>): readonly Report[] => {
  const sa = regardingServiceAccount(target);
  const { robot, defaultPermission, secret, link, repositories } = r.changes;
  const grants = repositories > 0 ? `, granted ${target.role} on ${repositories} existing repositories` : '';
  if (robot === 'created' && secret === 'created')
    return [
      normal(
        sa,
        'RobotCreated',
        'CreateRobot',
        `Quay robot ${target.robotName} created${grants}; its credentials in Secret ${target.secretName}` +
          (link === 'unchanged' ? '' : ', linked as a pull and push secret'),
      ),
    ];
  return [
    ...(robot === 'created'
      ? [
          secret === 'created'
            ? normal(sa, 'RobotCreated', 'CreateRobot', `Quay robot ${target.robotName} created${grants}`)
            : normal(
                sa,
                'RobotRecreated',
                'CreateRobot',
                `Quay robot ${target.robotName} was missing and is created again${grants}`,
              ),
        ]
      : []),
    ...(robot !== 'created' && defaultPermission !== 'unchanged'
      ? [
          normal(
            sa,
            'DefaultPermissionRepaired',
            'SetDefaultPermission',
            `default permission of ${target.robotName} in ${target.org} set to ${target.role}`,
          ),
        ]
      : []),
    ...(secret !== 'unchanged'
      ? [
          normal(
            sa,
            'SecretWritten',
            'WriteSecret',
            `Secret ${target.secretName} ${secret === 'created' ? 'created' : 'rewritten'} with robot ${target.robotName}'s credentials`,
          ),
        ]
      : []),
    ...(link !== 'unchanged'
      ? [
          normal(
            sa,
            'SecretLinked',
            'LinkSecret',
            `Secret ${target.secretName} linked as a pull and push secret`,
          ),
        ]
      : []),
  ];
};

export const imageStreamReports =
  (plan: ImageStreamPlan, namespace: string, name: string, current: O.Option<ImageStream>) =>
  (result: E.Either<SyncError, StepResult>): readonly (Report | undefined)[] => {
    if (plan._tag === 'Ignore') return [];
    const regarding = regardingOf(
      'image.openshift.io/v1',
      'ImageStream',
      O.isSome(current) ? current.value.metadata : { name, namespace },
    );
    if (E.isLeft(result))
      return [failureReport(regarding, 'EnsureRepository', result.left, 'RepositoryRefused')];
    const outcome = result.right.outcome;
    switch (plan._tag) {
      case 'Ensure': {
        const repo = `${plan.target.org}/${plan.target.repo}`;
        const robots = plan.target.grants.map((g) => `${g.robotName} (${g.role})`).join(', ');
        if (outcome === 'created')
          return [
            normal(
              regarding,
              'RepositoryCreated',
              'CreateRepository',
              `private Quay repository ${repo} created; robots granted: ${robots}`,
            ),
          ];
        if (outcome === 'updated')
          return [
            normal(regarding, 'RepositoryGranted', 'GrantRepository', `robots granted on ${repo}: ${robots}`),
          ];
        return [];
      }
      case 'DeleteRepository':
        return [
          normal(
            regarding,
            'RepositoryDeleted',
            'DeleteRepository',
            `Quay repository ${plan.org}/${plan.repo} deleted with its ImageStream`,
          ),
        ];
      case 'Refuse':
        return [];
    }
  };
