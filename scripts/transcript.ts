// What `npm start` shows besides one line per event handled: the Kubernetes Events the bridge records (as
// `kubectl describe` would show them, a repeat as its series count), and every 30 s one line summing up the work
// so far (events handled, Quay calls, errors), printed only when something happened since the last one.
import { KubeConfig } from '@kubernetes/client-node';
import { kubeRest, type KubeRest } from '../test/event-path/kube-rest.js';

export interface Totals {
  events: number;
  quayCalls: number;
  errors: number;
  kubeEvents: number;
}

/** Counts one log line of a step (one JSON object per line; "event handled" lines carry the counts). */
export const noteLogLine = (totals: Totals, line: string): void => {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  if (entry.msg !== 'event handled') return;
  totals.events += 1;
  if (typeof entry.quayCalls === 'number') totals.quayCalls += entry.quayCalls;
  if (typeof entry.status === 'number' && entry.status >= 500) totals.errors += 1;
};

export const summaryLine = (t: Totals, seconds: number): string =>
  `-- after ${String(Math.round(seconds))} s: ${String(t.events)} events handled, ${String(t.quayCalls)} Quay calls, ` +
  `${String(t.errors)} errors (5xx answers, retried), ${String(t.kubeEvents)} Kubernetes Events recorded`;

interface KubeEvent {
  readonly metadata?: { readonly uid?: string };
  readonly reportingController?: string;
  readonly type?: string;
  readonly reason?: string;
  readonly note?: string;
  readonly regarding?: { readonly kind?: string; readonly namespace?: string; readonly name?: string };
  readonly series?: { readonly count?: number };
}

/**
 * The lines for the bridge's Events not seen before (`seen`: uid → occurrences shown), updating `seen`: a new
 * Event, or a repeat counted in its series.
 */
export const newEventLines = (items: readonly KubeEvent[], seen: Map<string, number>): string[] =>
  items.flatMap((e) => {
    const uid = e.metadata?.uid;
    if (e.reportingController !== 'quay-bridge' || uid === undefined) return [];
    const count = e.series?.count ?? 1;
    if ((seen.get(uid) ?? 0) >= count) return [];
    seen.set(uid, count);
    const r = e.regarding ?? {};
    const object = [r.namespace, r.name].filter((s) => s !== undefined && s !== '').join('/');
    const times = count > 1 ? ` (x${String(count)})` : '';
    return [
      `${'event'.padEnd(16)} ${(r.kind ?? '').padEnd(15)} ${object.padEnd(30)} ${e.type ?? ''} ${e.reason ?? ''}: ${e.note ?? ''}${times}`,
    ];
  });

/**
 * Starts the Events poll (every second, through `rest`) and the summary timer; returns the function that stops
 * both. `totals` is fed by the log follower (noteLogLine).
 */
export const startTranscript = (
  rest: KubeRest | undefined,
  totals: Totals,
  say: (line: string) => void,
  summaryEveryMs = 30_000,
): (() => void) => {
  const started = Date.now();
  const seen = new Map<string, number>();
  let polling = false;
  let warned = false;
  const poll = async (): Promise<void> => {
    if (rest === undefined || polling) return;
    polling = true;
    try {
      const a = await rest.request('GET', '/apis/events.k8s.io/v1/events');
      if (a.status !== 200) {
        if (!warned) say(`(Events not shown: listing them answered HTTP ${String(a.status)})`);
        warned = true;
        return;
      }
      const lines = newEventLines((a.json as { items?: KubeEvent[] }).items ?? [], seen);
      totals.kubeEvents = [...seen.values()].reduce((n, c) => n + c, 0);
      for (const l of lines) say(l);
    } catch {
      // The API server going away at Ctrl-C is no news.
    } finally {
      polling = false;
    }
  };
  let last = '';
  const events = setInterval(() => void poll(), 1_000);
  const summary = setInterval(() => {
    const key = JSON.stringify(totals);
    if (key === last) return;
    last = key;
    say(summaryLine(totals, (Date.now() - started) / 1000));
  }, summaryEveryMs);
  return () => {
    clearInterval(events);
    clearInterval(summary);
  };
};

/** The log follower `unfollow` plus Events and summaries from the cluster of `kubeconfigPath`; stops all three. */
export const transcribe = (
  unfollow: () => void,
  kubeconfigPath: string,
  totals: Totals,
  say: (line: string) => void,
): (() => void) => {
  let stop = (): void => undefined;
  let stopped = false;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  void kubeRest(kc).then(
    (rest) => {
      if (!stopped) stop = startTranscript(rest, totals, say);
    },
    () => {
      if (!stopped) stop = startTranscript(undefined, totals, say);
    },
  );
  return () => {
    stopped = true;
    stop();
    unfollow();
  };
};
