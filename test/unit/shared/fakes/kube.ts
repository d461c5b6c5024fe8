// An in-memory KubeClient for unit tests: objects by type/namespace/name, resourceVersions, merge patch with the
// resourceVersion precondition (409 on mismatch), server-side apply approximated as a merge, delete preconditions,
// one-shot fault injection, and APIs the cluster does not serve (`unserve`). Every call is recorded.
import * as O from 'fp-ts/lib/Option.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { KubeClient, Patch } from '../../../../shared/kube/client.js';
import type { KubeError } from '../../../../shared/kube/errors.js';
import { Resources, type ObjectRef, type ResourceType } from '../../../../shared/kube/resources.js';
import { countCall } from '../../../../shared/runtime/calls.js';

type Obj = Record<string, unknown> & {
  metadata: Record<string, unknown> & { name: string; namespace?: string };
};

export interface FakeKube extends KubeClient {
  readonly calls: string[];
  /** Stores (or replaces) an object as is, with a fresh resourceVersion and uid unless given. */
  readonly put: (type: ResourceType, obj: Record<string, unknown>) => Obj;
  readonly read: (type: ResourceType, namespace: string | undefined, name: string) => Obj | undefined;
  readonly all: (type: ResourceType) => Obj[];
  readonly remove: (type: ResourceType, namespace: string | undefined, name: string) => void;
  /** The next call whose description starts with `prefix` (e.g. "patch ServiceAccount") fails with `error`. */
  readonly failNext: (prefix: string, error: KubeError) => void;
  /**
   * From now on the cluster does not serve this group version (e.g. `image.openshift.io/v1`): its requests answer
   * as the API server's "404 page not found" does, and discovery finds nothing; `serve` undoes it.
   */
  readonly unserve: (apiVersion: string) => void;
  readonly serve: (apiVersion: string) => void;
  /** Lists from the watch cache (`fromCache`) do not see this object yet (the cache is a few writes behind). */
  readonly behindCache: (type: ResourceType, namespace: string | undefined, name: string) => void;
  /** Called before a patch is applied, e.g. to make a concurrent write. */
  onPatch?: (ref: ObjectRef) => void;
}

const clone = <A>(a: A): A => structuredClone(a);

const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const base =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? (target as Record<string, unknown>)
      : {};
  const changes = patch as Record<string, unknown>;
  const keys = new Set([...Object.keys(base), ...Object.keys(changes)]);
  return Object.fromEntries(
    [...keys].flatMap((k): [string, unknown][] => {
      if (!(k in changes)) return [[k, base[k]]];
      const v = changes[k];
      return v === null ? [] : [[k, mergePatch(base[k], v)]];
    }),
  );
};

const lazy =
  <A>(f: () => TE.TaskEither<KubeError, A>): TE.TaskEither<KubeError, A> =>
  () =>
    f()();

