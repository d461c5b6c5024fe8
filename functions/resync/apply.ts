// The resync's effects: every namespace reconciled with the same plans and effects as the per-event steps (a
// namespace's organization view is read once, in two calls, and shared by its ServiceAccounts: robots.ts), then the
// orphan sweep. One object's failure is counted and reported, never stops the others (docs/qbo-compatibility.md#b12).
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { describeError, type SyncError } from '../../shared/errors.js';
import { getOptional, listDecoded, listServed } from '../../shared/kube/client.js';
import type { Served } from '../../shared/kube/discovery.js';
import type { KubeError } from '../../shared/kube/errors.js';
import { ImageStream, Namespace, ServiceAccount } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import type { Change } from '../../shared/quay/types.js';
import { traverseLimited } from '../../shared/runtime/concurrency.js';
import type { WorkEnv } from '../../shared/runtime/work.js';
import type { Configured } from '../../shared/settings/load.js';
import { imageStreamReports, robotReports } from '../../shared/sync/events.js';
import { applyNamespacePlan, setFinalizers } from '../../shared/sync/namespace-apply.js';
import { ourFinalizers, planNamespace } from '../../shared/sync/namespace-plan.js';
import { readOwnership } from '../../shared/sync/organization.js';
import { planImageStream } from '../../shared/sync/repository-plan.js';
import { reconcileRepository } from '../../shared/sync/repository.js';
import { planServiceAccount, type RobotTarget } from '../../shared/sync/robot-plan.js';
import { reconcileRobot } from '../../shared/sync/robot.js';
import {
  addTallies,
  emptyTally,
  groupByNamespace,
  orphanCandidates,
  type NamespaceWork,
  type Tally,
} from './plan.js';
import { orgViewFor } from './robots.js';
import type { Report } from '../../shared/runtime/report.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

const one = (
  what: 'namespaces' | 'serviceAccounts' | 'imageStreams',
  label: string,
  result: E.Either<SyncError, readonly (Change | 'ignored')[]>,
): Tally => {
  if (E.isRight(result))
    return {
      ...emptyTally,
      [what]: 1,
      changed: result.right.some((c) => c !== 'unchanged' && c !== 'ignored') ? 1 : 0,
    };
  if (result.left._tag === 'InvalidName') return { ...emptyTally, refused: 1 };
  return {
    ...emptyTally,
    [what]: 1,
    failed: 1,
    failures: [`${label}: ${describeError(result.left)}`],
    notOurs: result.left._tag === 'NotOurs' ? [result.left] : [],
  };
};

const run =
  <A>(env: WorkEnv, effect: Effect<A>): T.Task<E.Either<SyncError, A>> =>
  () =>
    effect(env)();

const reconcileNamespace =
  (env: WorkEnv, configured: Configured) =>
  (work: NamespaceWork): T.Task<Tally> =>
  async () => {
    const { settings } = configured;
    const name = work.namespace.metadata.name;
    const plan = planNamespace(
      { name, current: O.some(work.namespace), action: undefined },
      E.right(settings),
    );
    if (plan._tag === 'Ignore') return emptyTally;
    if (plan._tag !== 'Provision') {
      const result = await run(env, applyNamespacePlan(plan))();
      return one(
        'namespaces',
        `namespace ${name}`,
        pipe(
          result,
          E.map((r) => [r.outcome]),
        ),
      );
    }
    const viewed = await run(
      env,
      orgViewFor(plan.namespace, plan.org, plan.addFinalizer || plan.dropLegacyFinalizer),
    )();
    let tally = one(
      'namespaces',
      `namespace ${name}`,
      pipe(
        viewed,
        E.map((v) => [v.org]),
      ),
    );
    if (E.isLeft(viewed)) return tally;
    const view = viewed.right.view;
    const targets: RobotTarget[] = [];
    for (const sa of work.serviceAccounts) {
      const saPlan = planServiceAccount(
        {
          namespaceName: name,
          name: sa.metadata.name,
          serviceAccount: O.some(sa),
          namespace: O.some(work.namespace),
        },
        settings,
      );
      if (saPlan._tag === 'Ignore') continue;
      if (saPlan._tag === 'Refuse') {
        tally = addTallies(tally, { ...emptyTally, refused: 1 });
        continue;
      }
      targets.push(saPlan.target);
    }
    const robots = new Set(view.robots.keys());
    for (const target of targets) {
      // One after the other, each with the view read once (a robot's default permission is judged by its own).
      const result = await run(env, reconcileRobot(target, view))();
      if (E.isRight(result)) robots.add(result.right.robot.name);
      if (E.isRight(result))
        tally = addTallies(tally, { ...emptyTally, reports: robotReports(target, result.right) });
      tally = addTallies(
        tally,
        one(
          'serviceAccounts',
          `ServiceAccount ${name}/${target.serviceAccount.metadata.name}`,
          pipe(
            result,
            E.map((r) => [r.changes.robot, r.changes.defaultPermission, r.changes.secret, r.changes.link]),
          ),
        ),
      );
    }
    for (const is of work.imageStreams) {
      const isPlan = planImageStream(
        {
          namespaceName: name,
          name: is.metadata.name,
          current: O.some(is),
          namespace: O.some(work.namespace),
          action: undefined,
        },
        settings,
      );
      if (isPlan._tag === 'Ignore' || isPlan._tag === 'DeleteRepository') continue;
      if (isPlan._tag === 'Refuse') {
        tally = addTallies(tally, { ...emptyTally, refused: 1 });
        continue;
      }
      const result = await run(
        env,
        reconcileRepository({ ...isPlan.target, finalizerNeeded: false }, robots),
      )();
      tally = addTallies(tally, {
        ...emptyTally,
        reports: imageStreamReports(
          isPlan,
          name,
          is.metadata.name,
          O.some(is),
        )(
          pipe(
            result,
            E.map((c) => ({ outcome: c })),
          ),
        ).filter((r) => r !== undefined && r.event.type === 'Normal') as Report[],
      });
      tally = addTallies(
        tally,
        one(
          'imageStreams',
          `ImageStream ${name}/${is.metadata.name}`,
          pipe(
            result,
            E.map((c) => [c]),
          ),
        ),
      );
    }
    return tally;
  };

