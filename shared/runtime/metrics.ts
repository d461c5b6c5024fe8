// Prometheus metrics of a step (and of the webhook), served on the `/metrics` that faas-js-runtime already serves
// (exposeOnRuntime) or on the webhook's health port. Label values come from small fixed sets only: a step name, a
// kind the bridge serves, an outcome, an HTTP method, a Quay route template (never an organization, robot or
// namespace name), a status code.
import { createRequire } from 'node:module';
import prom from 'prom-client';
import type * as Prom from 'prom-client';
import { routeOf } from '../quay/paths.js';
import type { RequestInfo } from '../quay/http.js';

// A static import, so that the image's bundle carries prom-client (functions/bundle.ts); the build for
// faas-js-runtime leaves it out, so that it is the runtime's own copy (exposeOnRuntime checks it).

const PREFIX = 'quay_bridge_';
const HOOKED = Symbol.for('quay-bridge.metrics-hook');
let gateWaiting: () => number = () => 0;
/** Seconds: a cache hit (ms) up to a resync of a large cluster (minutes). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export const metrics = {
  eventsHandled: new prom.Counter({
    name: `${PREFIX}events_handled_total`,
    help: 'CloudEvents a step handled, by step, object kind and result (the answer given to the broker)',
    labelNames: ['step', 'kind', 'result'] as const,
    registers: [],
  }),
  eventDuration: new prom.Histogram({
    name: `${PREFIX}event_duration_seconds`,
    help: 'Time from an event’s arrival to its answer, waiting at the in-flight gate included',
    labelNames: ['step'] as const,
    buckets: BUCKETS,
    registers: [],
  }),
  gateWait: new prom.Histogram({
    name: `${PREFIX}gate_wait_seconds`,
    help: 'Time an event waited for a slot at the in-flight gate (QUAY_BRIDGE_MAX_IN_FLIGHT)',
    labelNames: ['step'] as const,
    buckets: BUCKETS,
    registers: [],
  }),
  gateWaiting: new prom.Gauge({
    name: `${PREFIX}gate_waiting_events`,
    help: 'Events waiting at the in-flight gate now',
    registers: [],
    collect() {
      this.set(gateWaiting());
    },
  }),
  quayRequests: new prom.Counter({
    name: `${PREFIX}quay_requests_total`,
    help: 'HTTP requests to the Quay API (each attempt), by method, route template and status ("error": no answer)',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [],
  }),
  quayDuration: new prom.Histogram({
    name: `${PREFIX}quay_request_duration_seconds`,
    help: 'Duration of one attempt of a Quay API request, connection to last byte',
    labelNames: ['method', 'route'] as const,
    buckets: BUCKETS,
    registers: [],
  }),
  quayRetries: new prom.Counter({
    name: `${PREFIX}quay_retries_total`,
    help: 'Quay API attempts that were retries of an earlier failed attempt',
    labelNames: ['method', 'route'] as const,
    registers: [],
  }),
  quayRateLimited: new prom.Counter({
    name: `${PREFIX}quay_rate_limited_total`,
    help: 'Quay API answers 429 (rate limited)',
    labelNames: ['method', 'route'] as const,
    registers: [],
  }),
  quayHeld: new prom.Counter({
    name: `${PREFIX}quay_held_seconds_total`,
    help: 'Time every Quay request of the process was held after a 429 (the back-off a 429 shares with all requests)',
    registers: [],
  }),
  resyncDuration: new prom.Histogram({
    name: `${PREFIX}resync_duration_seconds`,
    help: 'Duration of a resync pass (lists, every namespace, orphan sweep)',
    buckets: BUCKETS,
    registers: [],
  }),
  resyncObjects: new prom.Gauge({
    name: `${PREFIX}resync_objects`,
    help: 'Objects of the last resync pass: reconciled in all, found out of sync and changed, failed, refused',
    labelNames: ['state'] as const,
    registers: [],
  }),
  admissions: new prom.Counter({
    name: `${PREFIX}webhook_admissions_total`,
    help: 'Admission requests the Build webhook answered, by outcome (mutated, allowed, denied, rejected, error)',
    labelNames: ['outcome'] as const,
    registers: [],
  }),
  admissionDuration: new prom.Histogram({
    name: `${PREFIX}webhook_admission_duration_seconds`,
    help: 'Time from an admission request’s arrival to its answer',
    labelNames: ['outcome'] as const,
    buckets: BUCKETS,
    registers: [],
  }),
};

const ALL: readonly Prom.Metric[] = Object.values(metrics);

/** Adds every metric of the bridge to `registry` (idempotent). */
export const registerMetrics = (registry: Prom.Registry): void => {
  for (const m of ALL) {
    const name = (m as unknown as { name: string }).name;
    if (registry.getSingleMetric(name) === undefined) registry.registerMetric(m);
  }
};

