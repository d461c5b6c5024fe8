// Reads shared by the events that may all use them (docs/design.md#shared-reads). An event reports a change made
// before it was sent, so a read that started after the event reached this process shows that change or a later
// state: every event that had arrived by then may take its answer instead of reading again. In a burst, the three
// ServiceAccounts of a new namespace wait in the queue together and then need the same Namespace: one GET, not three.
// Only reads that ask for it (`asOfEvent`: the level-triggered look at what an event is about) are shared; outside an
// event's work (no arrival known) every read is made. A write through this client to an object (or to its
// collection) ends the sharing of what was read of it before: a step that wrote reads again.
import * as E from 'fp-ts/lib/Either.js';
import type * as TE from 'fp-ts/lib/TaskEither.js';
import { eventArrival } from '../runtime/calls.js';
import type { KubeClient, ListOptions } from './client.js';
import type { KubeError } from './errors.js';
import { collectionPath, objectPath, type ObjectRef, type ResourceType } from './resources.js';

interface Read<A> {
  /** When it started (performance.now()). */
  readonly at: number;
  readonly result: Promise<E.Either<KubeError, A>>;
}

/** A few hundred namespaces' worth of reads in flight or just made; the oldest go first. */
export const SHARED_READS_MAX = 1024;

export interface SharedReadsOptions {
  readonly max?: number;
  readonly now?: () => number;
}

export const sharingReads = (kube: KubeClient, options: SharedReadsOptions = {}): KubeClient => {
  const max = options.max ?? SHARED_READS_MAX;
  const now = options.now ?? (() => performance.now());
  const reads = new Map<string, Read<unknown>>();

  const shared =
    <A>(key: string, read: () => TE.TaskEither<KubeError, A>): TE.TaskEither<KubeError, A> =>
    () => {
      const arrived = eventArrival()?.mono;
      if (arrived === undefined) return read()();
      const known = reads.get(key) as Read<A> | undefined;
      if (known !== undefined && known.at > arrived) return known.result;
      const mine: Read<A> = { at: now(), result: read()() };
      reads.delete(key);
      reads.set(key, mine);
      for (const oldest of reads.keys()) {
        if (reads.size <= max) break;
        reads.delete(oldest);
      }
      // An answer is kept, a 404 included; a failure is not: the next event tries for itself.
      void mine.result.then((r) => {
        if (E.isLeft(r) && r.left._tag !== 'KubeNotFound' && reads.get(key) === mine) reads.delete(key);
      });
      return mine.result;
    };

  const objectKey = (ref: ObjectRef): string => objectPath(ref);
  const listKey = (type: ResourceType, namespace: string | undefined, metadataOnly = false): string =>
    `list ${collectionPath(type, namespace)}${metadataOnly ? ' metadata' : ''}`;
  /** Forgets what was read of the object and of its collection, before the write and again once it is answered. */
  const writing =
    <A>(ref: ObjectRef, write: TE.TaskEither<KubeError, A>): TE.TaskEither<KubeError, A> =>
    async () => {
      const forget = (): void => {
        reads.delete(objectKey(ref));
        for (const namespace of [ref.namespace, undefined])
          for (const metadataOnly of [false, true]) reads.delete(listKey(ref.type, namespace, metadataOnly));
      };
      forget();
      try {
        return await write();
      } finally {
        forget();
      }
    };

  return {
    // Only reads that ask for the object as of the event: a check made right before acting (is the namespace still
    // there, has another event stamped it meanwhile) wants it as it is now, and reads for itself.
    get: (ref, opts) =>
      opts?.asOfEvent === true ? shared(objectKey(ref), () => kube.get(ref, opts)) : kube.get(ref, opts),
    // Likewise for lists, and only without selectors; a consistent list made for what it proves at the moment it
    // starts (shared/sync/robot.ts) does not ask for it.
    list: (type, opts?: ListOptions) =>
      opts?.asOfEvent === true && opts.labelSelector === undefined && opts.fieldSelector === undefined
        ? shared(listKey(type, opts.namespace, opts.metadataOnly), () => kube.list(type, opts))
        : kube.list(type, opts),
    create: (type, namespace, body) => {
      const name = (body as { metadata?: { name?: unknown } }).metadata?.name;
      return typeof name === 'string'
        ? writing(
            { type, ...(namespace === undefined ? {} : { namespace }), name },
            kube.create(type, namespace, body),
          )
        : kube.create(type, namespace, body);
    },
    patch: (ref, patch, subresource) => writing(ref, kube.patch(ref, patch, subresource)),
    delete: (ref, opts) => writing(ref, kube.delete(ref, opts)),
    discover: (apiVersion) => kube.discover(apiVersion),
    ...(kube.waitFor === undefined ? {} : { waitFor: kube.waitFor }),
  };
};
