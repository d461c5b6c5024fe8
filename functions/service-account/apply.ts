// The effects for one managed ServiceAccount, in an order that survives a crash between any two writes: the
// organization (with the namespace's finalizer first), the robot, its default permission, its explicit grants on
// existing repositories (only when the robot is new), the Secret, then the link from the ServiceAccount.
import * as O from 'fp-ts/lib/Option.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../../shared/errors.js';
import { getOptional, listDecoded } from '../../shared/kube/client.js';
import { ImageStream, Namespace, Secret, ServiceAccount } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import { updateWithRetry } from '../../shared/kube/update.js';
import type { Change, QuayClient, Robot } from '../../shared/quay/types.js';
import { withQuay, type WorkEnv } from '../../shared/runtime/work.js';
import { reconcileRepository } from '../image-stream/apply.js';
import { provision } from '../namespace/apply.js';
import {
  defaultPermissionNeedsFix,
  desiredSecret,
  emptyOrgView,
  orgViewOf,
  planLinks,
  planSecret,
  secretApplyBody,
  type OrgView,
  type RobotTarget,
} from './plan.js';

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
 * no default permissions: one call instead of three); otherwise it is read first.
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
    return finalizerNeeded
      ? pipe(
          provision(namespace, org, true),
          RTE.flatMap((change): Effect<Viewed> =>
            change === 'created' ? RTE.right({ view: emptyOrgView, org: change }) : read(change),
          ),
        )
      : read('unchanged');
  });

const robotDescription = (target: RobotTarget): string =>
  `quay-bridge: ServiceAccount ${target.serviceAccount.metadata.namespace}/${target.serviceAccount.metadata.name}`;

const ensureSecret = (target: RobotTarget, robot: Robot): Effect<Change> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) => {
      const ref = {
        type: Resources.Secret,
        namespace: target.serviceAccount.metadata.namespace,
        name: target.secretName,
      };
      const desired = desiredSecret(target, robot);
      const apply = (): TE.TaskEither<SyncError, undefined> =>
        pipe(
          kube.patch(ref, { type: 'apply', force: true, body: secretApplyBody(desired) }),
          TE.map(() => undefined),
        );
      return pipe(
        getOptional(kube, Secret, ref),
        TE.flatMap((existing): TE.TaskEither<SyncError, Change> => {
          const plan = planSecret(existing, desired);
          switch (plan._tag) {
            case 'Unchanged':
              return TE.right('unchanged');
            case 'Apply':
              return pipe(apply(), TE.as<Change>(O.isNone(existing) ? 'created' : 'updated'));
            case 'Replace':
              return pipe(
                kube.delete(ref, { preconditions: { uid: plan.uid } }),
                TE.orElse((e) => (e._tag === 'KubeNotFound' ? TE.right(undefined) : TE.left(e))),
                TE.flatMap(apply),
                TE.as<Change>('updated'),
              );
          }
        }),
      );
    }),
  );

const linkSecret = (target: RobotTarget): Effect<Change> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) =>
      updateWithRetry(
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
    RTE.map((r): Change => (r === 'updated' ? 'updated' : 'unchanged')),
  );

/** A new robot has no rights on repositories that already exist: grant them explicitly (QBO #109). */
const grantExisting = (target: RobotTarget, robots: ReadonlySet<string>): Effect<readonly Change[]> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) =>
      listDecoded(kube, ImageStream, Resources.ImageStream, {
        namespace: target.serviceAccount.metadata.namespace,
      }),
    ),
    RTE.flatMap((streams) =>
      pipe(
        streams.filter((s) => s.metadata.deletionTimestamp === undefined),
        RA.traverse(RTE.ApplicativeSeq)((s) =>
          reconcileRepository(
            {
              namespace: target.namespace,
              org: target.org,
              repo: s.metadata.name,
              grants: [{ robotName: target.robotName, role: target.role }],
              finalizerNeeded: false,
            },
            robots,
          ),
        ),
      ),
    ),
  );

export interface RobotResult {
  readonly robot: Robot;
  readonly changes: Readonly<Record<'robot' | 'defaultPermission' | 'secret' | 'link', Change>> & {
    readonly repositories: number;
  };
}

/** The robot with its token: the one the view holds, else ensured (created, or fetched if it exists). */
export const robotOf = (
  target: RobotTarget,
  view: OrgView,
): Effect<{ readonly robot: Robot; readonly change: Change }> =>
  withQuay((quay) => {
    const known = view.robots.get(target.robotName);
    return known !== undefined
      ? RTE.right({ robot: known, change: 'unchanged' })
      : lift(quay.ensureRobot(target.org, target.shortname, robotDescription(target)));
  });

/**
 * What follows the robot and its default permission: a new robot's grants on existing repositories (when
 * `grantRepositories`; the resync does that per ImageStream instead), the Secret, the link.
 */
export const finishRobot = (
  target: RobotTarget,
  ensured: { readonly robot: Robot; readonly change: Change },
  defaultPermission: Change,
  view: OrgView,
  grantRepositories: boolean,
): Effect<RobotResult> =>
  pipe(
    RTE.Do,
    RTE.bind('repositories', () =>
      grantRepositories && ensured.change === 'created'
        ? grantExisting(target, new Set([...view.robots.keys(), target.robotName]))
        : RTE.right<WorkEnv, SyncError, readonly Change[]>([]),
    ),
    RTE.bind('secret', () => ensureSecret(target, ensured.robot)),
    RTE.bind('link', () => linkSecret(target)),
    RTE.map(({ repositories, secret, link }) => ({
      robot: ensured.robot,
      changes: {
        robot: ensured.change,
        defaultPermission,
        secret,
        link,
        repositories: repositories.filter((c) => c !== 'unchanged').length,
      },
    })),
  );

/** Everything one ServiceAccount needs, given the organization's view. */
export const reconcileRobot = (
  target: RobotTarget,
  view: OrgView,
  grantRepositories: boolean,
): Effect<RobotResult> =>
  withQuay((quay) =>
    pipe(
      robotOf(target, view),
      RTE.flatMap((ensured) =>
        pipe(
          defaultPermissionNeedsFix(view.prototypes, target.robotName, target.role)
            ? lift(quay.ensureDefaultPermission(target.org, target.robotName, target.role, view.prototypes))
            : RTE.right<WorkEnv, SyncError, Change>('unchanged'),
          RTE.flatMap((defaultPermission) =>
            finishRobot(target, ensured, defaultPermission, view, grantRepositories),
          ),
        ),
      ),
    ),
  );
