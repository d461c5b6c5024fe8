// The effects of an ImageStream plan: read the repository's permissions (one call when nothing is to do), create
// the repository if that read says it is missing, and grant each managed robot that exists its role.
import * as O from 'fp-ts/lib/Option.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../../shared/errors.js';
import type { RobotRole } from '../../shared/names.js';
import type { Change, QuayClient, QuayError } from '../../shared/quay/types.js';
import type { StepResult } from '../../shared/runtime/handler.js';
import { strongest, withQuay, type WorkEnv } from '../../shared/runtime/work.js';
import { provision, refusalOrMissing } from '../namespace/apply.js';
import { missingGrants, type ImageStreamPlan, type RepositoryTarget } from './plan.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

/** Quay answers 404 (org admin) or 403 (namespace not visible, e.g. missing) for a repository that is not there. */
const absent = (e: QuayError): boolean => e._tag === 'QuayRejected' && (e.status === 404 || e.status === 403);

/**
 * The repository's direct permissions, or none when it does not exist. An organization admin may list the
 * permissions of a repository that does not exist and gets 200 with an empty map (Quay checks the org-wide admin
 * role, not the repository), and an existing repository always has at least its creator's admin grant: so an empty
 * answer is confirmed with a GET. The common case, an existing repository, stays one call.
 */
const permissionsOf = (
  quay: QuayClient,
  org: string,
  repo: string,
): TE.TaskEither<SyncError, O.Option<ReadonlyMap<string, RobotRole>>> =>
  pipe(
    quay.listRepositoryPermissions(org, repo),
    TE.flatMap((permissions): TE.TaskEither<QuayError, O.Option<ReadonlyMap<string, RobotRole>>> =>
      permissions.size > 0
        ? TE.right(O.some(permissions))
        : pipe(quay.getRepository(org, repo), TE.map(O.map(() => permissions))),
    ),
    TE.orElse((e) => (absent(e) ? TE.right(O.none) : TE.left(e))),
  );

const createRepository = (target: RepositoryTarget, quay: QuayClient): Effect<Change> => {
  const create = RTE.fromTaskEither<SyncError, Change, WorkEnv>(
    quay.ensureRepository(target.org, target.repo, ''),
  );
  return pipe(
    target.finalizerNeeded
      ? provision(target.namespace, target.org, true)
      : RTE.right<WorkEnv, SyncError, Change>('unchanged'),
    RTE.flatMap(() => create),
    // 403: the organization does not exist yet (this event came before the namespace's): make it, then retry.
    RTE.orElse((e) =>
      e._tag === 'QuayRejected' && e.status === 403
        ? pipe(
            provision(target.namespace, target.org, false),
            RTE.flatMap(() => create),
          )
        : RTE.left(e),
    ),
  );
};

/**
 * The repository with its grants. `robots`: the robots known to exist (the resync's view); when undefined and a
 * grant is missing, they are listed (one call).
 */
export const reconcileRepository = (
  target: RepositoryTarget,
  robots: ReadonlySet<string> | undefined,
): Effect<Change> =>
  withQuay((quay) =>
    pipe(
      RTE.fromTaskEither<SyncError, O.Option<ReadonlyMap<string, RobotRole>>, WorkEnv>(
        permissionsOf(quay, target.org, target.repo),
      ),
      RTE.flatMap(
        (found): Effect<{ readonly repo: Change; readonly permissions: ReadonlyMap<string, RobotRole> }> =>
          O.isSome(found)
            ? RTE.right({ repo: 'unchanged', permissions: found.value })
            : pipe(
                createRepository(target, quay),
                // Quay applies the organization's default permissions to a repository the token's user creates;
                // reading them back tells which explicit grants are still needed.
                RTE.flatMap((repo) =>
                  pipe(
                    RTE.fromTaskEither<SyncError, O.Option<ReadonlyMap<string, RobotRole>>, WorkEnv>(
                      permissionsOf(quay, target.org, target.repo),
                    ),
                    RTE.map((p) => ({
                      repo,
                      permissions: O.getOrElse((): ReadonlyMap<string, RobotRole> => new Map())(p),
                    })),
                  ),
                ),
              ),
      ),
      RTE.flatMap(({ repo, permissions }) => {
        const missing = missingGrants(permissions, target.grants);
        if (missing.length === 0) return RTE.right<WorkEnv, SyncError, Change>(repo);
        return pipe(
          robots !== undefined
            ? RTE.right<WorkEnv, SyncError, ReadonlySet<string>>(robots)
            : RTE.fromTaskEither<SyncError, ReadonlySet<string>, WorkEnv>(
                pipe(
                  quay.listRobots(target.org),
                  TE.map(
                    (list): ReadonlySet<string> =>
                      new Set(O.isSome(list) ? list.value.map((r) => r.name) : []),
                  ),
                ),
              ),
          RTE.flatMap((existing) =>
            pipe(
              missing.filter((g) => existing.has(g.robotName)),
              RA.traverse(RTE.ApplicativeSeq)((g) =>
                RTE.fromTaskEither<SyncError, Change, WorkEnv>(
                  quay.setRepositoryPermission(target.org, target.repo, g.robotName, g.role),
                ),
              ),
            ),
          ),
          RTE.map((grants): Change =>
            repo === 'created' ? 'created' : grants.length > 0 ? 'updated' : repo,
          ),
        );
      }),
    ),
  );

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
      return pipe(
        withQuay((quay) => RTE.fromTaskEither(quay.deleteRepository(plan.org, plan.repo))),
        RTE.map(() => ({ outcome: 'deleted' as const, reason: `repository ${plan.org}/${plan.repo}` })),
      );
  }
};