/**
 * Organizations of this cluster whose namespace is gone: confirmed by a 404 on the namespace itself, and by the
 * organization's mark (its e-mail: one GET per candidate). An organization without this cluster's mark is left
 * alone, whoever made it: another cluster's with a look-alike prefix, a squatter's, QBO's.
 */
const sweep =
  (env: WorkEnv, configured: Configured, namespaces: ReadonlySet<string>): T.Task<Tally> =>
  async () => {
    const quay = configured.quay;
    const user = await quay.currentUser()();
    if (E.isLeft(user))
      return { ...emptyTally, failed: 1, failures: [`orphan sweep: ${describeError(user.left)}`] };
    let tally = emptyTally;
    for (const c of orphanCandidates(
      configured.settings.organizationPrefix,
      user.right.organizations,
      namespaces,
    )) {
      const result = await pipe(
        getOptional(env.kube, Namespace, { type: Resources.Namespace, name: c.namespace }),
        TE.mapLeft((e): SyncError => e),
        TE.flatMap((ns) =>
          O.isSome(ns)
            ? TE.right<SyncError, Change>('unchanged')
            : pipe(
                readOwnership(c.org)(env),
                TE.flatMap((ownership) =>
                  ownership._tag === 'Ours'
                    ? quay.deleteOrganization(c.org)
                    : TE.right<SyncError, Change>('unchanged'),
                ),
              ),
        ),
      )();
      if (E.isLeft(result))
        tally = addTallies(tally, {
          ...emptyTally,
          failed: 1,
          failures: [`orphan organization ${c.org}: ${describeError(result.left)}`],
        });
      else if (result.right === 'deleted') tally = addTallies(tally, { ...emptyTally, swept: 1 });
    }
    return tally;
  };

/**
 * Every namespace reconciled, then the sweep. `served`: what the cluster serves, discovered for this pass; a type it
 * does not serve (ImageStreams off OpenShift) is not listed, and one that stops being served meanwhile lists empty.
 */
export const reconcileAll =
  (
    configured: Configured,
    concurrency: number,
    served: Served,
  ): RTE.ReaderTaskEither<WorkEnv, SyncError, Tally> =>
  (env) =>
    pipe(
      TE.Do,
      TE.bind('namespaces', () => listDecoded(env.kube, Namespace, Resources.Namespace)),
      TE.bind('serviceAccounts', () => listDecoded(env.kube, ServiceAccount, Resources.ServiceAccount)),
      // Names only: tenants decide how large an ImageStream is (kube/client.ts ListOptions.metadataOnly).
      TE.bind('imageStreams', () =>
        served(Resources.ImageStream)
          ? pipe(
              listServed(env.kube, ImageStream, Resources.ImageStream, { metadataOnly: true }),
              TE.map(O.getOrElse((): readonly ImageStream[] => [])),
            )
          : TE.right<KubeError, readonly ImageStream[]>([]),
      ),
      TE.mapLeft((e): SyncError => e),
      TE.flatMap(({ namespaces, serviceAccounts, imageStreams }) =>
        TE.fromTask(
          pipe(
            groupByNamespace(namespaces, serviceAccounts, imageStreams),
            traverseLimited(concurrency, (work: NamespaceWork) =>
              pipe(
                reconcileNamespace(env, configured)(work),
                T.map((t) => ({ ...t, namespacesFailed: t.failed > 0 ? 1 : 0 })),
              ),
            ),
            T.flatMap((tallies) =>
              pipe(
                sweep(env, configured, new Set(namespaces.map((n) => n.metadata.name))),
                T.map((swept) => [...tallies, swept].reduce(addTallies, emptyTally)),
              ),
            ),
          ),
        ),
      ),
    );

/**
 * No QuayIntegration at all (deleted: an uninstall, or a re-creation under way): nothing can be deleted in Quay,
 * and no namespace may hang in Terminating on our finalizer, so every finalizer of ours is released (docs/qbo-compatibility.md#b4).
 * Organizations are left; a QuayIntegration created later sweeps those whose namespace is gone.
 */
export const releaseAll: RTE.ReaderTaskEither<WorkEnv, SyncError, Tally> = (env) =>
  pipe(
    listDecoded(env.kube, Namespace, Resources.Namespace),
    TE.mapLeft((e): SyncError => e),
    TE.flatMap((namespaces) =>
      TE.fromTask(
        pipe(
          namespaces.filter((ns) => ourFinalizers(ns).length > 0),
          traverseLimited(4, (ns) =>
            pipe(
              run(env, setFinalizers(ns, 'release')),
              T.map((r) =>
                one(
                  'namespaces',
                  `namespace ${ns.metadata.name}`,
                  pipe(
                    r,
                    E.map((u) => [u === 'updated' ? 'updated' : 'unchanged'] as const),
                  ),
                ),
              ),
            ),
          ),
          T.map((ts) => ts.reduce(addTallies, emptyTally)),
        ),
      ),
    ),
  );
