// At most `limit` events worked on at once in a step process; the others wait their turn, first come first served.
// Knative's queue-proxy passes a pod every request it gets (containerConcurrency 0), and a burst is ordinary: the
// ApiServerSource lists every Namespace and ServiceAccount when it starts, so installing into a cluster with
// thousands of namespaces sends thousands of events at once. Unbounded, each one holds its half-done work in memory
// and its own connection to Quay, and the slowest outlive the broker's timeout and come back as retries of work still
// running. Waiting requests cost a socket and a few kilobytes; the autoscaler sees them and adds pods.
export interface Gate {
  readonly run: <A>(task: () => Promise<A>) => Promise<A>;
  /** Tasks waiting for their turn now. */
  readonly waiting: () => number;
}

export const createGate = (limit: number): Gate => {
  const max = Math.max(1, Math.floor(limit));
  let running = 0;
  const queue: (() => void)[] = [];
  const release = (): void => {
    const next = queue.shift();
    if (next === undefined) running -= 1;
    else next(); // the slot passes to the next in line
  };
  return {
    run: async <A>(task: () => Promise<A>): Promise<A> => {
      if (running < max) running += 1;
      else
        await new Promise<void>((resolve) => {
          queue.push(resolve);
        });
      try {
        return await task();
      } finally {
        release();
      }
    },
    waiting: () => queue.length,
  };
};
