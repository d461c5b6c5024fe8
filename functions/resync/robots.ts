// The resync's view of one namespace's organization: read once (robots with their tokens and the default
// permissions: two calls) and shared by its ServiceAccounts, each of which then goes through the one robot sequence
// (shared/sync/robot.ts) with it.
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { SyncError } from '../../shared/errors.js';
import type { Namespace } from '../../shared/kube/objects.js';
import type { Change, QuayClient } from '../../shared/quay/types.js';
import { withQuay, type WorkEnv } from '../../shared/runtime/work.js';
import { provision } from '../../shared/sync/namespace-apply.js';
import { claimOrganization } from '../../shared/sync/organization.js';
import { emptyOrgView, orgViewOf, type OrgView } from '../../shared/sync/robot-plan.js';

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
