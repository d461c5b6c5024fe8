// The Kubernetes Events of the service-account step, on the ServiceAccount (and on its Namespace when this step made
// the organization): what its robot's sequence changed (shared/sync/events.ts robotReports), or a refusal.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import type { SyncError } from '../../shared/errors.js';
import type { ServiceAccount } from '../../shared/kube/objects.js';
import { failureReport, normal, regardingOf, type Report } from '../../shared/runtime/report.js';
import { regardingNamespace, regardingServiceAccount, robotReports } from '../../shared/sync/events.js';
import type { RobotTarget } from '../../shared/sync/robot-plan.js';
import type { RobotResult } from '../../shared/sync/robot.js';

export const serviceAccountReports =
  (target: RobotTarget) =>
  (result: E.Either<SyncError, RobotResult>): readonly (Report | undefined)[] => {
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
