// npm run bench [-- --quick] [--out <file>] [--only cold-start] [--runs N]: one table of quay-bridge's figures
// beside its targets (and the Go Quay Bridge Operator's, where they can be had), printed and written as JSON
// (default $TMPDIR/quay-bridge-bench.json). Everything runs against a control plane of the bench's own (real etcd +
// kube-apiserver + kube-controller-manager) and the Quay emulator over real HTTP; the steps run as the image runs
// them: `npm run build`'s bundle of functions/index.ts under faas-js-runtime's CLI, with their Knative Services'
// command (bench/cold-start.ts). Events reach them by direct delivery: a watch of the API server turned into
// ApiServerSource CloudEvents and delivered with the broker's retry semantics (test/support/dispatcher.ts).
import { prepareCluster } from './cluster.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HTTP, type CloudEvent } from 'cloudevents';
import { benchWebhook } from './webhook.js';
import {
  coldStart,
  memoryLimitsMb,
  describeVariant,
  isFloor,
  prepareBuilds,
  rssMb,
  type ColdStart,
  type Variant,
  VARIANTS,
} from './cold-start.js';
import { burstDiagnostics, deadLetteredBySteps, instrument, TRIGGER_DELIVERY } from './burst-stats.js';
import { burstConvergence, necessaryChainMs, percentile, sequentialConvergence } from './convergence.js';
import { besideQbo, QBO_REFERENCE as QBO, qboUnavailable } from './qbo.js';
import type { StepName } from '../functions/index.js';
import { startControlPlane } from '../test/harness/index.js';
import { overHttp } from '../test/support/delivery.js';
import { startDispatcher } from '../test/support/dispatcher.js';
import { loggedLines } from '../test/support/log-ledger.js';
import { startStepProcesses, type StepProcesses } from '../test/support/step-processes.js';
import { pingEvent } from '../test/unit/shared/fakes/events.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    burst: { type: 'string' },
    /** `cold-start`: only the cold start and idle RSS rows (no step processes, bursts or webhook). */
    only: { type: 'string' },
    /** Cold starts per variant (the median is reported); default 3. */
    runs: { type: 'string' },
  },
});
if (args.only !== undefined && args.only !== 'cold-start')
  throw new Error(`--only takes "cold-start", not ${JSON.stringify(args.only)}`);
const onlyColdStart = args.only === 'cold-start';
const RUNS = args.runs !== undefined ? Number(args.runs) : 3;
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new Error(`--runs must be a positive integer, not ${String(args.runs)}`);
const quick = args.quick;
const out = args.out ?? join(tmpdir(), 'quay-bridge-bench.json');
const SEQUENTIAL = 20;
/** Namespaces created at once: 100 (QBO's reference burst) always, and 1,000 in a full run. */
const BURSTS: readonly number[] =
  args.burst !== undefined ? [Number(args.burst)] : quick ? [100] : [100, 1_000];
/** Each burst gets at most this long, creation included, so that the whole bench stays bounded (< 15 min on 2 cores). */
const BURST_CAP_MS = quick ? 120_000 : 240_000;
const STEPS: readonly StepName[] = ['namespace', 'service-account', 'image-stream', 'resync', 'build'];

