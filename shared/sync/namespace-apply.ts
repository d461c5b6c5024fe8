// The effects of a namespace plan. Quay is always asked in an order that survives a crash between two writes:
// finalizer before organization (so no organization exists that a namespace deletion would forget), organization
// deletion before finalizer removal (so a namespace never disappears before its organization).
import { isDeepStrictEqual } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { invalidName, notOurs, type SyncError } from '../errors.js';
import { Namespace } from '../kube/objects.js';
import { LEGACY_NAMESPACE_FINALIZER, NAMESPACE_FINALIZER, ORGANIZATION_ANNOTATION } from '../names.js';
import { Resources } from '../kube/resources.js';
import { updateWithRetryAt, type UpdateResult } from '../kube/update.js';
import type { Change } from '../quay/types.js';
import type { StepResult } from '../runtime/handler.js';
import type { Version } from '../runtime/own-echoes.js';
import { claimOf } from '../ownership.js';
import { strongest, withOwner, type WorkEnv } from '../runtime/work.js';
import {
  claimOrganization,
  createMarked,
  patchNamespaceMetadata,
  readOwnership,
  stampOrganizationAt,
} from './organization.js';
import { finalizersAfter, type NamespacePlan } from './namespace-plan.js';

type Effect<A> = RTE.ReaderTaskEither<WorkEnv, SyncError, A>;

const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Sets metadata.finalizers to what `change` wants, from the freshest state (409 → re-read and redo). */
const lockedFinalizers = (ns: Namespace, change: 'provision' | 'release'): Effect<UpdateResult> =>
  pipe(
    RTE.asks((env: WorkEnv) => env.kube),
    RTE.flatMapTaskEither((kube) =>
      updateWithRetryAt(
        kube,
        { type: Resources.Namespace, name: ns.metadata.name },
        Namespace,
        ns,
        (current) => {
          if (current.metadata.deletionTimestamp !== undefined && change === 'provision') return O.none;
          const wanted = finalizersAfter(current, change);
          // The organization stamp goes with the finalizer: a namespace back in scope is provisioned anew.
          const stamped = current.metadata.annotations?.[ORGANIZATION_ANNOTATION] !== undefined;
          const dropStamp = change === 'release' && stamped;
          return sameList(wanted, current.metadata.finalizers ?? []) && !dropStamp
            ? O.none
            : O.some({
                metadata: {
                  finalizers: wanted,
                  ...(dropStamp ? { annotations: { [ORGANIZATION_ANNOTATION]: null } } : {}),
                },
              });
        },
      ),
    ),
    RTE.map((u) => u.result),
  );

/** Our finalizer before anything exists in Quay for the namespace; a namespace gone meanwhile is a 404 (retried). */
export const finalizerFirst = (namespace: Namespace, needed: boolean): Effect<Change> =>
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
 * Our finalizer added (and the legacy one dropped) by a strategic merge patch, which merges metadata.finalizers
 * item by item: no resourceVersion lock, so the namespace step and the ServiceAccount steps adding it at once do
 * not meet in a 409 and a re-read. The namespace's uid in the patch keeps it off a namespace made anew under the
 * same name. Refused (422) when the namespace started terminating (it takes no new finalizer) or was made anew:
 * then the locked read-modify-write decides from the namespace as it is.
 */
const addFinalizer = (ns: Namespace): Effect<Written> =>
  pipe(
    patchNamespaceMetadata(ns, 'strategic', {
      finalizers: [NAMESPACE_FINALIZER],
      ...((ns.metadata.finalizers ?? []).includes(LEGACY_NAMESPACE_FINALIZER)
        ? { '$deleteFromPrimitiveList/finalizers': [LEGACY_NAMESPACE_FINALIZER] }
        : {}),
    }),
    RTE.map((answer): Written => ({ result: 'updated', answer })),
    RTE.orElse((e) =>
      e._tag === 'KubeNotFound'
        ? RTE.right<WorkEnv, SyncError, Written>({ result: 'gone' })
        : e._tag === 'KubeRejected' && e.status === 422
          ? pipe(
              lockedFinalizers(ns, 'provision'),
              RTE.map((result): Written => ({ result })),
            )
          : RTE.left(e),
    ),
  );

/** A write's result, and the namespace its one unlocked patch answered (none on the locked path: not remembered). */
interface Written {
  readonly result: UpdateResult;
  readonly answer?: unknown;
}