/** The webhook's registry, for its own health port: its admissions and the process's default metrics. */
export const webhookRegistry = (): Prom.Registry => {
  const r = new prom.Registry();
  r.registerMetric(metrics.admissions);
  r.registerMetric(metrics.admissionDuration);
  prom.collectDefaultMetrics({ register: r });
  return r;
};

const KINDS = new Set(['Namespace', 'ServiceAccount', 'Secret', 'ImageStream', 'Build', 'QuayIntegration']);

/** The kind label of an event: a kind the bridge serves, "none" (a ping), or "other" (never the sender's text). */
export const kindLabel = (kind: string | undefined): string =>
  kind === undefined ? 'none' : KINDS.has(kind) ? kind : 'other';

export const observeEvent = (
  step: string,
  kind: string | undefined,
  result: string,
  seconds: number,
  waitedSeconds: number,
): void => {
  metrics.eventsHandled.inc({ step, kind: kindLabel(kind), result });
  metrics.eventDuration.observe({ step }, seconds);
  metrics.gateWait.observe({ step }, waitedSeconds);
};

/** An event answered 429 before any work because too many were waiting (gate.ts). */
export const observeShed = (step: string, kind: string | undefined): void => {
  metrics.eventsHandled.inc({ step, kind: kindLabel(kind), result: 'shed' });
};

export const observeQuayRequest = (info: RequestInfo): void => {
  const labels = { method: info.method, route: routeOf(info.path) };
  metrics.quayRequests.inc({ ...labels, status: info.status === undefined ? 'error' : String(info.status) });
  metrics.quayDuration.observe(labels, info.durationMs / 1000);
  if (info.attempt > 1) metrics.quayRetries.inc(labels);
  if (info.status === 429) metrics.quayRateLimited.inc(labels);
};

/** A 429's back-off extended the hold on every Quay request by `ms`. */
export const observeQuayHold = (ms: number): void => {
  metrics.quayHeld.inc(ms / 1000);
};

export const observeResync = (
  seconds: number,
  tally: {
    readonly total: number;
    readonly changed: number;
    readonly failed: number;
    readonly refused: number;
  },
): void => {
  metrics.resyncDuration.observe(seconds);
  metrics.resyncObjects.set({ state: 'reconciled' }, tally.total);
  metrics.resyncObjects.set({ state: 'changed' }, tally.changed);
  metrics.resyncObjects.set({ state: 'failed' }, tally.failed);
  metrics.resyncObjects.set({ state: 'refused' }, tally.refused);
};

export const observeAdmission = (outcome: string, seconds: number): void => {
  metrics.admissions.inc({ outcome });
  metrics.admissionDuration.observe({ outcome }, seconds);
};

/** The gate's queue length, read when scraped. */
export const watchGate = (waiting: () => number): void => {
  gateWaiting = waiting;
};

/**
 * Puts the bridge's metrics on faas-js-runtime's `/metrics`. The runtime (3.x, lib/metrics.js) makes its registry
 * when its server starts, after the function's `init`, and does not hand it out; its first call on the new registry
 * is `setDefaultLabels` with its faas_* labels. So the runtime's prom-client gets a hook there, once: the registry
 * that receives those labels gets our metrics as well (test/integration/functions/metrics.test.ts scrapes it).
 */
export const exposeOnRuntime = (): void => {
  const runtime = createRequire(import.meta.url).resolve('faas-js-runtime');
  const runtimeProm = createRequire(runtime)('prom-client') as typeof Prom;
  if (runtimeProm !== prom)
    throw new Error(
      'faas-js-runtime resolves another prom-client than quay-bridge: its /metrics would miss ours',
    );
  const proto = runtimeProm.Registry.prototype as Prom.Registry & { [HOOKED]?: true };
  if (proto[HOOKED] === true) return;
  proto[HOOKED] = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the registry as `this`
  const original = proto.setDefaultLabels;
  proto.setDefaultLabels = function (this: Prom.Registry, labels: object) {
    original.call(this, labels);
    if (Object.hasOwn(labels, 'faas_name')) registerMetrics(this);
  };
};
