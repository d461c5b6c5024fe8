// Work on one key at a time inside this process: a task for a key starts once the previous task for that key has
// settled; different keys never wait for each other.
//
// Two uses. The Quay client serializes writes Quay does not deduplicate (shared/quay/client.ts). And the steps work
// on the events about one object one at a time (per environment: one per process): the bridge's own writes come back
// as events while the write's event is still being worked on (the namespace's finalizer while its organization is
// made; a robot Secret before its link), and the event that waits re-reads what the first one wrote and finds it
// done, from the cluster alone, instead of racing it to Quay. Other processes are not waited for: what they race is
// still correct (every write is idempotent), only dearer.
import type * as RTE from 'fp-ts/lib/ReaderTaskEither.js';

/** `task(waited)`: `waited` when another task for the key was at work first (what was read before is stale). */
export type KeyedLock = <A>(key: string, task: (waited: boolean) => Promise<A>) => Promise<A>;

export const keyedLock = (): KeyedLock => {
  const tails = new Map<string, Promise<void>>();
  return <A>(key: string, task: (waited: boolean) => Promise<A>): Promise<A> => {
    const previous = tails.get(key);
    const run = (previous ?? Promise.resolve()).then(() => task(previous !== undefined));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
};

/** keyedLock for effects, one lock per environment. */
export const oneAtATime = () => {
  const locksOf = new WeakMap<object, KeyedLock>();
  return <R extends object, E, A>(
      key: string,
      effect: (waited: boolean) => RTE.ReaderTaskEither<R, E, A>,
    ): RTE.ReaderTaskEither<R, E, A> =>
    (env) =>
    () => {
      const lock = locksOf.get(env) ?? keyedLock();
      locksOf.set(env, lock);
      return lock(key, (waited) => effect(waited)(env)());
    };
};