const setFinalizersAt = (ns: Namespace, change: 'provision' | 'release'): Effect<Written> =>
  change === 'provision'
    ? addFinalizer(ns)
    : pipe(
        lockedFinalizers(ns, change),
        RTE.map((result): Written => ({ result })),
      );

export const setFinalizers = (ns: Namespace, change: 'provision' | 'release'): Effect<UpdateResult> =>
  pipe(
    setFinalizersAt(ns, change),
    RTE.map((w) => w.result),
  );

/**
 * Finalizer, then organization (POSTed with this cluster's mark). `created` when the organization is new; one that
 * exists is proven this cluster's (claimOrganization: its GET, unless the namespace's stamp already says so;
 * adopted if the QuayIntegration names the namespace) or refused as NotOurs. So the stamp written after this holds
 * only for an organization of this cluster, and later steps take it as the proof.
 */
export const provision = (ns: Namespace, org: string, finalizerNeeded: boolean): Effect<Change> =>
  pipe(
    provisionAt(ns, org, finalizerNeeded),
    RTE.map((p) => p.change),
  );

/** provision, with the namespace its finalizer patch answered (when it patched). */
const provisionAt = (
  ns: Namespace,
  org: string,
  finalizerNeeded: boolean,
): Effect<{ readonly change: Change; readonly finalizer: unknown }> =>
  pipe(
    finalizerNeeded
      ? setFinalizersAt(ns, 'provision')
      : RTE.right<WorkEnv, SyncError, Written>({ result: 'unchanged' }),
    RTE.flatMap(({ result: finalizer, answer }) =>
      finalizer === 'gone'
        ? RTE.right<WorkEnv, SyncError, { readonly change: Change; readonly finalizer: unknown }>({
            change: 'unchanged',
            finalizer: undefined,
          })
        : pipe(
            withOwner((owner, quay) => createMarked(owner, quay, org)),
            RTE.flatMap((orgChange) =>
              orgChange === 'created'
                ? RTE.right<WorkEnv, SyncError, Change>(orgChange)
                : claimOrganization(ns, org),
            ),
            RTE.map((orgChange) => ({
              change: orgChange === 'unchanged' && finalizer === 'updated' ? 'updated' : orgChange,
              finalizer: answer,
            })),
          ),
    ),
  );

/**
 * Organization first (a 403 for a missing one counts as gone, in the client), then our finalizers. The namespace is
 * terminating with our finalizer (re-read from the API server): the one proof that its organization is to go, which
 * is deleted only when it carries this cluster's mark (or is adopted). Any other organization is left in Quay and
 * reported, and the namespace is let go all the same.
 */
export const finalize = (ns: Namespace, org: string): Effect<Change> =>
  pipe(
    readOwnership(org),
    RTE.flatMap((ownership) =>
      withOwner((owner, quay) => {
        const claim = claimOf(ownership, org, ns.metadata.name, owner.adopt);
        switch (claim._tag) {
          case 'Create':
            return RTE.right<WorkEnv, SyncError, Change>('unchanged');
          case 'Use':
          case 'Adopt':
            return RTE.fromTaskEither(quay.deleteOrganization(org));
          case 'Refuse':
            return pipe(
              setFinalizers(ns, 'release'),
              RTE.flatMap(() =>
                RTE.left<WorkEnv, SyncError, Change>(
                  notOurs(org, ns.metadata.name, `${claim.why}; it is left in Quay`),
                ),
              ),
            );
        }
      }),
    ),
    RTE.tap(() => setFinalizers(ns, 'release')),
  );

/** What one write of ours does to the namespace, and the namespace its patch answered (undefined: no patch). */
export interface OwnWrite {
  readonly change: (ns: Namespace) => Namespace;
  readonly answer: unknown;
}

/** What the namespace step acts on, and what else a tenant or a controller may have written beside it. */
const content = (ns: Namespace): object => ({
  uid: ns.metadata.uid,
  deletionTimestamp: ns.metadata.deletionTimestamp,
  finalizers: [...new Set(ns.metadata.finalizers ?? [])].sort(),
  labels: ns.metadata.labels ?? {},
  annotations: ns.metadata.annotations ?? {},
  ownerReferences: ns.metadata.ownerReferences ?? [],
  phase: ns.status?.phase,
});

