// At most `limit` events worked on at once in a step process; the others wait their turn, first come first served.
// Knative's queue-proxy passes a pod every request it gets (containerConcurrency 0), and a burst is ordinary: the
// ApiServerSource lists every Namespace and ServiceAccount when it starts, so installing into a cluster with
// thousands of namespaces sends thousands of events at once. Unbounded, each one holds its half-done work in memory
// and its own connection to Quay, and the slowest outlive the broker's timeout and come back as retries of work still
// running. Waiting requests cost a socket and their request in memory; past `maxWaiting` the step sheds the event
// (429 with Retry-After, retried by the broker) instead of holding it, so a burst cannot grow the process without
// bound. In a cluster, containerConcurrency keeps Knative's queue-proxy from sending more than the gate takes, and
// the autoscaler spreads the rest over pods.
export interface Gate {
  readonly run: <A>(task: () => Promise<A>) => Promise<A>;
  /** Tasks waiting for their turn now. */
  readonly waiting: () => number;
  /** True when one more task would wait beyond `maxWaiting`: shed it rather than hold it. */
  readonly full: () => boolean;
  /** Tasks worked on at once. */
  readonly limit: number;
}

export const createGate = (limit: number, maxWaiting = Number.POSITIVE_INFINITY): Gate => {
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
    full: () => running >= max && queue.length >= maxWaiting,
    limit: max,
  };
};
