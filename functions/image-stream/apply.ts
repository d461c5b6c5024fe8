// The effects of an ImageStream plan: the repository with its grants (shared/sync/repository.ts), or its deletion
// once its ImageStream is gone, when it carries this cluster's mark.
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../../shared/errors.js';
import type { Change, Repository } from '../../shared/quay/types.js';
import type { StepResult } from '../../shared/runtime/handler.js';
import { strongest, withOwner, type WorkEnv } from '../../shared/runtime/work.js';
import { refusalOrMissing } from '../../shared/sync/organization.js';
import type { ImageStreamPlan } from '../../shared/sync/repository-plan.js';
import { reconcileRepository } from '../../shared/sync/repository.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

export const applyImageStreamPlan = (plan: ImageStreamPlan): Effect<StepResult> => {
  switch (plan._tag) {
    case 'Ignore':
      return RTE.right({ outcome: 'ignored', reason: plan.reason });
    case 'Refuse':
      return RTE.left({ _tag: 'InvalidName', message: plan.message });
    case 'Ensure':
      return pipe(
        reconcileRepository(plan.target, undefined),
        // The organization may go (its namespace deleted) between any two calls.
        RTE.orElse(refusalOrMissing<Change>(plan.target.org)),
        RTE.map((change) => ({
          outcome: strongest([change]),
          reason: `repository ${plan.target.org}/${plan.target.repo}`,
        })),
      );
    case 'DeleteRepository':
      return withOwner((owner, quay) =>
        pipe(
          RTE.fromTaskEither<SyncError, O.Option<Repository>, WorkEnv>(
            quay.getRepository(plan.org, plan.repo),
          ),
          RTE.flatMap((found): Effect<StepResult> => {
            const what = `repository ${plan.org}/${plan.repo}`;
            if (O.isNone(found)) return RTE.right({ outcome: 'unchanged', reason: `${what} already gone` });
            if (!owner.judge.repository(owner.identity, found.value.description ?? ''))
              return RTE.right({
                outcome: 'ignored',
                reason: `${what} kept: its ImageStream is gone, but this cluster's bridge did not make it (no mark in its description)`,
              });
            return pipe(
              RTE.fromTaskEither<SyncError, Change, WorkEnv>(quay.deleteRepository(plan.org, plan.repo)),
              RTE.as<StepResult>({ outcome: 'deleted', reason: `${what}: its ImageStream is gone` }),
            );
          }),
        ),
      );
  }
};
