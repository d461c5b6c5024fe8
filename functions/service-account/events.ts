// The Kubernetes Events of the service-account step, on the ServiceAccount (and on its Namespace when this step made
// the organization): robot created or re-created, default permission repaired, Secret written, Secret linked.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import type { SyncError } from '../../shared/errors.js';
import type { ServiceAccount } from '../../shared/kube/objects.js';
import { failureReport, normal, regardingOf, type Report } from '../../shared/runtime/report.js';
import { regardingNamespace } from '../namespace/events.js';
import type { ServiceAccountResult } from './apply.js';
import type { RobotTarget } from './plan.js';

export const regardingServiceAccount = (target: RobotTarget) =>
  regardingOf('v1', 'ServiceAccount', target.serviceAccount.metadata);

/** What one reconciled robot reports (also used where no organization was made: `org` unchanged). */
export const robotReports = (
  target: RobotTarget,
  r: Pick<ServiceAccountResult, 'changes'>,
): readonly Report[] => {
  const sa = regardingServiceAccount(target);
  const { robot, defaultPermission, secret, link, repositories } = r.changes;
  const grants = repositories > 0 ? `, granted ${target.role} on ${repositories} existing repositories` : '';
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

export const serviceAccountReports =
  (target: RobotTarget) =>
  (result: E.Either<SyncError, ServiceAccountResult>): readonly (Report | undefined)[] => {
    if (E.isLeft(result))
      return [failureReport(regardingServiceAccount(target), 'ReconcileRobot', result.left, 'RobotRefused')];
    return [
      ...(result.right.namespace === 'created'
        ? [
            normal(
              regardingNamespace(target.namespace),
              'OrganizationCreated',
              'CreateOrganization',
              `Quay organization ${target.org} created`,
            ),
          ]
        : []),
      ...robotReports(target, result.right),
    ];
  };

/** A ServiceAccount whose robot name Quay would refuse. */
export const refusalReports =
  (namespace: string, name: string, sa: O.Option<ServiceAccount>) =>
  (result: E.Either<SyncError, unknown>): readonly (Report | undefined)[] =>
    E.isLeft(result)
      ? [
          failureReport(
            regardingOf('v1', 'ServiceAccount', O.isSome(sa) ? sa.value.metadata : { name, namespace }),
            'CreateRobot',
            result.left,
            'RobotRefused',
          ),
        ]
      : [];