interface Row {
  readonly metric: string;
  readonly quayBridge: string;
  readonly target: string;
  readonly verdict: string;
  readonly qbo: string;
}
const rows: Row[] = [];
const fmt = (n: number, unit: string, digits = 0): string => `${n.toFixed(digits)} ${unit}`;
/** "met", or "missed by X" (how far over a ceiling). */
const ceiling = (value: number, limit: number, unit: string, digits = 0): string =>
  value <= limit ? 'met' : `missed by ${fmt(value - limit, unit, digits)}`;
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const qbo = qboUnavailable();
/** Quay requests by route over the whole run up to the end of the one-at-a-time namespaces (for the JSON). */
let callsByRoute: Record<string, number> = {};
const qboNa = '— (no reference figure)';
const dir = mkdtempSync(join(tmpdir(), 'quay-bridge-bench-'));
log(`bench: ${onlyColdStart ? 'cold start only' : quick ? 'quick run' : 'full run'}; working in ${dir}`);
const cp = await startControlPlane();
let procs: StepProcesses | undefined;
try {
  const { rest, quay } = await prepareCluster(cp);
  log("bench: building the image's bundle and the tsc output");
  const builds = await prepareBuilds(dir, cp.kubeconfigPath);

  // Cold start and idle RSS. The variants are measured in turn, run by run, so that a change of the machine's load
  // weighs on all of them alike.
  const variants: readonly Variant[] = VARIANTS;
  const runs = new Map<Variant, ColdStart[]>(variants.map((v) => [v, []]));
  for (let i = 0; i < RUNS; i++)
    for (const variant of variants)
      runs
        .get(variant)
        ?.push(await coldStart('namespace', builds.command(variant, 'namespace'), builds.kubeconfigPath));
  const loadAfter = loadavg()[0] ?? NaN;
  for (const variant of variants) {
    const r = runs.get(variant) ?? [];
    const c = {
      coldStartMs: percentile(
        r.map((x) => x.coldStartMs),
        0.5,
      ),
      idleRssMb: percentile(
        r.map((x) => x.idleRssMb),
        0.5,
      ),
      statuses: [...new Set(r.map((x) => x.status))],
    };
    log(
      `bench: cold start ${variant}: ${JSON.stringify(c)} (all: ${r.map((x) => x.coldStartMs.toFixed(0)).join(', ')} ms)`,
    );
    const floor = isFloor(variant);
    rows.push({
      metric: `cold start, namespace step, ${describeVariant[variant]} (median of ${RUNS}; process start → first event answered, ${c.statuses.join('/')}; load ${loadAfter.toFixed(1)})`,
      quayBridge: fmt(c.coldStartMs, 'ms'),
      target: floor ? '—' : '≤ 300 ms',
      verdict: floor ? '—' : ceiling(c.coldStartMs, 300, 'ms'),
      qbo: qboNa,
    });
    if (floor)
      rows.push({
        metric: `idle RSS, ${describeVariant[variant]} (median of ${RUNS}, 1 s after its first event)`,
        quayBridge: fmt(c.idleRssMb, 'MB', 1),
        target: '—',
        verdict: '—',
        qbo: qboNa,
      });
  }
  for (const step of STEPS) {
    const r = await coldStart(step, builds.command('image', step), builds.kubeconfigPath);
    rows.push({
      metric: `idle RSS, ${step} step (image, 1 s after its first event, answered ${r.status})`,
      quayBridge: fmt(r.idleRssMb, 'MB', 1),
      target: '≤ 70 MB',
      verdict: ceiling(r.idleRssMb, 70, 'MB', 1),
      qbo: besideQbo(`${QBO.idleRssMb} MB idle, the whole operator`, r.idleRssMb, QBO.idleRssMb),
    });
  }

  // Everything else runs step processes, bursts and the webhook: skipped by --only cold-start.
  if (!onlyColdStart) {
    // Step processes with the production settings cache (10 s), fed by direct delivery.
    const startSteps = () =>
      startStepProcesses(['namespace', 'service-account', 'image-stream', 'resync'], {
        kubeconfigPath: builds.kubeconfigPath,
        command: builds.imageStepServer,
        env: { ...builds.imageStepEnv, QUAY_BRIDGE_SETTINGS_TTL_SECONDS: '10' },
      });
    procs = await startSteps();
    let steps = procs;
    const direct = overHttp((s) => steps.urlOf(s), 120_000);
    // Each burst's deliveries are counted apart (bench/burst-stats.ts). Deliveries of an earlier burst still being
    // retried when its cap ran out are answered here, not by the steps: the broker would go on retrying them for
    // minutes (its back-off has no ceiling), and they would weigh on the next burst's figures.
    let watched = instrument(direct);
    let burstPrefix: string | undefined;
    const ofEvent = (e: CloudEvent<unknown>): string =>
      typeof e.namespace === 'string' && e.namespace !== '' ? e.namespace : String(e.name);
    const dispatcher = await startDispatcher({
      kubeConfig: cp.kubeConfig,
      transport: (s, e) =>
        burstPrefix !== undefined && !ofEvent(e).startsWith(burstPrefix)
          ? Promise.resolve({ status: 204 })
          : watched.transport(s, e),
      namespaces: (n) => n.startsWith('bench-'),
      policy: TRIGGER_DELIVERY,
    });

    // The chain of necessary calls, then convergence of namespaces one at a time.
    const chains: number[] = [];
    for (let i = 0; i < 5; i++) chains.push(await necessaryChainMs(rest, quay, `chain-${i}`));
    const chain = percentile(chains, 0.5);
    const before = quay.totalRequests();
    const names = Array.from({ length: SEQUENTIAL }, (_, i) => `bench-seq-${i}`);
    const creations: number[] = [];
    const times = await sequentialConvergence(rest, quay, names, 60_000, creations);
    await dispatcher.idle();
    const perNamespace = (quay.totalRequests() - before) / SEQUENTIAL;
    callsByRoute = Object.fromEntries(
      [...quay.requestCounts()].map(([k, v]) => [k, v] as const).sort(([, a], [, b]) => b - a),
    );
    const p50 = percentile(times, 0.5);
    rows.push({
      metric: `convergence, namespace created → org + 3 robots + 3 default permissions + 3 Secrets + SA links (${SEQUENTIAL} namespaces, direct delivery)`,
      quayBridge: `p50 ${fmt(p50, 'ms')}, p95 ${fmt(percentile(times, 0.95), 'ms')}`,
      target: `p50 ≤ QBO's ${QBO.convergenceP50Ms} ms, then ≤ half of it (${QBO.convergenceP50Ms / 2} ms); chain of necessary calls ${fmt(chain, 'ms', 1)}; the bench's own creation of the namespace and its 3 ServiceAccounts, p50 ${fmt(percentile(creations, 0.5), 'ms')}, and from the last of them to convergence (the bridge's part, the poll's 10 ms included), p50 ${fmt(
        percentile(
          times.map((t, i) => t - (creations[i] ?? 0)),
          0.5,
        ),
        'ms',
      )}`,
      verdict:
        p50 <= QBO.convergenceP50Ms / 2
          ? 'met (≤ half of QBO)'
          : p50 <= QBO.convergenceP50Ms
            ? `≤ QBO; half missed by ${fmt(p50 - QBO.convergenceP50Ms / 2, 'ms')}`
            : `missed by ${fmt(p50 - QBO.convergenceP50Ms, 'ms')}`,
      qbo: besideQbo(
        `p50 ${QBO.convergenceP50Ms} ms, p95 ${QBO.convergenceP95Ms} ms`,
        p50,
        QBO.convergenceP50Ms,
      ),
    });
    rows.push({
      metric: 'Quay API calls per new namespace (emulator request counter)',
      quayBridge: perNamespace.toFixed(1),
      target: '≤ 8',
      verdict: ceiling(perNamespace, 8, 'calls', 1),
      qbo: besideQbo(
        `${QBO.callsPerNewNamespace} one at a time, ${QBO.callsPerNewNamespaceInBurst} in a burst`,
        perNamespace,
        QBO.callsPerNewNamespace,
      ),
    });

    // One resync of unchanged namespaces.
    quay.resetCounts();
    const ping = HTTP.binary(pingEvent());
    const answer = await fetch(steps.urlOf('resync'), {
      method: 'POST',
      headers: ping.headers as Record<string, string>,
      body: ping.body as string,
    });
    await answer.text();
    const orgs = quay.state().organizations.filter((o) => o.name.startsWith('openshift_')).length;
    // The orphan sweep reads the token's user (its organizations) once per pass, whatever the namespace count.
    const sweep = quay.requestCounts().get('GET /api/v1/user/') ?? 0;
    const perResync = (quay.totalRequests() - sweep) / Math.max(1, orgs);
    rows.push({
      metric: `Quay API calls per unchanged namespace on resync (${quay.totalRequests()} calls: ${sweep} for the pass's orphan sweep, the rest for ${orgs} namespaces; answer ${answer.status})`,
      quayBridge: perResync.toFixed(2),
      target: '≤ 2',
      verdict: ceiling(perResync, 2, 'calls', 2),
      qbo: besideQbo(
        String(QBO.callsPerUnchangedNamespaceOnResync),
        perResync,
        QBO.callsPerUnchangedNamespaceOnResync,
      ),
    });

    // Bursts of namespaces created at once, without and with 10% of Quay calls answered 429.
    const limits = memoryLimitsMb();
    for (const BURST of BURSTS)
      for (const rateLimit of [0, 0.1]) {
        await procs.stop();
        procs = await startSteps(); // fresh processes, so that VmHWM is this burst's peak
        steps = procs;
        quay.faults.rateLimitRate = rateLimit;
        const peaks = new Map<string, number>();
        const sample = (): void => {
          for (const s of ['namespace', 'service-account', 'image-stream'] as const) {
            const pid = steps.get(s).child.pid;
            if (pid !== undefined) peaks.set(s, Math.max(peaks.get(s) ?? 0, rssMb(pid, 'VmHWM')));
          }
        };
        burstPrefix = `bench-b${rateLimit > 0 ? 'r' : 'n'}${BURST}-`;
        const burst = Array.from({ length: BURST }, (_, i) => `${burstPrefix ?? ''}${i}`);
        log(`bench: ${BURST} namespaces at once, ${rateLimit * 100}% 429`);
        watched = instrument(direct);
        const quayBefore = quay.totalRequests();
        const limitedBefore = quay.faults.injected?.['rate-limit'] ?? 0;
        const linesBefore = loggedLines().length;
        const resultsBefore = dispatcher.results.length;
        watched.start();
        const r = await burstConvergence(rest, quay, burst, BURST_CAP_MS, sample);
        sample();
        const deadLettered = deadLetteredBySteps(dispatcher.results.slice(resultsBefore));
        for (const line of burstDiagnostics({
          size: BURST,
          converged: r,
          watched: watched.stats(),
          quayCalls: quay.totalRequests() - quayBefore,
          quay429: (quay.faults.injected?.['rate-limit'] ?? 0) - limitedBefore,
          lines: loggedLines().slice(linesBefore),
          deadLettered,
        }))
          log(`bench:   ${line}`);
        const lost = [...deadLettered.values()].reduce((a, b) => a + b, 0);
        quay.faults.rateLimitRate = 0;
        // One process per step, where Knative would add pods to a burst (containerConcurrency, knative/base): the
        // figure is what a single pod of each step does, its gate shedding (429) what queue-proxy would hold back.
        const label = `${rateLimit > 0 ? ', Quay answering 429 to 10% of calls' : ''}, one pod per step`;
        const all = r.converged === BURST;
        const qboRow =
          BURST === 100
            ? rateLimit > 0
              ? besideQbo(QBO.hundredAtOnceRateLimited)
              : besideQbo(`${QBO.hundredAtOnceSeconds} s`, r.ms / 1000, QBO.hundredAtOnceSeconds)
            : qboNa;
        const twiceQbo = BURST === 100 && rateLimit === 0;
        rows.push({
          metric: `${BURST} namespaces created at once${label}: time until all converged`,
          quayBridge: `${fmt(r.ms / 1000, 's', 1)} (${r.converged}/${BURST} converged${r.created < BURST ? `, ${r.created} created in time` : ''}${lost > 0 ? `; ${lost} events dead-lettered by then, left to the resync` : ''})`,
          target: twiceQbo
            ? `all converged in ≤ half of QBO's ${QBO.hundredAtOnceSeconds} s (≥ 2× its throughput)`
            : `all created and converged (bench cap ${BURST_CAP_MS / 1000} s from the first creation)`,
          verdict: !all
            ? `missed by ${BURST - r.converged} namespaces at the cap`
            : twiceQbo
              ? ceiling(r.ms / 1000, QBO.hundredAtOnceSeconds / 2, 's', 1)
              : 'met',
          qbo: qboRow,
        });
        const over = [...peaks].filter(([s, mb]) => mb > (limits.get(s) ?? Infinity));
        rows.push({
          metric: `${BURST} namespaces at once${label}: peak RSS of the step processes`,
          quayBridge: [...peaks].map(([s, mb]) => `${s} ${mb.toFixed(0)} MB`).join(', '),
          target: `each below its Knative Service's memory limit (${[...limits].map(([s, mb]) => `${s} ${mb} MB`).join(', ')})`,
          verdict:
            over.length === 0
              ? 'met'
              : `missed: ${over.map(([s, mb]) => `${s} by ${(mb - (limits.get(s) ?? 0)).toFixed(0)} MB`).join(', ')}`,
          qbo:
            BURST === 100 && rateLimit === 0
              ? besideQbo(`${QBO.rssAfter120NamespacesMb} MB after ~120 namespaces, the whole operator`)
              : qboNa,
        });
      }
    burstPrefix = 'none: the bursts are over';
    await dispatcher.stop();
    // The steps would still be working off the last burst's queued events, on the same two cores as the webhook.
    await procs.stop();

    // Webhook admission latency (the webhook engineer's bench).
    const wh = await benchWebhook({ seconds: quick ? 3 : 5 });
    rows.push({
      metric: `webhook admission latency, server-side (${wh.requests} requests at ${wh.achievedRate.toFixed(0)}/s, ${wh.failures} failed)`,
      quayBridge: `p50 ${wh.server.p50.toFixed(3)} ms, p99 ${wh.server.p99.toFixed(3)} ms`,
      target: 'p99 ≤ 5 ms',
      verdict: ceiling(wh.server.p99, 5, 'ms', 3),
      qbo: qboNa,
    });
  }
} finally {
  await procs?.stop();
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}

