// The effects of ownership (shared/ownership.ts): read what Quay shows about an organization, judge it, and adopt,
// create or refuse it. Reads cost nothing where the caller already holds robots that carry this cluster's mark.
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as T from 'fp-ts/lib/Task.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { notOurs, type NotOurs, type SyncError } from '../../shared/errors.js';
import { getOptional } from '../../shared/kube/client.js';
import type { EventsEnv } from '../../shared/kube/events.js';
import { Namespace } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import { ORGANIZATION_ANNOTATION, organizationStamp } from '../../shared/names.js';
import { claimOf, organizationEmail, type Ownership } from '../../shared/ownership.js';
import type { Change, QuayClient } from '../../shared/quay/types.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import { withOwner, type Owner, type WorkEnv } from '../../shared/runtime/work.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

/** The organization's ownership, from its GET (one call). */
export const readOwnership = (org: string): Effect<Ownership> =>
  withOwner((owner, quay) =>
    pipe(
      RTE.fromTaskEither(quay.getOrganizationOwner(org)),
      RTE.map(
        O.match(
          (): Ownership => ({ _tag: 'Missing' }),
          (evidence) => owner.judge.organization(owner.identity, org, evidence),
        ),
      ),
    ),
  );

/** The namespace as it is now: one gone or going meanwhile is a 404 (retried; the retry ignores it). */
export const namespaceStillThere = (name: string): Effect<undefined> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) => getOptional(kube, Namespace, { type: Resources.Namespace, name })),
    RTE.flatMap((current) =>
      O.isSome(current) && current.value.metadata.deletionTimestamp === undefined
        ? RTE.right(undefined)
        : RTE.left<WorkEnv, SyncError, undefined>({
            _tag: 'KubeNotFound',
            message: `namespace ${name} is gone or being deleted`,
          }),
    ),
  );

/** POST the organization with this cluster's mark: `created`, or `unchanged` when it exists (whoever made it). */
export const createMarked = (owner: Owner, quay: QuayClient, org: string): Effect<Change> =>
  RTE.fromTaskEither(quay.ensureOrganization(org, organizationEmail(owner.identity, org)));

/**
 * The organization of `ns`, proven this cluster's before anything is made or changed in it: used when it carries
 * the mark, adopted when it carries none and the QuayIntegration names the namespace for adoption, created (marked)
 * when missing and its namespace is still there; anything else is NotOurs. No call is made when the proof is at
 * hand: the namespace's organization stamp (written by the namespace step only after this very proof; tenants cannot
 * write Namespaces), or `robots`, descriptions of the organization's robots the caller already read, carrying this
 * cluster's mark.
 */
export const claimOrganization = (ns: Namespace, org: string, robots?: readonly string[]): Effect<Change> =>
  withOwner((owner, quay) => {
    const namespace = ns.metadata.name;
    if (ns.metadata.annotations?.[ORGANIZATION_ANNOTATION] === organizationStamp(owner.registryHost, org))
      return RTE.right('unchanged');
    if (robots !== undefined && owner.judge.robots(owner.identity, robots)?._tag === 'Ours')
      return RTE.right('unchanged');
    const decide = (ownership: Ownership, mayCreate: boolean): Effect<Change> => {
      const claim = claimOf(ownership, org, namespace, owner.adopt);
      switch (claim._tag) {
        case 'Use':
          return RTE.right('unchanged');
        case 'Adopt':
          return RTE.fromTaskEither(quay.setOrganizationEmail(org, organizationEmail(owner.identity, org)));
        case 'Create':
          return mayCreate
            ? pipe(
                namespaceStillThere(namespace),
                RTE.flatMap(() => createMarked(owner, quay, org)),
                // Made by someone else between the GET and the POST: judge what is there now, once.
                RTE.flatMap((c) =>
                  c === 'created'
                    ? RTE.right<WorkEnv, SyncError, Change>(c)
                    : pipe(
                        readOwnership(org),
                        RTE.flatMap((again) => decide(again, false)),
                      ),
                ),
              )
            : RTE.left({
                _tag: 'QuayRejected',
                status: 409,
                message: `organization ${org} exists and then does not: something else is deleting it`,
              });
        case 'Refuse':
          return RTE.left(notOurs(org, namespace, claim.why));
      }
    };
    return pipe(
      readOwnership(org),
      RTE.flatMap((o) => decide(o, true)),
    );
  });

/**
 * A NotOurs error, reported where `kubectl describe namespace` shows it: a Warning Event on the Namespace. The
 * error itself goes on to the answer (dead-lettered) and, in the resync, to the QuayIntegration's conditions.
 */
export const reportingNotOurs = <A>(
  effect: RTE.ReaderTaskEither<StepEnv, SyncError, A>,
): RTE.ReaderTaskEither<StepEnv, SyncError, A> =>
  pipe(
    effect,
    RTE.tapError(
      (e) => (env: StepEnv) =>
        e._tag === 'NotOurs' ? TE.fromTask(recordNotOurs(env, e)) : TE.right<SyncError, undefined>(undefined),
    ),
  );

export const recordNotOurs = (env: EventsEnv, e: NotOurs): T.Task<undefined> =>
  pipe(
    env.events.record(
      { apiVersion: 'v1', kind: 'Namespace', name: e.namespace },
      { type: 'Warning', reason: 'OrganizationNotOurs', action: 'UseOrganization', note: e.message },
    ),
    T.map(() => undefined),
  );