/**
 * The versions our writes left the namespace at, in order, for the step to know their echoes
 * (docs/design.md#own-echoes). Each answer is judged against the namespace before it (the one read, then the answer
 * before) with the write's change made: it is taken only when it shows exactly that. So a version that also shows
 * someone else's write (a label or annotation set in between, a deletion) is never taken: its event is processed.
 * That also covers a write of ours that changed nothing (another step wrote the same finalizer or stamp a moment
 * before), whose answer is the version that other write left: it is taken only if it shows nothing else. An answer
 * showing a deletion, or another uid than the one read, is never taken.
 */
export const versionsWritten = (read: Namespace, writes: readonly OwnWrite[]): readonly Version[] => {
  const taken: Version[] = [];
  let before = read;
  for (const w of writes) {
    if (w.answer === undefined) continue;
    const answer = Namespace.decode(w.answer);
    if (E.isLeft(answer)) break;
    const { uid, resourceVersion, deletionTimestamp } = answer.right.metadata;
    // A Provision never reconciles a namespace being deleted, nor one made anew.
    if (
      uid !== undefined &&
      uid === read.metadata.uid &&
      resourceVersion !== undefined &&
      deletionTimestamp === undefined &&
      isDeepStrictEqual(content(answer.right), content(w.change(before)))
    )
      taken.push({ uid, resourceVersion });
    before = answer.right;
  }
  return taken;
};

const withFinalizer = (ns: Namespace): Namespace => ({
  ...ns,
  metadata: { ...ns.metadata, finalizers: finalizersAfter(ns, 'provision') },
});

const withStamp =
  (stamp: string) =>
  (ns: Namespace): Namespace => ({
    ...ns,
    metadata: {
      ...ns.metadata,
      annotations: { ...ns.metadata.annotations, [ORGANIZATION_ANNOTATION]: stamp },
    },
  });

/** What a plan did, and the versions its writes left the namespace at (none but for a Provision that wrote). */
export interface Applied {
  readonly result: StepResult;
  readonly written: readonly Version[];
}

export const applyNamespacePlan = (plan: NamespacePlan): Effect<StepResult> =>
  pipe(
    applyNamespacePlanAt(plan),
    RTE.map((a) => a.result),
  );

export const applyNamespacePlanAt = (plan: NamespacePlan): Effect<Applied> =>
  plan._tag === 'Provision' && !plan.ensured
    ? pipe(
        RTE.Do,
        RTE.apS(
          'provisioned',
          provisionAt(plan.namespace, plan.org, plan.addFinalizer || plan.dropLegacyFinalizer),
        ),
        RTE.bind('stamped', () => stampOrganizationAt(plan.namespace, plan.stamp, true)),
        RTE.map(({ provisioned, stamped }) => ({
          result: { outcome: strongest([provisioned.change]), reason: `organization ${plan.org}` },
          written: versionsWritten(plan.namespace, [
            { change: withFinalizer, answer: provisioned.finalizer },
            { change: withStamp(plan.stamp), answer: stamped },
          ]),
        })),
      )
    : pipe(
        applyOther(plan),
        RTE.map((result) => ({ result, written: [] })),
      );

const applyOther = (plan: NamespacePlan): Effect<StepResult> => {
  switch (plan._tag) {
    case 'Ignore':
      return RTE.right({ outcome: 'ignored', reason: plan.reason });
    case 'Provision':
      return RTE.right({
        outcome: 'unchanged',
        reason: `organization ${plan.org} (ensured, per the namespace's ${ORGANIZATION_ANNOTATION})`,
      });
    case 'Finalize':
      return pipe(
        finalize(plan.namespace, plan.org),
        RTE.map((change) => ({
          outcome: 'deleted' as const,
          reason: `organization ${plan.org} ${change === 'deleted' ? 'deleted' : 'already gone'}; finalizer removed`,
        })),
      );
    case 'Release':
      return pipe(
        setFinalizers(plan.namespace, 'release'),
        RTE.map((r) => ({
          outcome: r === 'updated' ? ('updated' as const) : ('unchanged' as const),
          reason: `finalizer released, organization left alone: ${plan.reason}`,
        })),
      );
    case 'Refuse':
      return pipe(
        plan.namespace === undefined
          ? RTE.right<WorkEnv, SyncError, UpdateResult>('unchanged')
          : setFinalizers(plan.namespace, 'release'),
        RTE.flatMap(() => RTE.left(invalidName(plan.message))),
      );
  }
};
