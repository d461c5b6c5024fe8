// The Quay half of one managed ServiceAccount, in an order that survives a crash between any two writes: the
// namespace's finalizer (before anything in Quay), the robot (the organization only when Quay says it is missing),
// its default permission, its explicit grants on existing repositories (when the robot is new to them), then the
// Secret and the link (secret.ts). The resync's version, sharing one view of the organization, is resync/robots.ts.
import * as O from 'fp-ts/lib/Option.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../../shared/errors.js';
import { listServed } from '../../shared/kube/client.js';
import { ImageStream, Namespace, type Secret } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import type { Change, Robot } from '../../shared/quay/types.js';
import { markedDescription, type ClusterIdentity } from '../../shared/ownership.js';
import { withOwner, withQuay, type WorkEnv } from '../../shared/runtime/work.js';
import { reconcileRepository } from '../image-stream/apply.js';
import { refusalOrMissing, setFinalizers } from '../namespace/apply.js';
import { claimOrganization } from '../namespace/ownership.js';
import { defaultPermissionNeedsFix, ensuredInCluster, type RobotTarget } from './plan.js';
import { ensureSecret, linkSecret, readSecret } from './secret.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

const lift = <A>(te: TE.TaskEither<SyncError, A>): Effect<A> => RTE.fromTaskEither(te);

/** This cluster's mark, and what the robot is for (shared/ownership.ts). */
export const robotDescription = (identity: ClusterIdentity, target: RobotTarget): string =>
  markedDescription(
    identity,
    `ServiceAccount ${target.serviceAccount.metadata.namespace}/${target.serviceAccount.metadata.name}`,
  );

/**
 * A new robot has no rights on repositories that already exist: grant them explicitly (QBO #109). A cluster that
 * does not serve ImageStreams (plain Kubernetes) has none to grant.
 */
