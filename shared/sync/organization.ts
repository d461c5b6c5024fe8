// The organization of a namespace, for every step: read what Quay shows about it, judge it (shared/ownership.ts),
// and adopt, create or refuse it; and what a 403 met in it means. Reads cost nothing where the caller already holds
// robots that carry this cluster's mark, or the namespace's organization stamp.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { notOurs, type SyncError } from '../errors.js';
import { getOptional } from '../kube/client.js';
import { Namespace } from '../kube/objects.js';
import { Resources } from '../kube/resources.js';
import { NAMESPACE_FINALIZER, ORGANIZATION_ANNOTATION, organizationStamp } from '../names.js';
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
 * ORGANIZATION_ANNOTATION set to `stamp`, once the organization was proven this cluster's (created by us, or judged
 * by its GET); a namespace gone meanwhile is fine. A merge patch of one annotation, without a resourceVersion: it
 * keeps everyone else's annotations, and the finalizer written just before (or another step's) would make a locked
 * one fail, costing a read and a second patch. `ns`'s uid in the patch is the precondition (a namespace deleted and
 * made anew refuses it, 422). The stamp goes with our finalizer (setFinalizers): `ours` when the caller set it
 * itself (its copy may predate it); else `ns` is a fresh read, which must have it and not be terminating.
 */
/**
 * A patch of the namespace's metadata without a resourceVersion (a concurrent writer is not met in a 409) but held
 * to its uid: the API server refuses it (422) on a namespace made anew under the same name.
 */
export const patchNamespaceMetadata = (
  ns: Namespace,
  type: 'merge' | 'strategic',
  metadata: object,
): Effect<unknown> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) =>
      kube.patch(
        { type: Resources.Namespace, name: ns.metadata.name },
        {
          type,
          body: {
            metadata: { ...(ns.metadata.uid === undefined ? {} : { uid: ns.metadata.uid }), ...metadata },
          },
        },
      ),
    ),
  );

export const stampOrganization = (ns: Namespace, stamp: string, ours = false): Effect<undefined> =>
  pipe(stampOrganizationAt(ns, stamp, ours), RTE.as(undefined));

/** stampOrganization, answering the namespace as its patch left it (undefined when nothing was patched). */
export const stampOrganizationAt = (ns: Namespace, stamp: string, ours = false): Effect<unknown> =>
  stampOf(ns) === stamp ||
  (!ours &&
    (ns.metadata.deletionTimestamp !== undefined ||
      !(ns.metadata.finalizers ?? []).includes(NAMESPACE_FINALIZER)))
    ? RTE.right(undefined)
    : pipe(
        patchNamespaceMetadata(ns, 'merge', { annotations: { [ORGANIZATION_ANNOTATION]: stamp } }),
        RTE.orElse((e) => (e._tag === 'KubeNotFound' ? RTE.right(undefined) : RTE.left(e))),
      );

const stampOf = (ns: Namespace): string | undefined => ns.metadata.annotations?.[ORGANIZATION_ANNOTATION];

/**
 * The organization of `ns`, proven this cluster's before anything is made or changed in it: used when it carries
 * the mark, adopted when it carries none and the QuayIntegration names the namespace for adoption, created (marked)
 * when missing and its namespace is still there; anything else is NotOurs. No call is made when the proof is at
 * hand: the namespace's organization stamp (written only after this very proof; tenants cannot write Namespaces),
 * in the caller's copy or, read again, written since by another event; or `robots`, descriptions of the
 * organization's robots the caller already read, carrying this cluster's mark. A proof from Quay is stamped on the
 * namespace, so that the events after it need none.
 */
export const claimOrganization = (ns: Namespace, org: string, robots?: readonly string[]): Effect<Change> =>
  pipe(
    claimThen(ns, org, RTE.right<WorkEnv, SyncError, undefined>(undefined), robots),
    RTE.map(({ claim }) => claim),
  );

/**
 * claimOrganization, then `next` (run only once the organization is proven this cluster's), side by side with the
 * stamp that a proof from Quay writes: the stamp only saves later events a call, and need not hold up this one.
 */
