// npm run bench:burst -- [--size 100] [--rate 0.1] [--latency-ms 0] [--cap-s 240] [--env KEY=VALUE …]: one burst of
// namespaces created at once, on the bench's own control plane, Quay emulator and step processes (one process per
// step, as bench/main.ts runs them), and where its time went: per step the events, attempts, answers (429 shed,
// 5xx), the most requests waiting on it at once, the queueing and handling times the steps logged, the Quay calls
// per namespace, the 429s Quay answered, and when the last event was answered against when all had converged.
// `--env` passes settings to the step processes (e.g. QUAY_BRIDGE_MAX_IN_FLIGHT=32) to compare them.
import { prepareCluster } from './cluster.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareBuilds, rssMb } from './cold-start.js';
import { burstConvergence } from './convergence.js';
import { burstDiagnostics, deadLetteredBySteps, instrument, TRIGGER_DELIVERY } from './burst-stats.js';
import { startControlPlane } from '../test/harness/index.js';
import { overHttp } from '../test/support/delivery.js';
import { startDispatcher } from '../test/support/dispatcher.js';
import { loggedLines } from '../test/support/log-ledger.js';
import { startStepProcesses } from '../test/support/step-processes.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '100' },
    rate: { type: 'string', default: '0' },
    'latency-ms': { type: 'string', default: '0' },
    'retry-after-s': { type: 'string' },
    'cap-s': { type: 'string', default: '240' },
    env: { type: 'string', multiple: true, default: [] },
  },
});
const size = Number(args.size);
const rate = Number(args.rate);
const stepEnv = Object.fromEntries(
  args.env.map((kv) => {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`--env takes KEY=VALUE, not ${kv}`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  }),
);
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

const dir = mkdtempSync(join(tmpdir(), 'quay-bridge-burst-'));
const cp = await startControlPlane();
try {
  const { rest, quay } = await prepareCluster(cp);
  const builds = await prepareBuilds(dir, cp.kubeconfigPath);
  const steps = await startStepProcesses(['namespace', 'service-account', 'image-stream', 'resync'], {
    kubeconfigPath: builds.kubeconfigPath,
    command: builds.imageStepServer,
    env: { ...builds.imageStepEnv, QUAY_BRIDGE_SETTINGS_TTL_SECONDS: '10', ...stepEnv },
  });
  const watched = instrument(overHttp((s) => steps.urlOf(s), 120_000));
  const dispatcher = await startDispatcher({
    kubeConfig: cp.kubeConfig,
    transport: watched.transport,
    namespaces: (n) => n.startsWith('bench-'),
    policy: TRIGGER_DELIVERY,
  });
  quay.faults.latencyMs = Number(args['latency-ms']);
  quay.faults.rateLimitRate = rate;
  if (args['retry-after-s'] !== undefined) quay.faults.retryAfterSeconds = Number(args['retry-after-s']);
  const peaks = new Map<string, number>();
  const sample = (): void => {
    for (const s of ['namespace', 'service-account', 'image-stream'] as const) {
      const pid = steps.get(s).child.pid;
      if (pid !== undefined) peaks.set(s, Math.max(peaks.get(s) ?? 0, rssMb(pid, 'VmHWM')));
    }
  };
  const cpuSeconds = (pid: number | undefined): number => {
    if (pid === undefined) return NaN;
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  const cpuOf = (): Map<string, number> =>
    new Map([
      ...(['namespace', 'service-account', 'image-stream'] as const).map(
        (s) => [s, cpuSeconds(steps.get(s).child.pid)] as const,
      ),
      ...(['kube-apiserver', 'etcd', 'kube-controller-manager'] as const).map(
        (s) => [s, cpuSeconds(cp.pidOf(s))] as const,
      ),
    ]);
  const names = Array.from({ length: size }, (_, i) => `bench-b${i}`);
  const quayBefore = quay.totalRequests();
  const limitedBefore = quay.faults.injected?.['rate-limit'] ?? 0;
  const linesBefore = loggedLines().length;
  const resultsBefore = dispatcher.results.length;
  log(
    `burst: ${size} namespaces, ${rate * 100}% 429, latency ${quay.faults.latencyMs} ms, env ${JSON.stringify(stepEnv)}; load ${loadavg()[0]?.toFixed(1)}`,
  );
  const cpuBefore = cpuOf();
  const selfBefore = process.cpuUsage();
  watched.start();
  const r = await burstConvergence(rest, quay, names, Number(args['cap-s']) * 1000, sample);
  sample();
  const report = burstDiagnostics({
    size,
    converged: r,
    watched: watched.stats(),
    quayCalls: quay.totalRequests() - quayBefore,
    quay429: (quay.faults.injected?.['rate-limit'] ?? 0) - limitedBefore,
    lines: loggedLines().slice(linesBefore),
    deadLettered: deadLetteredBySteps(dispatcher.results.slice(resultsBefore)),
  });
  for (const l of report) console.log(l);
  // What the steps counted themselves (their /metrics), summed over labels.
  const metric = (text: string, name: string, filter = ''): number =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && !l.startsWith('#') && l.includes(filter))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  for (const s of ['namespace', 'service-account'] as const) {
    const text = await fetch(`${steps.urlOf(s)}/metrics`).then((r) => r.text());
    console.log(
      `${s} /metrics: Quay 429s ${metric(text, 'quay_bridge_quay_rate_limited_total')}, Quay retries ${metric(text, 'quay_bridge_quay_retries_total')}, all Quay requests held ${metric(text, 'quay_bridge_quay_held_seconds_total').toFixed(1)} s, shed ${metric(text, 'quay_bridge_events_handled_total', 'result="shed"')}`,
    );
  }
  const self = process.cpuUsage(selfBefore);
  console.log(
    `CPU seconds: ${[...cpuOf()].map(([s, c]) => `${s} ${(c - (cpuBefore.get(s) ?? 0)).toFixed(1)}`).join(', ')}, bench process (emulator, dispatcher, polling) ${((self.user + self.system) / 1e6).toFixed(1)}`,
  );
  console.log(
    `peak RSS: ${[...peaks].map(([s, mb]) => `${s} ${mb.toFixed(0)} MB`).join(', ')}; load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  // Not dispatcher.stop(): it waits for every delivery, and the broker's back-off has no ceiling.
  await steps.stop();
} finally {
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
