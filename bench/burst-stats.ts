// Where a burst's time goes: what the dispatcher saw (per step: events, attempts, answers, requests open on the step
// at once, when the last answer came) and what the steps logged (time waiting at the gate, time handling, Quay calls,
// errors that sent an event back to the broker). Counts first; times are on a shared machine.
import type { StepName } from '../functions/index.js';
import type { Attempt, DeliveryPolicy, DeliveryResult, Transport } from '../test/support/delivery.js';

/**
 * The Triggers' delivery (eventing/triggers.yaml) as Knative's dispatcher applies it: 10 retries, 0.5 s doubling
 * with no ceiling (backoffMax is an alpha feature, off by default; Retry-After is not honoured either), so about
 * 8.5 minutes before the dead-letter sink (docs/design.md#event-delivery). A shed event comes back that late.
 */
export const TRIGGER_DELIVERY: DeliveryPolicy = {
  retry: 10,
  backoffMs: 500,
  maxBackoffMs: Number.POSITIVE_INFINITY,
};

interface StepStats {
  events: number;
  attempts: number;
  statuses: Map<string, number>;
  open: number;
  maxOpen: number;
}

export interface Watched {
  readonly started: number;
  readonly lastAnswer: number;
  readonly steps: ReadonlyMap<StepName, StepStats>;
  /** [seconds since start, requests open per step], once a second. */
  readonly timeline: readonly (readonly [number, Readonly<Record<string, number>>])[];
}

/** Wraps a transport to count, per step, attempts, answers and how many requests are open at once. */
export const instrument = (
  inner: Transport,
): { transport: Transport; start: () => void; stats: () => Watched } => {
  const steps = new Map<StepName, StepStats>();
  const seen = new Set<string>();
  let started = performance.now();
  let lastAnswer = started;
  const timeline: [number, Record<string, number>][] = [];
  let timer: NodeJS.Timeout | undefined;
  const of = (step: StepName): StepStats => {
    let s = steps.get(step);
    if (s === undefined) {
      s = { events: 0, attempts: 0, statuses: new Map(), open: 0, maxOpen: 0 };
      steps.set(step, s);
    }
    return s;
  };
  const transport: Transport = async (step, event) => {
    const s = of(step);
    const key = `${step} ${event.id}`;
    if (!seen.has(key)) {
      seen.add(key);
      s.events += 1;
    }
    s.attempts += 1;
    s.open += 1;
    s.maxOpen = Math.max(s.maxOpen, s.open);
    let a: Attempt = { status: undefined };
    try {
      a = await inner(step, event);
      return a;
    } finally {
      s.open -= 1;
      const k = String(a.status ?? 'no answer');
      s.statuses.set(k, (s.statuses.get(k) ?? 0) + 1);
      lastAnswer = performance.now();
    }
  };
  return {
    transport,
    start: () => {
      started = performance.now();
      timer = setInterval(() => {
        timeline.push([
          Math.round((performance.now() - started) / 1000),
          Object.fromEntries([...steps].map(([k, v]) => [k, v.open])),
        ]);
      }, 1000);
      timer.unref();
    },
    stats: () => {
      if (timer !== undefined) clearInterval(timer);
      return { started, lastAnswer, steps, timeline };
    },
  };
};

const pct = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

interface Line {
  readonly msg?: string;
  readonly step?: string;
  readonly status?: number;
  readonly durationMs?: number;
  readonly queuedMs?: number;
  readonly quayCalls?: number;
  readonly kubeCalls?: number;
  readonly errorTag?: string;
  readonly error?: string;
  readonly kind?: string;
  readonly type?: string;
  readonly outcome?: string;
}

