// The organization of a namespace, for every step: read what Quay shows about it, judge it (shared/ownership.ts),
// and adopt, create or refuse it; and what a 403 met in it means. Reads cost nothing where the caller already holds
// robots that carry this cluster's mark, or the namespace's organization stamp.
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { notOurs, type SyncError } from '../errors.js';
import { getOptional } from '../kube/client.js';
import { Namespace } from '../kube/objects.js';
import { Resources } from '../kube/resources.js';
import { ORGANIZATION_ANNOTATION, organizationStamp } from '../names.js';
import { claimOf, organizationEmail, type Ownership } from '../ownership.js';
import type { Change, QuayClient } from '../quay/types.js';
import { withOwner, withQuay, type Owner, type WorkEnv } from '../runtime/work.js';

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

// ---- a 403 in an organization (the one place that reads it) ----

/**
 * Quay answers 403 for a call about an organization that does not exist, as for one the token may not touch
 * (docs/quay-api.md#organizations, docs/quay-api.md#robots): the permission check runs first. The Quay client
 * absorbs it where the answer is the same either way (a delete, a list: shared/quay/organizations.ts
 * unlessOrganizationMissing); work inside an organization reads it here, and nowhere else.
 */
const forbidden = (e: SyncError): e is Extract<SyncError, { readonly _tag: 'QuayRejected' }> =>
  e._tag === 'QuayRejected' && e.status === 403;

/**
 * `op` in the organization of `ns`; when Quay answers 403 (this event came before the namespace's, or the
 * organization went meanwhile), the organization is claimed (made and marked unless the namespace is going; refused
 * when it exists and is not ours) and `op` tried once more. A 403 again is left to refusalOrMissing. `org` in the
 * result: what the claim did.
 */
export const inOrganization = <A>(
  ns: Namespace,
  org: string,
  op: Effect<A>,
): Effect<{ readonly value: A; readonly org: Change }> =>
  pipe(
    op,
    RTE.map((value): { readonly value: A; readonly org: Change } => ({ value, org: 'unchanged' })),
    RTE.orElse((e) =>
      forbidden(e)
        ? pipe(
            claimOrganization(ns, org),
            RTE.flatMap((claimed) =>
              pipe(
                op,
                RTE.map((value) => ({ value, org: claimed })),
              ),
            ),
          )
        : RTE.left(e),
    ),
  );

/**
 * A 403 met while working in `org` is a refusal only when the organization is there (one GET, on this path only);
 * when it is not, it went meanwhile (its namespace is being deleted) or is yet to come: a 404, which the broker
 * retries, and whose retry re-reads the world.
 */
export const refusalOrMissing =
  <A>(org: string) =>
  (e: SyncError): Effect<A> =>
    forbidden(e)
      ? withQuay((quay) =>
          pipe(
            RTE.fromTaskEither(quay.getOrganization(org)),
            RTE.flatMap((found) =>
              RTE.left<WorkEnv, SyncError, A>(
                O.isSome(found)
                  ? e
                  : {
                      _tag: 'QuayRejected',
                      status: 404,
                      message: `organization ${org} does not exist (Quay answered 403: ${e.message})`,
                    },
              ),
            ),
          ),
        )
      : RTE.left(e);
