// Reads every step starts with: the settings (a NotConfigured kept as data, since some plans act without Quay),
// and the current state of the object the event is about.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type * as t from 'io-ts';
import type { NotConfigured, SyncError } from '../errors.js';
import { getOptional, type KubeClient } from '../kube/client.js';
import { Namespace } from '../kube/objects.js';
import { Resources, type ObjectRef } from '../kube/resources.js';
import { strictJudge } from '../ownership.js';
import type { Settings } from '../settings/quay-integration.js';
import type { Configured, ReportOptions } from '../settings/load.js';
import { eventArrival } from './calls.js';
import type { StepEnv } from './env.js';
import type { Owner, WorkEnv } from './work.js';

/** creationTimestamp has whole seconds; one more for the clocks of this process and the API server to differ. */
const CREATION_SLACK_MS = 2_000;

/**
 * When this process first had an event about a young object, by uid: the object existed then, so settings read
 * after that moment were read after its creation too. Kept only while it is worth more than the creation bound.
 */
const firstSeen = new Map<string, number>();
const FIRST_SEEN_KEPT_MS = 10_000;

/**
 * The settings an event about `object` may use: read after it was created (ReportOptions.readSince), so that a
 * QuayIntegration change made just before it (an allow list widened, then the namespace created) is in them. The
 * creation time is known to whole seconds only, hence the slack; but an object this process already had an event
 * about existed at that event's arrival, and settings read since then will do (the bridge's own writes to an object
 * it just made, its echoes, need no read of their own). Arrival, not the start of its work: in a burst an event may
 * wait in the queue for seconds, and settings read meanwhile will do. No object (a Reference-mode event) or no
 * creation time: the cached settings will do.
 */
export const readSinceCreation = (
  object: O.Option<unknown>,
  now: number = eventArrival()?.wall ?? Date.now(),
): ReportOptions => {
  const meta = O.isSome(object)
    ? (object.value as { metadata?: { creationTimestamp?: unknown; uid?: unknown } }).metadata
    : undefined;
  const stamp = meta?.creationTimestamp;
  const created = typeof stamp === 'string' ? Date.parse(stamp) : NaN;
  if (Number.isNaN(created)) return {};
  const bound = created + CREATION_SLACK_MS;
  const uid = meta?.uid;
  if (typeof uid !== 'string' || uid === '' || bound <= now) return { readSince: bound };
  if (firstSeen.size > 1_000)
    for (const [k, at] of firstSeen) if (now - at > FIRST_SEEN_KEPT_MS) firstSeen.delete(k);
  const seen = firstSeen.get(uid) ?? now;
  firstSeen.set(uid, seen);
  return { readSince: Math.min(bound, seen) };
};

export const loadSettings =
  (
    options: ReportOptions = {},
  ): RTE.ReaderTaskEither<StepEnv, SyncError, E.Either<NotConfigured, Configured>> =>
  (env) =>
    pipe(
      env.settings.configured(options),
      TE.map((c) => E.right<NotConfigured, Configured>(c)),
      TE.orElse((e) => (e._tag === 'NotConfigured' ? TE.right(E.left(e)) : TE.left(e))),
    );

export const reRead =
  <A>(codec: t.Decoder<unknown, A>, ref: ObjectRef): RTE.ReaderTaskEither<StepEnv, SyncError, O.Option<A>> =>
  (env) =>
    getOptional(env.kube, codec, ref, { asOfEvent: true });

// kube-system's UID never changes: read once per API server client.
const clusterUids = new WeakMap<KubeClient, string>();

/** The UID of the kube-system namespace: the cluster's identity (needs `get namespaces kube-system`). */
export const clusterUid = (kube: KubeClient): TE.TaskEither<SyncError, string> => {
  const known = clusterUids.get(kube);
  if (known !== undefined) return TE.right(known);
  return pipe(
    getOptional(kube, Namespace, { type: Resources.Namespace, name: 'kube-system' }),
    TE.mapLeft((e): SyncError => e),
    TE.flatMap((ns) => {
      const uid = O.isSome(ns) ? ns.value.metadata.uid : undefined;
      if (uid === undefined || uid === '')
        return TE.left<SyncError, string>({
          _tag: 'KubeResponseInvalid',
          message: 'the kube-system namespace has no UID: the cluster has no identity to mark Quay with',
        });
      clusterUids.set(kube, uid);
      return TE.right(uid);
    }),
  );
};

/** This bridge's Owner for these settings. */
export const ownerOf =
  (settings: Settings): RTE.ReaderTaskEither<StepEnv, SyncError, Owner> =>
  (env) =>
    pipe(
      clusterUid(env.kube),
      TE.map((uid) => ({
        identity: { uid, clusterID: settings.clusterID },
        adopt: settings.adoptOrganizations,
        registryHost: settings.quay.registryHost,
        judge: env.judge ?? strictJudge,
      })),
    );

export const workEnv = (
  env: StepEnv,
  settings: E.Either<NotConfigured, Configured>,
  owner?: Owner,
): WorkEnv => ({
  kube: env.kube,
  quay: pipe(
    O.fromEither(settings),
    O.map((c) => c.quay),
  ),
  ...(owner === undefined ? {} : { owner }),
});
