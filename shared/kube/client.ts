// The small Kubernetes capability the steps receive (as `KubeEnv`). Objects travel as `unknown` JSON and are
// decoded by the caller with non-exact io-ts codecs, so fields the bridge does not know survive; writes are
// explicit patches (merge, JSON or server-side apply), never a re-encoded object.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type * as t from 'io-ts';
import { formatDecodeError } from '../codec.js';
import type { KubeError } from './errors.js';
import { describeRef, type ObjectRef, type ResourceType } from './resources.js';

export interface JsonPatchOp {
  readonly op: 'add' | 'remove' | 'replace' | 'test';
  readonly path: string;
  readonly value?: unknown;
}

export type Patch =
  /** application/merge-patch+json. Lists are replaced whole: add metadata.resourceVersion to lock. */
  | { readonly type: 'merge'; readonly body: object }
  /**
   * application/strategic-merge-patch+json, for built-in kinds: lists with a merge strategy (metadata.finalizers)
   * take the patch's items beside their own, so adding to them needs no resourceVersion lock.
   */
  | { readonly type: 'strategic'; readonly body: object }
  /** application/json-patch+json. */
  | { readonly type: 'json'; readonly ops: readonly JsonPatchOp[] }
  /** Server-side apply with the bridge's field manager; `force` takes over fields other managers set. */
  | { readonly type: 'apply'; readonly body: object; readonly force: boolean };

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Only each item's `metadata` (a PartialObjectMetadataList: items of kind PartialObjectMetadata). For kinds whose
   * size tenants control (an ImageStream can be ~1.5 MB) when only names are needed: memory stays bounded by the
   * number of objects, not by what their owners put in them.
   */
  readonly metadataOnly?: boolean;
  /**
   * Served from the API server's watch cache as it is (`resourceVersion=0`): fast, but possibly a few writes behind
   * etcd. Without it a list is consistent, and waits until the cache has caught up (docs/design.md#settings-reads).
   */
  readonly fromCache?: boolean;
  /** May be answered by a list an earlier event started after this one arrived (kube/shared-reads.ts). */
  readonly asOfEvent?: boolean;
}

export interface GetOptions {
  /**
   * The object as the event reported it or later: may be answered by a read that started after the event arrived
   * (kube/shared-reads.ts). Without it, the object as it is now: a check made right before acting on it.
   */
  readonly asOfEvent?: boolean;
}

export interface DeleteOptions {
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export interface KubeClient {
  readonly get: (ref: ObjectRef, options?: GetOptions) => TE.TaskEither<KubeError, unknown>;
  /** Every item, following `continue` tokens. */
  readonly list: (type: ResourceType, options?: ListOptions) => TE.TaskEither<KubeError, readonly unknown[]>;
  readonly create: (
    type: ResourceType,
    namespace: string | undefined,
    body: object,
  ) => TE.TaskEither<KubeError, unknown>;
  readonly patch: (ref: ObjectRef, patch: Patch, subresource?: string) => TE.TaskEither<KubeError, unknown>;
  readonly delete: (ref: ObjectRef, options?: DeleteOptions) => TE.TaskEither<KubeError, void>;
  /**
   * Watches one object from `resourceVersion` (that of a read just made) for at most `timeoutMs`: the first later
   * version that `accept` takes, or none when it is deleted, the watch ends or the time runs out. Optional: a
   * client without it makes the caller act as if the time had run out.
   */
  readonly waitFor?: (
    ref: ObjectRef,
    resourceVersion: string,
    accept: (object: unknown) => boolean,
    timeoutMs: number,
  ) => TE.TaskEither<KubeError, O.Option<unknown>>;
  /**
   * Discovery of one group version (`GET /apis/<group>/<version>`): the names of the resources it serves, or none
   * when the cluster does not serve that group version at all.
   */
  readonly discover: (apiVersion: string) => TE.TaskEither<KubeError, O.Option<ReadonlySet<string>>>;
}

export interface KubeEnv {
  readonly kube: KubeClient;
}

const decodeWith =
  <A>(codec: t.Decoder<unknown, A>, what: string) =>
  (u: unknown): E.Either<KubeError, A> =>
    pipe(
      codec.decode(u),
      E.mapLeft((errors) => ({
        _tag: 'KubeResponseInvalid' as const,
        message: `${what} does not decode: ${formatDecodeError(errors)}`,
      })),
    );

/** GET and decode; 404 is `none`. */
export const getOptional = <A>(
  kube: KubeClient,
  codec: t.Decoder<unknown, A>,
  ref: ObjectRef,
  options?: GetOptions,
): TE.TaskEither<KubeError, O.Option<A>> =>
  pipe(
    kube.get(ref, options),
    TE.map(O.some),
    TE.orElse((e) => (e._tag === 'KubeNotFound' ? TE.right(O.none) : TE.left(e))),
    TE.flatMapEither((found) =>
      O.isNone(found)
        ? E.right(O.none)
        : pipe(decodeWith(codec, describeRef(ref))(found.value), E.map(O.some)),
    ),
  );

/** LIST and decode every item; one undecodable item fails the list (it is a bug or a broken CRD, not data). */
export const listDecoded = <A>(
  kube: KubeClient,
  codec: t.Decoder<unknown, A>,
  type: ResourceType,
  options?: ListOptions,
): TE.TaskEither<KubeError, readonly A[]> =>
  pipe(
    kube.list(type, options),
    TE.flatMapEither((items) =>
      pipe(
        items,
        E.traverseArray((item) => decodeWith(codec, `a listed ${type.kind}`)(item)),
      ),
    ),
  );

/**
 * LIST and decode, or none when the cluster does not serve the type (no ImageStreams off OpenShift): for a caller
 * to whom that means "nothing of that kind", never an error.
 */
export const listServed = <A>(
  kube: KubeClient,
  codec: t.Decoder<unknown, A>,
  type: ResourceType,
  options?: ListOptions,
): TE.TaskEither<KubeError, O.Option<readonly A[]>> =>
  pipe(
    listDecoded(kube, codec, type, options),
    TE.map(O.some),
    TE.orElse((e) => (e._tag === 'KubeNotServed' ? TE.right(O.none) : TE.left(e))),
  );

export const decodeObject = decodeWith;
