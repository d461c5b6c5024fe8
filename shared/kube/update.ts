// Read-modify-write for the list fields that merge patch replaces whole (metadata.finalizers, a ServiceAccount's
// secrets and imagePullSecrets): the patch carries the resourceVersion it was computed from, so the API server
// refuses it with 409 if anyone wrote in between, and then it is computed again from a fresh read.
import * as O from 'fp-ts/lib/Option.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type * as t from 'io-ts';
import { getOptional, type KubeClient } from './client.js';
import type { KubeError } from './errors.js';
import type { ObjectRef } from './resources.js';

export type UpdateResult = 'unchanged' | 'updated' | 'gone';

/** What the update did, and the resourceVersion it left the object at (its patch's answer, else the one read). */
export interface VersionedUpdate {
  readonly result: UpdateResult;
  /** undefined when the object is gone (or an answer carried none). */
  readonly resourceVersion: string | undefined;
}

interface Versioned {
  readonly metadata: { readonly resourceVersion?: string | undefined };
}

/** The resourceVersion of an API server's answer (the patched object), read leniently. */
const versionOf = (answer: unknown): string | undefined => {
  const rv = (answer as { metadata?: { resourceVersion?: unknown } } | null | undefined)?.metadata
    ?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
};

/** The update's result, with the resourceVersion the object was left at. */
export const updateWithRetryAt = <A extends Versioned>(
  kube: KubeClient,
  ref: ObjectRef,
  codec: t.Decoder<unknown, A>,
  initial: A | undefined,
  change: (current: A) => O.Option<Record<string, unknown>>,
  attempts = 4,
): TE.TaskEither<KubeError, VersionedUpdate> => {
  const gone: VersionedUpdate = { result: 'gone', resourceVersion: undefined };
  const attempt = (current: O.Option<A>, left: number): TE.TaskEither<KubeError, VersionedUpdate> => {
    if (O.isNone(current)) return TE.right(gone);
    const body = change(current.value);
    if (O.isNone(body))
      return TE.right({ result: 'unchanged', resourceVersion: current.value.metadata.resourceVersion });
    const metadata = (body.value.metadata ?? {}) as Record<string, unknown>;
    return pipe(
      kube.patch(ref, {
        type: 'merge',
        body: {
          ...body.value,
          metadata: { ...metadata, resourceVersion: current.value.metadata.resourceVersion },
        },
      }),
      TE.map((answer): VersionedUpdate => ({ result: 'updated', resourceVersion: versionOf(answer) })),
      TE.orElse((e) => {
        if (e._tag === 'KubeNotFound') return TE.right<KubeError, VersionedUpdate>(gone);
        if (e._tag === 'KubeConflict' && left > 1)
          return pipe(
            getOptional(kube, codec, ref),
            TE.flatMap((fresh) => attempt(fresh, left - 1)),
          );
        return TE.left(e);
      }),
    );
  };
  return initial === undefined
    ? pipe(
        getOptional(kube, codec, ref),
        TE.flatMap((fresh) => attempt(fresh, attempts)),
      )
    : attempt(O.some(initial), attempts);
};