/** Lines of a report. `lines` are the log ledger's lines ("<source>\t<json>") from the burst. */
export const burstDiagnostics = (o: {
  readonly size: number;
  readonly converged: {
    readonly ms: number;
    readonly converged: number;
    readonly created: number;
    readonly createdMs: number;
  };
  readonly watched: Watched;
  readonly quayCalls: number;
  readonly quay429: number;
  readonly lines: readonly string[];
  /** Deliveries of the burst the broker gave up on (retries spent): their namespaces wait for the resync. */
  readonly deadLettered: ReadonlyMap<string, number>;
}): string[] => {
  const out: string[] = [];
  const w = o.watched;
  out.push(
    `converged ${o.converged.converged}/${o.size} (${o.converged.created} created, the last at ${(o.converged.createdMs / 1000).toFixed(1)} s) in ${(o.converged.ms / 1000).toFixed(1)} s; last event answered at ${((w.lastAnswer - w.started) / 1000).toFixed(1)} s`,
  );
  out.push(
    `Quay: ${o.quayCalls} calls (${(o.quayCalls / o.size).toFixed(1)} per namespace), ${o.quay429} answered 429`,
  );
  const parsed: Line[] = [];
  for (const l of o.lines) {
    const tab = l.indexOf('\t');
    const text = l.slice(tab + 1);
    if (!text.startsWith('{')) continue;
    try {
      parsed.push(JSON.parse(text) as Line);
    } catch {
      // not a log line of ours
    }
  }
  for (const [step, s] of w.steps) {
    const handled = parsed.filter((p) => p.step === step && p.msg === 'event handled');
    const shed = parsed.filter((p) => p.step === step && p.msg === 'event shed').length;
    const errors = new Map<string, number>();
    for (const h of handled)
      if (h.errorTag !== undefined) errors.set(h.errorTag, (errors.get(h.errorTag) ?? 0) + 1);
    const q = handled.map((h) => h.queuedMs ?? 0);
    const work = handled.map((h) => (h.durationMs ?? 0) - (h.queuedMs ?? 0));
    const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
    out.push(
      `${step}: ${s.events} events, ${s.attempts} attempts (${s.attempts - s.events} retries), answers ${[...s.statuses].map(([k, v]) => `${k}×${v}`).join(' ')}; most open at once ${s.maxOpen}; shed ${shed}; dead-lettered ${o.deadLettered.get(step) ?? 0}`,
    );
    out.push(
      `  handled ${handled.length}: queued p50 ${pct(q, 0.5).toFixed(0)} / p95 ${pct(q, 0.95).toFixed(0)} / max ${Math.max(0, ...q).toFixed(0)} ms; work p50 ${pct(work, 0.5).toFixed(0)} / p95 ${pct(work, 0.95).toFixed(0)} / max ${Math.max(0, ...work).toFixed(0)} ms; Quay calls ${sum(handled.map((h) => h.quayCalls ?? 0))}, kube calls ${sum(handled.map((h) => h.kubeCalls ?? 0))}`,
    );
    const byKind = new Map<string, Line[]>();
    for (const h of handled) {
      const k = `${h.kind ?? '?'} ${(h.type ?? '').split('.').pop() ?? ''} ${h.outcome ?? ''}`;
      byKind.set(k, [...(byKind.get(k) ?? []), h]);
    }
    for (const [k, hs] of [...byKind].sort(([a], [b]) => a.localeCompare(b)))
      out.push(
        `  ${k}: ${hs.length}, work p50 ${pct(
          hs.map((h) => (h.durationMs ?? 0) - (h.queuedMs ?? 0)),
          0.5,
        ).toFixed(
          0,
        )} ms, Quay ${(sum(hs.map((h) => h.quayCalls ?? 0)) / hs.length).toFixed(2)}/event, kube ${(sum(hs.map((h) => h.kubeCalls ?? 0)) / hs.length).toFixed(2)}/event`,
      );
    if (errors.size > 0)
      out.push(
        `  errors: ${[...errors]
          .sort(([, a], [, b]) => b - a)
          .map(([k, v]) => `${k}×${v}`)
          .join(' ')}`,
      );
  }
  const every = Math.max(1, Math.ceil(w.timeline.length / 30));
  out.push(
    `open requests per step (every ${every} s): ${w.timeline
      .filter((_, i) => i % every === 0)
      .map(
        ([t, open]) =>
          `${t}s ${Object.entries(open)
            .map(([k, v]) => `${k.slice(0, 2)}${v}`)
            .join('/')}`,
      )
      .join(', ')}`,
  );
  return out;
};

/** Dead-lettered deliveries per step. */
export const deadLetteredBySteps = (results: readonly DeliveryResult[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const r of results) if (r.verdict !== 'done') m.set(r.step, (m.get(r.step) ?? 0) + 1);
  return m;
};
