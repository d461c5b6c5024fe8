// The one robot sequence, for the service-account step and the resync alike, in an order that survives a crash
// between any two writes: the namespace's finalizer (before anything in Quay), the robot (the organization only when
// Quay says it is missing), its default permission, its explicit grants on existing repositories (when the robot is
// new to them; those the watch cache lists), then the Secret and the link (secret.ts), then grants on what a
// consistent list adds to the cache's (docs/design.md#robot-grants). The resync passes the organization's view it
// read once for the whole namespace (robots with tokens, default permissions); an event reads only what its robot
// needs.
import * as O from 'fp-ts/lib/Option.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../errors.js';
import { listServed } from '../kube/client.js';
import { ImageStream, type Secret } from '../kube/objects.js';
import { Resources } from '../kube/resources.js';
import type { Change, Prototype, Robot } from '../quay/types.js';
import { markedDescription, type ClusterIdentity } from '../ownership.js';
import { withOwner, withQuay, type WorkEnv } from '../runtime/work.js';
import { finalizerFirst } from './namespace-apply.js';
import { claimOrganization, claimThen, inOrganization, refusalOrMissing } from './organization.js';
import { reconcileRepository } from './repository.js';
import { defaultPermissionNeedsFix, ensuredInCluster, type OrgView, type RobotTarget } from './robot-plan.js';
import { ensureSecret, linkSecret, readSecret, type KnownSecret } from './secret.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

const lift = <A>(te: TE.TaskEither<SyncError, A>): Effect<A> => RTE.fromTaskEither(te);

/** This cluster's mark, and what the robot is for (shared/ownership.ts). */
export const robotDescription = (identity: ClusterIdentity, target: RobotTarget): string =>
  markedDescription(
    identity,
    `ServiceAccount ${target.serviceAccount.metadata.namespace}/${target.serviceAccount.metadata.name}`,
  );

/** The names of the namespace's ImageStreams; none where ImageStreams are not served (plain Kubernetes). */
const streamsOf = (target: RobotTarget, fromCache: boolean): Effect<readonly string[]> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) =>
      // Names only: tenants decide how large an ImageStream is (kube/client.ts ListOptions.metadataOnly).
      listServed(kube, ImageStream, Resources.ImageStream, {
        namespace: target.serviceAccount.metadata.namespace,
        metadataOnly: true,
        fromCache,
        // The cache's list may be shared with the namespace's other ServiceAccounts' events; the consistent one is
        // made for this robot (kube/shared-reads.ts).
        asOfEvent: fromCache,
      }),
    ),
    RTE.map((streams) =>
      O.getOrElse((): readonly ImageStream[] => [])(streams)
        .filter((s) => s.metadata.deletionTimestamp === undefined)
        .map((s) => s.metadata.name),
    ),
  );

/** A new robot has no rights on repositories that already exist: grant them explicitly (QBO #109). */
const grantOn = (target: RobotTarget, repos: readonly string[]): Effect<readonly Change[]> =>
  pipe(
    repos,
    RA.traverse(RTE.ApplicativeSeq)((repo) =>
      reconcileRepository(
        {
          namespace: target.namespace,
          org: target.org,
          repo,
          grants: [{ robotName: target.robotName, role: target.role }],
          finalizerNeeded: false,
        },
        new Set([target.robotName]),
      ),
    ),
  );

export interface EnsuredRobot {
  readonly robot: Robot;
  readonly change: Change;
}

export interface RobotResult {
  readonly robot: Robot;
  /** The organization (created when it was missing) and the namespace's finalizer. */
  readonly namespace: Change;
  readonly changes: Readonly<Record<'robot' | 'defaultPermission' | 'secret' | 'link', Change>> & {
    readonly repositories: number;
  };
  /** The ServiceAccount's resourceVersion as this reconcile left it: its link's answer, else the one it read. */
  readonly serviceAccountVersion: string | undefined;
}

/**
 * The robot with its token. From the resync's view: the one it holds, else ensured. From an event: in one call when
 * its Secret exists (so most likely the robot does too): its GET, whose description carries this cluster's mark,
 * which proves the organization ours. A robot to be made is made only in an organization proven ours first
 * (claimOrganization: free when the namespace is stamped, else its GET; adopted or created when it may be), then PUT
 * (Quay's 201 carries the token). A robot without our mark (QBO's, say) is used only in an organization proven ours
 * by its e-mail.
 */
