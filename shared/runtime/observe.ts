// Reads every step starts with: the settings (a NotConfigured kept as data, since some plans act without Quay),
// and the current state of the object the event is about.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type * as t from 'io-ts';
import type { NotConfigured, SyncError } from '../errors.js';
import { getOptional } from '../kube/client.js';
import type { ObjectRef } from '../kube/resources.js';
import type { Configured, ReportOptions } from '../settings/load.js';
import type { StepEnv } from './env.js';
import type { WorkEnv } from './work.js';

/** creationTimestamp has whole seconds; one more for the clocks of this process and the API server to differ. */
const CREATION_SLACK_MS = 2_000;

/**
 * The settings an event about `object` may use: read after it was created (ReportOptions.readSince), so that a
 * QuayIntegration change made just before it (an allow list widened, then the namespace created) is in them. No
 * object (a Reference-mode event) or no creation time: the cached settings will do.
 */
export const readSinceCreation = (object: O.Option<unknown>): ReportOptions => {
  const meta = O.isSome(object)
    ? (object.value as { metadata?: { creationTimestamp?: unknown } }).metadata
    : undefined;
  const stamp = meta?.creationTimestamp;
  const created = typeof stamp === 'string' ? Date.parse(stamp) : NaN;
  return Number.isNaN(created) ? {} : { readSince: created + CREATION_SLACK_MS };
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
    getOptional(env.kube, codec, ref);

export const workEnv = (env: StepEnv, settings: E.Either<NotConfigured, Configured>): WorkEnv => ({
  kube: env.kube,
  quay: pipe(
    O.fromEither(settings),
    O.map((c) => c.quay),
  ),
});
