// List, then watch from the list's resourceVersion, forever: the informer pattern without a cache. A watch that
// ends (server timeout, dropped connection) resumes from the last resourceVersion seen; a watch the server
// answers with 410 Gone (that version was compacted) starts over with a fresh list; failures back off
// exponentially. Every object listed or watched is handed to `onObject`, which should only enqueue work.
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { describeAnswer, type KubeHttp } from './kube-http.js';

export type WatchEventType = 'LISTED' | 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchLoopOptions {
  readonly kubeConfig: KubeConfig;
  readonly http: KubeHttp;
  /** A collection path, e.g. `/apis/build.openshift.io/v1/builds`. */
  readonly path: string;
  readonly onObject: (type: WatchEventType, object: unknown) => void;
  readonly onError: (error: unknown) => void;
}

type WatchEnd =
  | { readonly kind: 'closed'; readonly resourceVersion: string }
  | { readonly kind: 'gone' }
  | { readonly kind: 'failed'; readonly resourceVersion: string; readonly error: unknown };

const resourceVersionOf = (o: unknown): string | undefined => {
  if (typeof o !== 'object' || o === null || !('metadata' in o)) return undefined;
  const m = o.metadata;
  if (typeof m !== 'object' || m === null || !('resourceVersion' in m)) return undefined;
  return typeof m.resourceVersion === 'string' ? m.resourceVersion : undefined;
};

const isWatchEventType = (t: string): t is 'ADDED' | 'MODIFIED' | 'DELETED' =>
  t === 'ADDED' || t === 'MODIFIED' || t === 'DELETED';

export class WatchLoop {
  private readonly abort = new AbortController();
  private current: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: WatchLoopOptions) {}

  /** Starts the loop; resolves once the first list has been handed over. */
  start(): Promise<void> {
    return new Promise<void>((synced) => {
      this.loop = this.run(synced);
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.current?.abort();
    await this.loop;
  }

  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.abort.signal }).catch(() => undefined);
  }

  private async run(synced: () => void): Promise<void> {
    let backoff = 100;
    const failed = async (e: unknown): Promise<void> => {
      if (this.stopped()) return;
      this.opts.onError(e);
      await this.pause(backoff);
      backoff = Math.min(backoff * 2, 5_000);
    };
    while (!this.stopped()) {
      let resourceVersion: string;
      try {
        const list = await this.opts.http.get(this.opts.path);
        if (list.status === 429) {
          // The API server's own "retry later", e.g. while a new CRD's storage initializes: not a failure.
          await this.pause(backoff);
          backoff = Math.min(backoff * 2, 5_000);
          continue;
        }
        if (list.status !== 200) throw new Error(`list ${this.opts.path}: ${describeAnswer(list)}`);
        const body = list.body as { metadata?: { resourceVersion?: string }; items?: unknown[] };
        for (const item of body.items ?? []) this.opts.onObject('LISTED', item);
        resourceVersion = body.metadata?.resourceVersion ?? '';
        synced();
      } catch (e) {
        await failed(e);
        continue;
      }
      for (;;) {
        if (this.stopped()) return;
        const end = await this.watchOnce(resourceVersion);
        if (end.kind === 'gone') break;
        resourceVersion = end.resourceVersion;
        if (end.kind === 'failed') await failed(end.error);
        else backoff = 100;
      }
    }
  }

  private watchOnce(from: string): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let last = from;
      let gone = false;
      let eventError: unknown;
      const onEvent = (type: string, object: unknown): void => {
        if (type === 'ERROR') {
          const code = (object as { code?: number } | null)?.code;
          if (code === 410) gone = true;
          else eventError = new Error(`watch ${this.opts.path}: ${JSON.stringify(object)}`);
          return;
        }
        last = resourceVersionOf(object) ?? last;
        if (isWatchEventType(type)) this.opts.onObject(type, object);
      };
      const onDone = (err: unknown): void => {
        this.current = undefined;
        if (gone) resolve({ kind: 'gone' });
        else if (err !== null && err !== undefined)
          resolve({ kind: 'failed', resourceVersion: last, error: err });
        else if (eventError !== undefined)
          resolve({ kind: 'failed', resourceVersion: last, error: eventError });
        else resolve({ kind: 'closed', resourceVersion: last });
      };
      new Watch(this.opts.kubeConfig)
        .watch(
          this.opts.path,
          { resourceVersion: from, allowWatchBookmarks: true, timeoutSeconds: 240 },
          onEvent,
          onDone,
        )
        .then(
          (controller) => {
            this.current = controller;
            if (this.stopped()) controller.abort();
          },
          (e: unknown) => {
            onDone(e);
          },
        );
    });
  }
}
