// At most `limit` events worked on at once in a step process; the others wait their turn, first come first served.
// Knative's queue-proxy passes a pod every request it gets (containerConcurrency 0), and a burst is ordinary: the
// ApiServerSource lists every Namespace and ServiceAccount when it starts, so installing into a cluster with
// thousands of namespaces sends thousands of events at once. Unbounded, each one holds its half-done work in memory
// and its own connection to Quay, and the slowest outlive the broker's timeout and come back as retries of work still
// running. Waiting requests cost a socket and their request in memory; the step sheds an event (429 with
// Retry-After, retried by the broker) instead of holding it when `maxWaiting` already wait, or when the wait it would
// have, at the pace tasks finish now, is over `maxWaitMs`.
//
// Why a wait in time and not only a count: a shed event comes back only after the broker's back-off (0.5 s, doubling),
// and each shed spends one of its retries (10, then the dead-letter sink). A short queue empties while shed events are
// still backing off, and the process idles with work outstanding; a burst shed again and again runs out of retries
// (bench/burst.ts: with 256 waiting, 1,000 namespaces at once shed 37,000 times and dead-lettered thousands of events).
// A queue that holds `maxWaitMs` of work keeps the process busy across the back-off, and still answers every event
// long before a delivery timeout. In a cluster, containerConcurrency keeps Knative's queue-proxy from sending more
// than the gate takes, and the autoscaler spreads the rest over pods.
export interface Gate {
  readonly run: <A>(task: () => Promise<A>) => Promise<A>;
  /** Tasks waiting for their turn now. */
  readonly waiting: () => number;
  /** True when one more task would wait beyond `maxWaiting` or `maxWaitMs`: shed it rather than hold it. */
  readonly full: () => boolean;
  /** The wait one more task would have, from how long tasks took lately (0 before any finished). */
  readonly expectedWaitMs: () => number;
  /** Tasks worked on at once. */
  readonly limit: number;
}

export interface GateOptions {
  /** Shed when the expected wait is above this; default no bound in time. */
  readonly maxWaitMs?: number;
  readonly now?: () => number;
}

/**
 * Weight of the latest task in the running mean of task durations: about the last 32 tasks, since a step's events
 * mix quick echoes (~0.1 s) with slow first reconciliations (~1 s); a shorter memory followed the echoes and let the
 * queue grow to 90 s of waiting in a 1,000 burst (bench/burst.ts).
 */
const SMOOTHING = 1 / 32;

export const createGate = (
  limit: number,
  maxWaiting = Number.POSITIVE_INFINITY,
  options: GateOptions = {},
): Gate => {
  const max = Math.max(1, Math.floor(limit));
  const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
  const now = options.now ?? (() => performance.now());
  let running = 0;
  let meanMs: number | undefined;
  const queue: (() => void)[] = [];
  const release = (): void => {
    const next = queue.shift();
    if (next === undefined) running -= 1;
    else next(); // the slot passes to the next in line
  };
  const expectedWaitMs = (): number =>
    meanMs === undefined ? 0 : (Math.floor(queue.length / max) + 1) * meanMs;
  return {
    run: async <A>(task: () => Promise<A>): Promise<A> => {
      if (running < max) running += 1;
      else
        await new Promise<void>((resolve) => {
          queue.push(resolve);
        });
      const started = now();
      try {
        return await task();
      } finally {
        const took = now() - started;
        meanMs = meanMs === undefined ? took : meanMs + SMOOTHING * (took - meanMs);
        release();
      }
    },
    waiting: () => queue.length,
    full: () => running >= max && (queue.length >= maxWaiting || expectedWaitMs() > maxWaitMs),
    expectedWaitMs,
    limit: max,
  };
};