const grantExisting = (target: RobotTarget, robots: ReadonlySet<string>): Effect<readonly Change[]> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) =>
      // Names only: tenants decide how large an ImageStream is (kube/client.ts ListOptions.metadataOnly).
      listServed(kube, ImageStream, Resources.ImageStream, {
        namespace: target.serviceAccount.metadata.namespace,
        metadataOnly: true,
      }),
    ),
    RTE.flatMap((streams) =>
      pipe(
        O.getOrElse((): readonly ImageStream[] => [])(streams).filter(
          (s) => s.metadata.deletionTimestamp === undefined,
        ),
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

export interface EnsuredRobot {
  readonly robot: Robot;
  readonly change: Change;
}

export interface RobotResult {
  readonly robot: Robot;
  readonly changes: Readonly<Record<'robot' | 'defaultPermission' | 'secret' | 'link', Change>> & {
    readonly repositories: number;
  };
}

/**
 * What follows the robot and its default permission: the robot's grants on the namespace's existing repositories
 * when `grantRepositories` (the resync does that per ImageStream instead; `robots`: the robots known to exist), the
 * Secret (`secret`: as read at the start, if it was), the link.
 */
export const finishRobot = (
  target: RobotTarget,
  ensured: EnsuredRobot,
  defaultPermission: Change,
  robots: ReadonlySet<string>,
  grantRepositories: boolean,
  secret?: O.Option<Secret>,
): Effect<RobotResult> =>
  pipe(
    RTE.Do,
    RTE.bind('repositories', () =>
      grantRepositories
        ? grantExisting(target, new Set([...robots, target.robotName]))
        : RTE.right<WorkEnv, SyncError, readonly Change[]>([]),
    ),
    RTE.bind('secret', () => ensureSecret(target, ensured.robot, secret)),
    RTE.bind('link', () => linkSecret(target)),
    RTE.map(({ repositories, secret: secretChange, link }) => ({
      robot: ensured.robot,
      changes: {
        robot: ensured.change,
        defaultPermission,
        secret: secretChange,
        link,
        repositories: repositories.filter((c) => c !== 'unchanged').length,
      },
    })),
  );

// ---- one ServiceAccount, from its own event: only what it needs is read ----

/** Our finalizer before anything exists in Quay for the namespace; a namespace gone meanwhile is a 404 (retried). */
const finalizerFirst = (namespace: Namespace, needed: boolean): Effect<Change> =>
  !needed
    ? RTE.right('unchanged')
    : pipe(
        setFinalizers(namespace, 'provision'),
        RTE.flatMap((r) =>
          r === 'gone'
            ? RTE.left<WorkEnv, SyncError, Change>({
                _tag: 'KubeNotFound',
                message: `namespace ${namespace.metadata.name} is gone`,
              })
            : RTE.right(r === 'updated' ? 'updated' : 'unchanged'),
        ),
      );

/**
 * `op`; when Quay answers 403, which it does for a robot of an organization that does not exist (docs/quay-api.md#robots: this event
 * came before the namespace's, or the organization went meanwhile), the organization is claimed (made, marked,
 * unless the namespace is going meanwhile; or refused when it exists and is not ours) and `op` tried once more. A
 * 403 again is a real refusal.
 */
const inOrganization = <A>(
  target: RobotTarget,
  op: Effect<A>,
): Effect<{ readonly value: A; readonly org: Change }> =>
  pipe(
    op,
    RTE.map((value): { readonly value: A; readonly org: Change } => ({ value, org: 'unchanged' })),
    RTE.orElse((e) =>
      e._tag === 'QuayRejected' && e.status === 403
        ? pipe(
            claimOrganization(target.namespace, target.org),
            RTE.flatMap((org) =>
              pipe(
                op,
                RTE.map((value) => ({ value, org })),
              ),
            ),
          )
        : RTE.left(e),
    ),
  );

/**
 * The robot with its token, in one call when its Secret exists (so most likely the robot does too): its GET, whose
 * description carries this cluster's mark, which proves the organization ours. A robot to be made is made only in
 * an organization proven ours first (claimOrganization: its GET, one call more for a new robot; adopted or created
 * when it may be), then PUT (Quay's 201 carries the token). A robot without our mark (QBO's, say) is used only in an
 * organization proven ours by its e-mail.
 */
const robotFor = (target: RobotTarget, secret: O.Option<Secret>): Effect<EnsuredRobot> =>
  withOwner((owner, quay) => {
    const ensure = pipe(
      claimOrganization(target.namespace, target.org),
      RTE.flatMap(() =>
        lift(quay.ensureRobot(target.org, target.shortname, robotDescription(owner.identity, target))),
      ),
    );
    if (O.isNone(secret)) return ensure;
    return pipe(
      lift(quay.getRobot(target.org, target.shortname)),
      RTE.flatMap(
        O.match(
          () => ensure,
          (robot) =>
            pipe(
              claimOrganization(target.namespace, target.org, [robot.description]),
              RTE.as<EnsuredRobot>({ robot, change: 'unchanged' }),
            ),
        ),
      ),
    );
  });

/**
 * The robot's one default permission. A robot created just now has none (Quay deletes a robot's prototypes with
 * it, and a new robot is a new delegate), so the list is not read before the add, nor after it (robotCreated);
 * otherwise it is read once.
 */
const defaultPermissionFor = (target: RobotTarget, robot: Change): Effect<Change> =>
  withQuay((quay) => {
    if (robot === 'created')
      return lift(quay.ensureDefaultPermission(target.org, target.robotName, target.role, [], true));
    return pipe(
      lift(quay.listDefaultPermissions(target.org)),
      RTE.flatMap((prototypes) =>
        defaultPermissionNeedsFix(prototypes, target.robotName, target.role)
          ? lift(quay.ensureDefaultPermission(target.org, target.robotName, target.role, prototypes))
          : RTE.right<WorkEnv, SyncError, Change>('unchanged'),
      ),
    );
  });

export interface ServiceAccountResult extends RobotResult {
  /** The organization (created when it was missing) and the namespace's finalizer. */
  readonly namespace: Change;
}

/**
 * Everything one ServiceAccount needs, from its own event, reading only what it needs: its Secret (kube), its robot
 * (one call), the organization's default permissions (one call; none for a new robot). Unchanged: two Quay calls.
 */
export const reconcileServiceAccount = (target: RobotTarget): Effect<ServiceAccountResult> =>
  pipe(
    RTE.Do,
    RTE.bind('finalizer', () => finalizerFirst(target.namespace, target.finalizerNeeded)),
    RTE.bind('secret', () => readSecret(target)),
    RTE.flatMap(({ finalizer, secret }) =>
      pipe(
        ensuredInCluster(target, secret),
        O.match(
          () => reconcileInQuay(target, finalizer, secret),
          (robot) => RTE.right<WorkEnv, SyncError, ServiceAccountResult>(echo(robot)),
        ),
      ),
    ),
  );

/** The bridge's own echo (ensuredInCluster): everything unchanged, nothing asked of Quay. */
const echo = (robot: Robot): ServiceAccountResult => ({
  robot,
  namespace: 'unchanged',
  changes: {
    robot: 'unchanged',
    defaultPermission: 'unchanged',
    secret: 'unchanged',
    link: 'unchanged',
    repositories: 0,
  },
});

const reconcileInQuay = (
  target: RobotTarget,
  finalizer: Change,
  secret: O.Option<Secret>,
): Effect<ServiceAccountResult> =>
  pipe(
    RTE.Do,
    RTE.bind('finalizer', () => RTE.right<WorkEnv, SyncError, Change>(finalizer)),
    RTE.bind('secret', () => RTE.right<WorkEnv, SyncError, O.Option<Secret>>(secret)),
    RTE.bind('robot', ({ secret }) => inOrganization(target, robotFor(target, secret))),
    RTE.bind('defaultPermission', ({ robot }) => defaultPermissionFor(target, robot.value.change)),
    RTE.flatMap(({ finalizer, secret, robot, defaultPermission }) =>
      pipe(
        finishRobot(
          target,
          robot.value,
          defaultPermission,
          new Set(),
          // Prototypes reach only repositories created later (QBO #109): a robot new to them is granted its role
          // on those that exist. New to them: created now, or a reconcile before this one stopped before its
          // Secret (written after the grants), or its default permission was missing (a robot created by an
          // attempt whose answer was lost reads as existing).
          robot.value.change === 'created' || defaultPermission !== 'unchanged' || O.isNone(secret),
          secret,
        ),
        RTE.map((r) => ({
          ...r,
          namespace: robot.org === 'unchanged' && finalizer === 'updated' ? 'updated' : robot.org,
        })),
      ),
    ),
    // The organization may go (its namespace deleted) between any two calls.
    RTE.orElse(refusalOrMissing<ServiceAccountResult>(target.org)),
  );
