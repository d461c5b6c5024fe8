// A repository with its robots' grants, for the image-stream step, a new robot's grants (the service-account step)
// and the resync: read the repository's permissions (one call when nothing is to do), create the repository if that
// read says it is missing, and grant each managed robot that exists its role.
import * as O from 'fp-ts/lib/Option.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../errors.js';
import type { RobotRole } from '../names.js';
import { markedDescription } from '../ownership.js';
import type { Change, QuayClient, QuayError, Robot } from '../quay/types.js';
import { withOwner, withQuay, type WorkEnv } from '../runtime/work.js';
import { setFinalizers } from './namespace-apply.js';
import { claimOrganization, inOrganization } from './organization.js';
import { missingGrants, type RepositoryTarget } from './repository-plan.js';

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

/**
 * The repository, private, its description carrying this cluster's mark (what later proves that the bridge made it
 * for this ImageStream). `proven`: the caller proved the organization this cluster's; else it is claimed first.
 */
const createRepository = (target: RepositoryTarget, quay: QuayClient, proven: boolean): Effect<Change> => {
  const ns = target.namespace.metadata.name;
  const create = withOwner((owner) =>
    RTE.fromTaskEither<SyncError, Change, WorkEnv>(
      quay.ensureRepository(
        target.org,
        target.repo,
        markedDescription(owner.identity, `ImageStream ${ns}/${target.repo}`),
      ),
    ),
  );
  return pipe(
    target.finalizerNeeded
      ? pipe(setFinalizers(target.namespace, 'provision'), RTE.as<Change>('unchanged'))
      : RTE.right<WorkEnv, SyncError, Change>('unchanged'),
    RTE.flatMap(() =>
      proven
        ? RTE.right<WorkEnv, SyncError, Change>('unchanged')
        : claimOrganization(target.namespace, target.org),
    ),
    // A 403: the organization went meanwhile (or this event came before the namespace's).
    RTE.flatMap(() => inOrganization(target.namespace, target.org, create)),
    RTE.map(({ value }) => value),
  );
};

/**
 * The repository with its grants. `robots`: the robots known to exist, in an organization the caller proved this
 * cluster's (the resync's view, a new robot's grants); when undefined, what would change the organization (a new
 * repository, a missing grant) waits for its proof: the robots listed for a missing grant carry it, else one GET.
 * An unchanged repository changes nothing and costs one call.
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
        (
          found,
        ): Effect<{
          readonly repo: Change;
          readonly permissions: ReadonlyMap<string, RobotRole>;
          /** The organization was proven this cluster's on the way (to create the repository). */
          readonly claimed: boolean;
        }> =>
          O.isSome(found)
            ? RTE.right({ repo: 'unchanged', permissions: found.value, claimed: false })
            : pipe(
                createRepository(target, quay, robots !== undefined),
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
                      claimed: true,
                    })),
                  ),
                ),
              ),
      ),
      RTE.flatMap(({ repo, permissions, claimed }) => {
        const missing = missingGrants(permissions, target.grants);
        if (missing.length === 0) return RTE.right<WorkEnv, SyncError, Change>(repo);
        return pipe(
          robots !== undefined
            ? RTE.right<WorkEnv, SyncError, ReadonlySet<string>>(robots)
            : pipe(
                RTE.fromTaskEither<SyncError, O.Option<readonly Robot[]>, WorkEnv>(
                  quay.listRobots(target.org),
                ),
                RTE.flatMap((list) => {
                  const found = O.getOrElse((): readonly Robot[] => [])(list);
                  return pipe(
                    claimed
                      ? RTE.right<WorkEnv, SyncError, Change>('unchanged')
                      : claimOrganization(
                          target.namespace,
                          target.org,
                          found.map((r) => r.description),
                        ),
                    RTE.as<ReadonlySet<string>>(new Set(found.map((r) => r.name))),
                  );
                }),
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
