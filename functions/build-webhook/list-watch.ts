// A minimal informer: list once, then watch from the list's resourceVersion, keeping every object in memory;
// re-watch when the server ends a watch, re-list on 410 Gone, back off on errors. client-node's ListWatch stops
// for good on the first error and cannot pass a field selector to its list, hence this one.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.js';

export interface Listed<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
}

export interface KubeObjectLike {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
}

export interface ListWatchOptions<T extends KubeObjectLike> {
  readonly kubeConfig: KubeConfig;
  /** Collection path, e.g. `/api/v1/secrets`. */
  readonly path: string;
  /** Selectors, passed to both the list and the watch. */
  readonly query: Readonly<Record<string, string>>;
  readonly list: () => Promise<Listed<unknown>>;
  /** What is kept of each object (e.g. only the metadata of a Secret: its data never stays in memory). */
  readonly keep: (raw: unknown) => T;
  /** After every change to the store (and after each list). */
  readonly onChange: () => void;
  readonly log: Logger;
  /** For logs, e.g. `QuayIntegrations`. */
  readonly what: string;
  /** Server-side watch timeout; a silently dead connection is noticed within it. Default 300 s. */
  readonly watchTimeoutSeconds?: number;
}

export interface Informer<T> {
  readonly items: () => readonly T[];
  readonly get: (namespace: string, name: string) => T | undefined;
  /** True once a list has succeeded (it stays true while a later watch is being re-established). */
  readonly synced: () => boolean;
  /** Resolves after the first successful list. */
  readonly firstSync: Promise<void>;
  readonly stop: () => void;
}

const keyOf = (o: KubeObjectLike): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export const startInformer = <T extends KubeObjectLike>(o: ListWatchOptions<T>): Informer<T> => {
  const store = new Map<string, T>();
  const watch = new Watch(o.kubeConfig);
  let resourceVersion = '';
  let synced = false;
  let stopped = false;
  let failures = 0;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let resolveSync = (): void => undefined;
  const firstSync = new Promise<void>((resolve) => {
    resolveSync = resolve;
  });

  const isStopped = (): boolean => stopped;
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, ms);
  };
  const backoff = (): number => Math.min(30_000, 250 * 2 ** Math.min(failures, 7));

  const failed = (e: unknown, during: string): void => {
    failures += 1;
    const status = (e as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode;
    if (status === 410) resourceVersion = '';
    o.log.warn(`${o.what}: ${during} failed`, {
      error: e instanceof Error ? e.message : String(e),
      retryInMs: backoff(),
    });
    schedule(backoff());
  };

  const onEvent = (type: string, obj: unknown): void => {
    if (type === 'ERROR') {
      // 410 Gone: the resourceVersion is too old; the server closes the watch and the next run re-lists.
      if ((obj as { code?: unknown } | null)?.code === 410) resourceVersion = '';
      return;
    }
    const object = o.keep(obj);
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        store.set(keyOf(object), object);
        break;
      case 'DELETED':
        store.delete(keyOf(object));
        break;
      case 'BOOKMARK':
        break;
      default:
        return;
    }
    resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
    if (type !== 'BOOKMARK') o.onChange();
  };

  const run = async (): Promise<void> => {
    if (stopped) return;
    try {
      if (resourceVersion === '') {
        const listed = await o.list();
        // stop() may have been called while the list was under way.
        if (isStopped()) return;
        store.clear();
        for (const raw of listed.items) {
          const item = o.keep(raw);
          store.set(keyOf(item), item);
        }
        resourceVersion = listed.resourceVersion;
        synced = true;
        resolveSync();
        o.onChange();
      }
    } catch (e) {
      failed(e, 'list');
      return;
    }
    try {
      const started = Date.now();
      abort = await watch.watch(
        o.path,
        {
          ...o.query,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: o.watchTimeoutSeconds ?? 300,
        },
        onEvent,
        (err: unknown) => {
          abort = undefined;
          if (stopped) return;
          if (err !== null && err !== undefined && (err as { name?: unknown }).name !== 'AbortError') {
            failed(err, 'watch');
            return;
          }
          // A watch that ends at once again and again (e.g. a proxy cutting it) must not spin.
          failures = Date.now() - started < 1000 ? failures + 1 : 0;
          schedule(failures === 0 ? 0 : backoff());
        },
      );
      if (isStopped()) abort.abort();
    } catch (e) {
      failed(e, 'watch');
    }
  };

  void run();

  return {
    items: () => [...store.values()],
    get: (namespace, name) => store.get(`${namespace}/${name}`),
    synced: () => synced,
    firstSync,
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      abort?.abort();
    },
  };
};
