// What one event's work knows about itself, wherever it is: the Quay and Kubernetes requests made on its behalf (for
// its log line) and when it arrived (reads started after that moment show what its event reported: observe.ts,
// kube/shared-reads.ts). The clients are shared by concurrent events (keep-alive), so this lives in
// AsyncLocalStorage rather than on the client.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CallCounts {
  quay: number;
  kube: number;
}

/** When the event reached this process: on the wall clock (epoch ms) and on the monotonic one (performance.now()). */
export interface Arrival {
  readonly wall: number;
  readonly mono: number;
}

interface EventContext {
  readonly calls: CallCounts;
  readonly arrival: Arrival | undefined;
}

const storage = new AsyncLocalStorage<EventContext>();

export const countCall = (target: keyof CallCounts): void => {
  const context = storage.getStore();
  if (context !== undefined) context.calls[target] += 1;
};

/** When the event whose work is running arrived; none outside an event's work. */
export const eventArrival = (): Arrival | undefined => storage.getStore()?.arrival;

/** Runs `f` with a fresh count (and the event's arrival), and returns its result together with the count. */
export const withCallCounts = async <A>(
  f: () => Promise<A>,
  arrival?: Arrival,
): Promise<{ result: A; calls: CallCounts }> => {
  const calls: CallCounts = { quay: 0, kube: 0 };
  const result = await storage.run({ calls, arrival }, f);
  return { result, calls: { ...calls } };
};