export const fakeKube = (): FakeKube => {
  const store = new Map<string, Obj>();
  const calls: string[] = [];
  const faults: { prefix: string; error: KubeError }[] = [];
  const unserved = new Set<string>();
  const uncached = new Set<string>();
  let rv = 100;
  let uid = 1;
  const key = (type: ResourceType, namespace: string | undefined, name: string) =>
    `${type.kind}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
  const record = (what: string, type?: ResourceType): KubeError | undefined => {
    calls.push(what);
    countCall('kube');
    if (type !== undefined && unserved.has(type.apiVersion))
      return {
        _tag: 'KubeNotServed',
        message: `${what}: the cluster does not serve this API (404 page not found)`,
      };
    const i = faults.findIndex((f) => what.startsWith(f.prefix));
    if (i < 0) return undefined;
    const [f] = faults.splice(i, 1);
    return f?.error;
  };
  const notFound = (what: string): KubeError => ({ _tag: 'KubeNotFound', message: `${what} not found` });
  const stamp = (o: Obj): Obj => {
    o.metadata.resourceVersion = String(++rv);
    return o;
  };
  const self: FakeKube = {
    calls,
    put: (type, obj) => {
      const o = clone(obj) as Obj;
      o.metadata.uid ??= `uid-${uid++}`;
      o.apiVersion ??= type.apiVersion;
      o.kind ??= type.kind;
      stamp(o);
      store.set(key(type, o.metadata.namespace, o.metadata.name), o);
      return clone(o);
    },
    read: (type, ns, name) => {
      const o = store.get(key(type, ns, name));
      return o === undefined ? undefined : clone(o);
    },
    all: (type) =>
      [...store.entries()].filter(([k]) => k.startsWith(`${type.kind}/`)).map(([, o]) => clone(o)),
    remove: (type, ns, name) => {
      store.delete(key(type, ns, name));
    },
    failNext: (prefix, error) => {
      faults.push({ prefix, error });
    },
    unserve: (apiVersion) => {
      unserved.add(apiVersion);
    },
    behindCache: (type, ns, name) => {
      uncached.add(key(type, ns, name));
    },
    serve: (apiVersion) => {
      unserved.delete(apiVersion);
    },
    discover: (apiVersion) =>
      lazy(() => {
        const fault = record(`discover ${apiVersion}`);
        if (fault !== undefined) return TE.left(fault);
        if (unserved.has(apiVersion)) return TE.right(O.none);
        return TE.right(
          O.some(
            new Set(
              Object.values(Resources)
                .filter((r) => r.apiVersion === apiVersion)
                .map((r) => r.plural),
            ),
          ),
        );
      }),
    get: (ref) =>
      lazy(() => {
        const what = `get ${ref.type.kind} ${ref.namespace ?? ''}/${ref.name}`;
        const fault = record(what, ref.type);
        if (fault !== undefined) return TE.left(fault);
        const o = store.get(key(ref.type, ref.namespace, ref.name));
        return o === undefined ? TE.left(notFound(what)) : TE.right(clone(o));
      }),
    list: (type, options = {}) =>
      lazy(() => {
        const fault = record(
          `list ${type.kind} ${options.namespace ?? '*'}${options.fromCache === true ? ' (from cache)' : ''}`,
          type,
        );
        if (fault !== undefined) return TE.left(fault);
        return TE.right(
          self
            .all(type)
            .filter((o) => options.namespace === undefined || o.metadata.namespace === options.namespace)
            .filter(
              (o) =>
                options.fromCache !== true || !uncached.has(key(type, o.metadata.namespace, o.metadata.name)),
            ),
        );
      }),
    create: (type, namespace, body) =>
      lazy(() => {
        const b = body as Obj;
        const what = `create ${type.kind} ${namespace ?? ''}/${b.metadata.name}`;
        const fault = record(what, type);
        if (fault !== undefined) return TE.left(fault);
        if (store.has(key(type, namespace, b.metadata.name)))
          return TE.left({ _tag: 'KubeConflict', message: `${what}: already exists` });
        return TE.right(
          self.put(type, {
            ...b,
            metadata: { ...b.metadata, ...(namespace === undefined ? {} : { namespace }) },
          }),
        );
      }),
    patch: (ref, patch: Patch, subresource) =>
      lazy(() => {
        const what = `patch ${ref.type.kind} ${ref.namespace ?? ''}/${ref.name}${subresource === undefined ? '' : `/${subresource}`} ${patch.type}`;
        const fault = record(what, ref.type);
        if (fault !== undefined) return TE.left(fault);
        self.onPatch?.(ref);
        const k = key(ref.type, ref.namespace, ref.name);
        const current = store.get(k);
        if (patch.type === 'json')
          return TE.left({ _tag: 'KubeRejected', status: 415, message: 'json patch not faked' });
        const body = clone(patch.body) as Omit<Obj, 'metadata'> & { metadata?: Obj['metadata'] };
        if (current === undefined) {
          if (patch.type !== 'apply') return TE.left(notFound(what));
          return TE.right(self.put(ref.type, body));
        }
        if (patch.type === 'strategic') {
          // metadata.finalizers has the merge strategy: the patch's items are added to the stored ones, and
          // `$deleteFromPrimitiveList/finalizers` removes items; a uid in the patch must be the object's, and an
          // object being deleted takes no new finalizer (both 422, as the API server answers).
          const meta = (body.metadata ?? {}) as Record<string, unknown>;
          const rejected = (message: string) =>
            TE.left<KubeError>({ _tag: 'KubeRejected', status: 422, message: `${what}: ${message}` });
          if (meta.uid !== undefined && meta.uid !== current.metadata.uid)
            return rejected('metadata.uid: field is immutable');
          const stored = (current.metadata.finalizers ?? []) as string[];
          const added = ((meta.finalizers ?? []) as string[]).filter((f) => !stored.includes(f));
          if (added.length > 0 && current.metadata.deletionTimestamp !== undefined)
            return rejected('no new finalizers can be added if the object is being deleted');
          const removed = (meta['$deleteFromPrimitiveList/finalizers'] ?? []) as string[];
          delete meta['$deleteFromPrimitiveList/finalizers'];
          if (meta.finalizers !== undefined || removed.length > 0)
            meta.finalizers = [...stored, ...added].filter((f) => !removed.includes(f));
        }
        const wantedRv = body.metadata?.resourceVersion;
        if (wantedRv !== undefined && wantedRv !== current.metadata.resourceVersion)
          return TE.left({ _tag: 'KubeConflict', message: `${what}: the object has been modified` });
        if (body.metadata !== undefined) delete body.metadata.resourceVersion;
        const next = stamp(mergePatch(current, body) as Obj);
        store.set(k, next);
        return TE.right(clone(next));
      }),
    delete: (ref, options = {}) =>
      lazy(() => {
        const what = `delete ${ref.type.kind} ${ref.namespace ?? ''}/${ref.name}`;
        const fault = record(what, ref.type);
        if (fault !== undefined) return TE.left(fault);
        const k = key(ref.type, ref.namespace, ref.name);
        const current = store.get(k);
        if (current === undefined) return TE.left(notFound(what));
        if (options.preconditions?.uid !== undefined && options.preconditions.uid !== current.metadata.uid)
          return TE.left({ _tag: 'KubeConflict', message: `${what}: uid precondition failed` });
        store.delete(k);
        return TE.right(undefined);
      }),
  };
  return self;
};