export const claimThen = <A>(
  ns: Namespace,
  org: string,
  next: Effect<A>,
  robots?: readonly string[],
  awaitStamp = false,
): Effect<{ readonly claim: Change; readonly value: A }> =>
  withOwner((owner, quay) => {
    const namespace = ns.metadata.name;
    const stamp = organizationStamp(owner.registryHost, org);
    const free = pipe(
      next,
      RTE.map((value): { readonly claim: Change; readonly value: A } => ({ claim: 'unchanged', value })),
    );
    if (stampOf(ns) === stamp) return free;
    if (robots !== undefined && owner.judge.robots(owner.identity, robots)?._tag === 'Ours') return free;
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
    const stampedNow = (now: O.Option<Namespace>): boolean =>
      O.isSome(now) && now.value.metadata.uid === ns.metadata.uid && stampOf(now.value) === stamp;
    const fresh: Effect<Claimed> = pipe(
      RTE.asks((env: WorkEnv) => env.kube),
      RTE.flatMapTaskEither((kube) =>
        getOptional(kube, Namespace, { type: Resources.Namespace, name: namespace }),
      ),
      RTE.flatMap((now) =>
        awaitStamp && !stampedNow(now)
          ? stampSoon(now, ns, stamp)
          : RTE.right<WorkEnv, SyncError, O.Option<Namespace>>(now),
      ),
      RTE.flatMap((now) =>
        stampedNow(now)
          ? RTE.right<WorkEnv, SyncError, Claimed>({ change: 'unchanged' })
          : pipe(
              readOwnership(org),
              RTE.flatMap((o) => decide(o, true)),
              RTE.map((change): Claimed =>
                O.isSome(now) && now.value.metadata.uid === ns.metadata.uid
                  ? { change, stampOn: now.value }
                  : { change },
              ),
            ),
      ),
    );
    const stampAfter = (claimed: Claimed): Effect<undefined> =>
      claimed.stampOn === undefined
        ? RTE.right(undefined)
        : pipe(
            stampOrganization(claimed.stampOn, stamp),
            // Only a saving for the events after this one: its failure fails nothing.
            RTE.orElse(() => RTE.right<WorkEnv, SyncError, undefined>(undefined)),
          );
    return pipe(
      (env: WorkEnv) => () => joinClaim(quay, `${org}\n${namespace}`, fresh(env)),
      RTE.flatMap((claimed) =>
        pipe(
          RTE.Do,
          RTE.apS('stamped', stampAfter(claimed)),
          RTE.apS('value', next),
          RTE.map(({ value }) => ({ claim: claimed.change, value })),
        ),
      ),
    );
  });

/**
 * How long an event waits for the stamp that another event's proof is about to write (docs/design.md#stamp-wait):
 * far longer than the namespace step takes from its finalizer to its stamp, far shorter than a broker's retry.
 */
export const STAMP_WAIT_MS = 250;

/**
 * The namespace, stamped meanwhile if it comes within STAMP_WAIT_MS. Waited for only when another event is already
 * at work on it, which our finalizer without the stamp shows (the namespace step, or another ServiceAccount's
 * event, between its finalizer and its proof from Quay): its proof is then one call this event need not make. Any
 * failure of the watch is the same as no stamp: Quay is asked, as without the wait.
 */
const stampSoon =
  (now: O.Option<Namespace>, ns: Namespace, stamp: string): Effect<O.Option<Namespace>> =>
  (env: WorkEnv) => {
    const seen = O.isSome(now) ? now.value : undefined;
    const resourceVersion = seen?.metadata.resourceVersion;
    const waitFor = env.kube.waitFor;
    if (
      seen === undefined ||
      waitFor === undefined ||
      resourceVersion === undefined ||
      seen.metadata.uid !== ns.metadata.uid ||
      seen.metadata.deletionTimestamp !== undefined ||
      !(seen.metadata.finalizers ?? []).includes(NAMESPACE_FINALIZER)
    )
      return TE.right(now);
    return pipe(
      waitFor(
        { type: Resources.Namespace, name: ns.metadata.name },
        resourceVersion,
        (o) => {
          const later = Namespace.decode(o);
          return (
            E.isRight(later) && later.right.metadata.uid === ns.metadata.uid && stampOf(later.right) === stamp
          );
        },
        STAMP_WAIT_MS,
      ),
      TE.map(O.flatMap((o) => O.fromEither(Namespace.decode(o)))),
      TE.map((stamped) => (O.isSome(stamped) ? stamped : now)),
      TE.orElse(() => TE.right<SyncError, O.Option<Namespace>>(now)),
    );
  };

/** A claim's answer; `stampOn`: the namespace (as read) to stamp, by the event that asked Quay. */
interface Claimed {
  readonly change: Change;
  readonly stampOn?: Namespace;
}

/**
 * Claims under way in this process (one Quay client per process and settings), by organization and namespace:
 * events that need the same proof at the same time (a new namespace's ServiceAccounts, arriving together) wait for
 * the one asking Quay instead of asking again. Nothing is kept once it is answered. A claim that joins another made
 * nothing itself: `unchanged`, or the same error.
 */
const claimsUnderWay = new WeakMap<QuayClient, Map<string, Promise<E.Either<SyncError, Claimed>>>>();

const joinClaim = (
  quay: QuayClient,
  key: string,
  claim: TE.TaskEither<SyncError, Claimed>,
): Promise<E.Either<SyncError, Claimed>> => {
  const underWay = claimsUnderWay.get(quay) ?? new Map<string, Promise<E.Either<SyncError, Claimed>>>();
  claimsUnderWay.set(quay, underWay);
  const running = underWay.get(key);
  if (running !== undefined) return running.then(E.map((): Claimed => ({ change: 'unchanged' })));
  const mine = claim();
  underWay.set(key, mine);
  void mine.finally(() => {
    if (underWay.get(key) === mine) underWay.delete(key);
  });
  return mine;
};

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
            claimThen(ns, org, op),
            RTE.map(({ claim, value }) => ({ value, org: claim })),
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
