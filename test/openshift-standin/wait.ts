// Waiting for the world in integration tests: with a deadline, never asserting how long it took.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

/** Polls `probe` until it returns a value (not undefined); fails after `timeoutMs` naming `what`. */
export const eventually = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
};

/**
 * Watches one object (by name, in a collection path) from `resourceVersion` on, collecting every state it takes,
 * until `done` says so; fails after `timeoutMs` with the states seen. Starting from the resourceVersion a create
 * returned, no change is missed.
 */
export const watchObjectUntil = (
  kubeConfig: KubeConfig,
  collectionPath: string,
  name: string,
  resourceVersion: string,
  done: (object: unknown) => boolean,
  timeoutMs = 30_000,
): Promise<unknown[]> =>
  new Promise((resolve, reject) => {
    const seen: unknown[] = [];
    let controller: AbortController | undefined;
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      controller?.abort();
      f();
    };
    const timer = setTimeout(() => {
      settle(() => {
        reject(new Error(`timed out watching ${collectionPath}/${name}; saw ${JSON.stringify(seen)}`));
      });
    }, timeoutMs);
    new Watch(kubeConfig)
      .watch(
        collectionPath,
        { resourceVersion, fieldSelector: `metadata.name=${name}` },
        (type, object: unknown) => {
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          seen.push(object);
          if (done(object)) {
            settle(() => {
              resolve(seen);
            });
          }
        },
        (err: unknown) => {
          settle(() => {
            reject(new Error(`the watch of ${collectionPath}/${name} ended: ${String(err)}`));
          });
        },
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        (e: unknown) => {
          settle(() => {
            reject(e instanceof Error ? e : new Error(String(e)));
          });
        },
      );
  });
