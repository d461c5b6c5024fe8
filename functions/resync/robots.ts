// The resync's robots of one namespace: the organization's view read once (robots with their tokens and the
// default permissions: two calls) and shared by its ServiceAccounts; the robots ensured, then every default
// permission of the namespace at once (one list, one re-read after adds), then each robot's Secret and link. Each
// ServiceAccount still gets robot → default permission → Secret → link, in that order.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import type * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../../shared/errors.js';
import type { Namespace } from '../../shared/kube/objects.js';
import type { Change, QuayClient } from '../../shared/quay/types.js';
import { withOwner, withQuay, type WorkEnv } from '../../shared/runtime/work.js';
import { provision } from '../namespace/apply.js';
import { claimOrganization } from '../namespace/ownership.js';
import {
  finishRobot,
  robotDescription,
  type EnsuredRobot,
  type RobotResult,
} from '../service-account/apply.js';
import {
  defaultPermissionNeedsFix,
  emptyOrgView,
  orgViewOf,
  type OrgView,
  type RobotTarget,
} from '../service-account/plan.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

const lift = <A>(te: TE.TaskEither<SyncError, A>): Effect<A> => RTE.fromTaskEither(te);

/** Robots (with tokens) and default permissions: two calls; none when the organization does not exist. */
export const readOrgView = (quay: QuayClient, org: string): TE.TaskEither<SyncError, O.Option<OrgView>> =>
  pipe(
    quay.listRobots(org),
    TE.flatMap((robots) =>
      O.isNone(robots)
        ? TE.right(O.none)
        : pipe(
            quay.listDefaultPermissions(org),
            TE.map((prototypes) => O.some(orgViewOf(robots.value, prototypes))),
          ),
    ),
  );

/**
 * The organization's view, creating the organization when it is missing. A namespace that still lacks our
 * finalizer is most likely new, so its organization is created straight away (a new organization has no robots and
 * no default permissions: one call instead of three); otherwise it is read first. An organization this pass did not
 * create is proven this cluster's before it is used: by its robots' mark (no call), else by its e-mail (one call;
 * adopted when the QuayIntegration says so), else NotOurs.
 */
export const orgViewFor = (
  namespace: Namespace,
  org: string,
  finalizerNeeded: boolean,
): Effect<{ readonly view: OrgView; readonly org: Change }> =>
  withQuay((quay) => {
    type Viewed = { readonly view: OrgView; readonly org: Change };
    const read = (orgChange: Change): Effect<Viewed> =>
      pipe(
        lift(readOrgView(quay, org)),
        RTE.flatMap((view): Effect<Viewed> =>
          O.isSome(view)
            ? RTE.right({ view: view.value, org: orgChange })
            : pipe(
                provision(namespace, org, false),
                RTE.flatMap((created): Effect<Viewed> =>
                  created === 'created'
                    ? RTE.right({ view: emptyOrgView, org: created })
                    : pipe(
                        lift(readOrgView(quay, org)),
                        RTE.map((again) => ({ view: O.getOrElse(() => emptyOrgView)(again), org: created })),
                      ),
                ),
              ),
        ),
      );
    const claimed = (v: Viewed): Effect<Viewed> =>
      v.org === 'created'
        ? RTE.right(v)
        : pipe(
            claimOrganization(
              namespace,
              org,
              [...v.view.robots.values()].map((r) => r.description),
            ),
            RTE.map((c): Viewed => (c === 'unchanged' ? v : { ...v, org: c === 'created' ? c : 'updated' })),
          );
    return pipe(
      finalizerNeeded
        ? pipe(
            provision(namespace, org, true),
            RTE.flatMap((change): Effect<Viewed> =>
              change === 'created' ? RTE.right({ view: emptyOrgView, org: change }) : read(change),
            ),
          )
        : read('unchanged'),
      RTE.flatMap(claimed),
    );
  });

/** The robot with its token: the one the view holds, else ensured (created, or fetched if it exists). */
export const robotOf = (target: RobotTarget, view: OrgView): Effect<EnsuredRobot> =>
  withOwner((owner, quay) => {
    const known = view.robots.get(target.robotName);
    return known !== undefined
      ? RTE.right({ robot: known, change: 'unchanged' })
      : lift(quay.ensureRobot(target.org, target.shortname, robotDescription(owner.identity, target)));
  });

/** Every robot of the namespace with its default permission, Secret and link; one result per target, in order. */
export const reconcileRobots =
  (
    env: WorkEnv,
    org: string,
    view: OrgView,
    targets: readonly RobotTarget[],
  ): T.Task<readonly { readonly target: RobotTarget; readonly result: E.Either<SyncError, RobotResult> }[]> =>
  async () => {
    const ensured: { readonly target: RobotTarget; readonly robot: E.Either<SyncError, EnsuredRobot> }[] = [];
    for (const target of targets) ensured.push({ target, robot: await robotOf(target, view)(env)() });
    const wanted = ensured.filter(
      (e) =>
        E.isRight(e.robot) && defaultPermissionNeedsFix(view.prototypes, e.target.robotName, e.target.role),
    );
    const permissions =
      wanted.length === 0
        ? E.right<SyncError, readonly Change[]>([])
        : await withQuay((quay) =>
            lift(
              quay.ensureDefaultPermissions(
                org,
                wanted.map((e) => ({
                  robotName: e.target.robotName,
                  role: e.target.role,
                  robotCreated: E.isRight(e.robot) && e.robot.right.change === 'created',
                })),
                view.prototypes,
              ),
            ),
          )(env)();
    const robots = new Set(view.robots.keys());
    const results: { readonly target: RobotTarget; readonly result: E.Either<SyncError, RobotResult> }[] = [];
    for (const e of ensured) {
      const i = wanted.indexOf(e);
      const permission =
        i < 0
          ? E.right<SyncError, Change>('unchanged')
          : pipe(
              permissions,
              E.map((cs) => cs[i] ?? 'unchanged'),
            );
      const result: E.Either<SyncError, RobotResult> = E.isLeft(e.robot)
        ? e.robot
        : E.isLeft(permission)
          ? permission
          : await finishRobot(e.target, e.robot.right, permission.right, robots, false)(env)();
      if (E.isRight(result)) robots.add(result.right.robot.name);
      results.push({ target: e.target, result });
    }
    return results;
  };
