// The Kubernetes Events of the namespace step, on the Namespace (docs: `kubectl describe namespace`): the
// organization created or deleted, the finalizer released, a name Quay would refuse, a failure.
import * as E from 'fp-ts/lib/Either.js';
import type { SyncError } from '../../shared/errors.js';
import type { StepResult } from '../../shared/runtime/handler.js';
import { failureReport, normal, type Report } from '../../shared/runtime/report.js';
import { regardingNamespace } from '../../shared/sync/events.js';
import type { NamespacePlan } from '../../shared/sync/namespace-plan.js';

const actionOf = (plan: NamespacePlan): string => {
  switch (plan._tag) {
    case 'Provision':
      return 'CreateOrganization';
    case 'Finalize':
      return 'DeleteOrganization';
    case 'Release':
      return 'ReleaseFinalizer';
    case 'Ignore':
    case 'Refuse':
      return 'CheckName';
  }
};

export const namespaceReports =
  (plan: NamespacePlan) =>
  (result: E.Either<SyncError, StepResult>): readonly (Report | undefined)[] => {
    if (plan._tag === 'Ignore') return [];
    const regarding = plan.namespace === undefined ? undefined : regardingNamespace(plan.namespace);
    if (regarding === undefined) return [];
    if (E.isLeft(result))
      return [failureReport(regarding, actionOf(plan), result.left, 'OrganizationRefused')];
    const { outcome, reason } = result.right;
    switch (plan._tag) {
      case 'Provision':
        return outcome === 'created'
          ? [
              normal(
                regarding,
                'OrganizationCreated',
                'CreateOrganization',
                `Quay organization ${plan.org} created`,
              ),
            ]
          : [];
      case 'Finalize':
        return outcome === 'deleted'
          ? [normal(regarding, 'OrganizationDeleted', 'DeleteOrganization', reason ?? plan.org)]
          : [];
      case 'Release':
        return outcome === 'updated'
          ? [normal(regarding, 'FinalizerReleased', 'ReleaseFinalizer', reason ?? '')]
          : [];
      case 'Refuse':
        return [];
    }
  };
