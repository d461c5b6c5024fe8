// Counts the Quay and Kubernetes requests made on behalf of one event, for its log line. The clients are shared
// by concurrent events (keep-alive), so the count lives in AsyncLocalStorage rather than on the client.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CallCounts {
  quay: number;
  kube: number;
}

const storage = new AsyncLocalStorage<CallCounts>();

export const countCall = (target: keyof CallCounts): void => {
  const counts = storage.getStore();
  if (counts !== undefined) counts[target] += 1;
};

/** Runs `f` with a fresh count, and returns its result together with the count. */
export const withCallCounts = async <A>(f: () => Promise<A>): Promise<{ result: A; calls: CallCounts }> => {
  const calls: CallCounts = { quay: 0, kube: 0 };
  const result = await storage.run(calls, f);
  return { result, calls: { ...calls } };
};
