// Events about one object, worked on one at a time in a step process (per environment: one per process). The bridge's
// own writes come back as events while the write's event is still being worked on (the namespace's finalizer while
// its organization is made; a robot Secret before its link): the event that waits re-reads what the first one wrote
// and finds it done, from the cluster alone, instead of racing it to Quay. Other processes are not waited for: what
// they race is still correct (every write is idempotent), only dearer.
import type * as RTE from 'fp-ts/lib/ReaderTaskEither.js';

export const oneAtATime = () => {
  const tailsOf = new WeakMap<object, Map<string, Promise<void>>>();
  /** `effect(waited)`: `waited` when another event about the key was at work first (what was read before is stale). */
  return <R extends object, E, A>(
      key: string,
      effect: (waited: boolean) => RTE.ReaderTaskEither<R, E, A>,
    ): RTE.ReaderTaskEither<R, E, A> =>
    (env) =>
    () => {
      const tails = tailsOf.get(env) ?? new Map<string, Promise<void>>();
      tailsOf.set(env, tails);
      const previous = tails.get(key);
      const run = (previous ?? Promise.resolve()).then(() => effect(previous !== undefined)(env)());
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