const header: Row = {
  metric: 'metric',
  quayBridge: 'quay-bridge',
  target: 'target',
  verdict: 'verdict',
  qbo: 'QBO',
};
const widths = (['metric', 'quayBridge', 'target', 'verdict'] as const).map((k) =>
  Math.max(...[header, ...rows].map((r) => r[k].length)),
);
const line = (r: Row): string =>
  [r.metric, r.quayBridge, r.target, r.verdict].map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ') +
  ` | ${r.qbo}`;
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-') + '-|-' + '-'.repeat(3));
for (const r of rows) console.log(line(r));
writeFileSync(
  out,
  JSON.stringify(
    {
      quick,
      delivery: 'direct (watch → broker-semantics dispatcher → step processes)',
      qbo,
      rows,
      callsByRoute,
    },
    null,
    2,
  ),
);
console.log(
  `\nQBO column: figures measured side by side outside the bench on ${QBO.measured} (bench/qbo.ts); the bench cannot build QBO: ${qbo}`,
);
console.log(
  onlyColdStart
    ? 'cold start only (no events delivered)'
    : `events: direct delivery (watch → broker-semantics dispatcher → step processes over HTTP); ${quick ? 'quick run' : 'full run'}`,
);
console.log(`written to ${out}`);
process.exit(0);
