// The Kubernetes Events of the image-stream step, on the ImageStream: repository created, robots granted, repository
// deleted (with deleteRepositoriesWithImageStreams), a name Quay would refuse, a failure.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import type { SyncError } from '../../shared/errors.js';
import type { ImageStream } from '../../shared/kube/objects.js';
import type { StepResult } from '../../shared/runtime/handler.js';
import { failureReport, normal, regardingOf, type Report } from '../../shared/runtime/report.js';
import type { ImageStreamPlan } from './plan.js';

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