const robotFor = (
  target: RobotTarget,
  secret: O.Option<Secret>,
  view: OrgView | undefined,
): Effect<EnsuredRobot> =>
  withOwner((owner, quay) => {
    const put = lift(
      quay.ensureRobot(target.org, target.shortname, robotDescription(owner.identity, target)),
    );
    if (view !== undefined) {
      const known = view.robots.get(target.robotName);
      return known !== undefined ? RTE.right({ robot: known, change: 'unchanged' }) : put;
    }
    const ensure = pipe(
      // A ServiceAccount's event of a new namespace often comes while the namespace step is making its organization:
      // it waits a moment for that step's stamp rather than asking Quay for the same proof.
      claimThen(target.namespace, target.org, put, undefined, true),
      RTE.map(({ value }) => value),
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
 * it, and a new robot is a new delegate), so the list is not read before the add, nor after it (robotCreated:
 * docs/design.md#default-permissions); otherwise it is read once (or taken from the resync's view).
 */
const defaultPermissionFor = (
  target: RobotTarget,
  robot: Change,
  known: readonly Prototype[] | undefined,
): Effect<Change> =>
  withQuay((quay) => {
    if (robot === 'created')
      return lift(quay.ensureDefaultPermission(target.org, target.robotName, target.role, [], true));
    return pipe(
      known !== undefined
        ? RTE.right<WorkEnv, SyncError, readonly Prototype[]>(known)
        : lift(quay.listDefaultPermissions(target.org)),
      RTE.flatMap((prototypes) =>
        defaultPermissionNeedsFix(prototypes, target.robotName, target.role)
          ? lift(quay.ensureDefaultPermission(target.org, target.robotName, target.role, prototypes))
          : RTE.right<WorkEnv, SyncError, Change>('unchanged'),
      ),
    );
  });

/** The bridge's own echo (ensuredInCluster): everything unchanged, nothing asked of Quay. */
const echo = (target: RobotTarget, robot: Robot): RobotResult => ({
  robot,
  serviceAccountVersion: target.serviceAccount.metadata.resourceVersion,
  namespace: 'unchanged',
  changes: {
    robot: 'unchanged',
    defaultPermission: 'unchanged',
    secret: 'unchanged',
    link: 'unchanged',
    repositories: 0,
  },
});

/**
 * Everything one ServiceAccount's robot needs. Without `view` (an event), reading only what it needs: its Secret
 * (kube; one that shows everything ensured answers from the cluster alone), its robot (one call), the organization's
 * default permissions (one call; none for a new robot); unchanged: two Quay calls. With `view` (the resync, which
 * provisioned the namespace and proved the organization ours before reading it), Quay is not read again, and the
 * grants are left to its pass over the ImageStreams.
 */
export const reconcileRobot = (
  target: RobotTarget,
  view?: OrgView,
  known?: KnownSecret,
): Effect<RobotResult> =>
  view !== undefined
    ? inQuay(target, 'unchanged', undefined, view)
    : pipe(
        RTE.Do,
        // Side by side: the finalizer (when missing) and the read of the Secret do not depend on each other.
        RTE.apS('finalizer', finalizerFirst(target.namespace, target.finalizerNeeded)),
        RTE.apS('secret', readSecret(target, known)),
        RTE.flatMap(({ finalizer, secret }) =>
          pipe(
            ensuredInCluster(target, secret),
            O.match(
              () => inQuay(target, finalizer, secret, undefined),
              (robot) => RTE.right<WorkEnv, SyncError, RobotResult>(echo(target, robot)),
            ),
          ),
        ),
      );

const inQuay = (
  target: RobotTarget,
  finalizer: Change,
  secret: O.Option<Secret> | undefined,
  view: OrgView | undefined,
): Effect<RobotResult> => {
  // Prototypes reach only repositories created later (QBO #109): a robot new to them is granted its role on those
  // that exist. New to them: created now, or a reconcile before this one stopped before its Secret (written after
  // the grants), or its default permission was missing (a robot created by an attempt whose answer was lost reads
  // as existing). The resync grants per ImageStream instead. When the Secret is missing, the ImageStreams are
  // listed beside the robot's calls.
  const early = view === undefined && secret !== undefined && O.isNone(secret);
  const newToRepositories = (robot: Change, defaultPermission: Change): boolean =>
    view === undefined && (robot === 'created' || defaultPermission !== 'unchanged' || early);
  return pipe(
    RTE.Do,
    RTE.apS('robot', inOrganization(target.namespace, target.org, robotFor(target, secret ?? O.none, view))),
    // From the watch cache (fast, docs/design.md#settings-reads); what it may miss is listed again below.
    RTE.apS('cached', early ? streamsOf(target, true) : RTE.right<WorkEnv, SyncError, readonly string[]>([])),
    RTE.bind('rest', ({ robot, cached }) =>
      pipe(
        RTE.Do,
        // The cache may be a few writes behind: a consistent list, made once the robot exists, finds every
        // ImageStream whose own event may have come before the robot (one made later finds the robot itself). A
        // robot known new to the repositories now has it started at once, beside the rest: it waits for the
        // API server's watch cache to catch up, and should not hold the event for that after its Secret and link.
        RTE.apS(
          'consistent',
          view === undefined && (robot.value.change === 'created' || early)
            ? pipe(streamsOf(target, false), RTE.map(O.some))
            : RTE.right<WorkEnv, SyncError, O.Option<readonly string[]>>(O.none),
        ),
        RTE.apS(
          'main',
          pipe(
            RTE.Do,
            RTE.apS('defaultPermission', defaultPermissionFor(target, robot.value.change, view?.prototypes)),
            RTE.bind('granted', ({ defaultPermission }) =>
              newToRepositories(robot.value.change, defaultPermission)
                ? pipe(
                    early
                      ? RTE.right<WorkEnv, SyncError, readonly string[]>(cached)
                      : streamsOf(target, true),
                    RTE.flatMap((seen) =>
                      pipe(
                        grantOn(target, seen),
                        RTE.map((changes): Granted | undefined => ({ seen: new Set(seen), changes })),
                      ),
                    ),
                  )
                : RTE.right<WorkEnv, SyncError, Granted | undefined>(undefined),
            ),
            // The Secret and the link side by side: a link written before its Secret (a crash between) is
            // repaired by the link's own ServiceAccount event, which finds no Secret and reconciles again.
            RTE.bind('written', () =>
              pipe(
                RTE.Do,
                RTE.apS('secretChange', ensureSecret(target, robot.value.robot, secret)),
                RTE.apS('link', linkSecret(target)),
              ),
            ),
          ),
        ),
      ),
    ),
    // What the consistent list adds to the cache's, granted after the Secret and the link: the ServiceAccount is
    // usable without waiting for it (docs/design.md#robot-grants).
    RTE.bind('late', ({ rest: { consistent, main } }) =>
      main.granted === undefined
        ? RTE.right<WorkEnv, SyncError, readonly Change[]>([])
        : pipe(
            O.isSome(consistent)
              ? RTE.right<WorkEnv, SyncError, readonly string[]>(consistent.value)
              : streamsOf(target, false),
            RTE.flatMap((all) =>
              grantOn(
                target,
                all.filter((name) => !(main.granted?.seen.has(name) ?? false)),
              ),
            ),
          ),
    ),
    RTE.map(({ robot, rest: { main }, late }) => ({
      robot: robot.value.robot,
      namespace: robot.org === 'unchanged' && finalizer === 'updated' ? 'updated' : robot.org,
      changes: {
        robot: robot.value.change,
        defaultPermission: main.defaultPermission,
        secret: main.written.secretChange,
        link: main.written.link.change,
        repositories: [...(main.granted?.changes ?? []), ...late].filter((c) => c !== 'unchanged').length,
      },
      serviceAccountVersion: main.written.link.resourceVersion,
    })),
    // The organization may go (its namespace deleted) between any two calls.
    RTE.orElse(refusalOrMissing<RobotResult>(target.org)),
  );
};

interface Granted {
  readonly seen: ReadonlySet<string>;
  readonly changes: readonly Change[];
}
