// Work on one key at a time inside this process: a task for a key starts once the previous task for that key has
// settled. Different keys never wait for each other. Used to serialize writes Quay does not deduplicate.

export type KeyedLock = <A>(key: string, task: () => Promise<A>) => Promise<A>;

export const keyedLock = (): KeyedLock => {
  const tails = new Map<string, Promise<void>>();
  return <A>(key: string, task: () => Promise<A>): Promise<A> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
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
