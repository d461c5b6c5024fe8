// npx tsx bench/ab.ts --base <tree> [--rounds R] [--count N]: the bench's sequential convergence (p50/p95), for
// the steps bundled from another source tree (A, e.g. an export of main) and from this one (B), interleaved on one
// control plane: per round, A's step processes converge N namespaces one at a time, then B's.
import { prepareCluster } from './cluster.js';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { bundleFunctions } from '../functions/bundle.js';
import { percentile, sequentialConvergence } from './convergence.js';
import { repoRoot, startControlPlane } from '../test/harness/index.js';
import { overHttp } from '../test/support/delivery.js';
import { startDispatcher } from '../test/support/dispatcher.js';
import { loggedLines } from '../test/support/log-ledger.js';
import { startStepProcesses, type StepProcesses } from '../test/support/step-processes.js';

const { values: args } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    count: { type: 'string', default: '7' },
  },
});
if (args.base === undefined) throw new Error('--base <source tree> is required');
const ROUNDS = Number(args.rounds);
const COUNT = Number(args.count);

const dir = mkdtempSync(join(tmpdir(), 'quay-bridge-ab-'));
const cp = await startControlPlane();
let procs: StepProcesses | undefined;
try {
  const { rest, quay } = await prepareCluster(cp);
  const kubeconfig = join(dir, 'kubeconfig.json');
  writeFileSync(kubeconfig, JSON.stringify(parse(readFileSync(cp.kubeconfigPath, 'utf8'))));
  const variants = { A: args.base, B: repoRoot };
  const commands = new Map<string, string[]>();
  for (const [v, root] of Object.entries(variants)) {
    const d = join(dir, v);
    mkdirSync(d, { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules'), join(d, 'node_modules'));
    writeFileSync(join(d, 'package.json'), JSON.stringify({ type: 'module' }));
    await bundleFunctions(root, join(d, 'dist'));
    // The image's process (knative/base: node dist/functions/host.js), which takes PORT as step-processes gives it.
    commands.set(v, [join(d, 'dist', 'functions', 'host.js')]);
  }
  let current: StepProcesses | undefined;
  const dispatcher = await startDispatcher({
    kubeConfig: cp.kubeConfig,
    transport: overHttp((s) => {
      if (current === undefined) throw new Error('no step processes');
      return current.urlOf(s);
    }, 120_000),
    namespaces: (n) => n.startsWith('ab-'),
    policy: { retry: 10, backoffMs: 500, maxBackoffMs: 8_000 },
  });
  const times = new Map<string, number[]>([
    ['A', []],
    ['B', []],
  ]);
  const loads: number[] = [];
  /** Per variant: events, kube and Quay calls, non-2xx answers, over the measured namespaces (the steps' log lines). */
  const counts = new Map<string, { events: number; kube: number; quay: number; non2xx: number; n: number }>([
    ['A', { events: 0, kube: 0, quay: 0, non2xx: 0, n: 0 }],
    ['B', { events: 0, kube: 0, quay: 0, non2xx: 0, n: 0 }],
  ]);
  for (let r = 0; r < ROUNDS; r++)
    for (const v of ['A', 'B'] as const) {
      procs = await startStepProcesses(['namespace', 'service-account', 'image-stream', 'resync'], {
        kubeconfigPath: kubeconfig,
        command: commands.get(v) ?? [],
        env: { QUAY_BRIDGE_SETTINGS_TTL_SECONDS: '10' },
      });
      current = procs;
      const names = Array.from({ length: COUNT + 1 }, (_, i) => `ab-${v.toLowerCase()}${r}-${i}`);
      const [, ...measured] = await sequentialConvergence(rest, quay, names, 60_000);
      await dispatcher.idle();
      await procs.stop();
      procs = undefined;
      times.get(v)?.push(...measured);
      const mine = new Set(names.slice(1));
      const c = counts.get(v);
      if (c !== undefined) {
        c.n += mine.size;
        for (const line of loggedLines()) {
          const json = line.slice(line.indexOf('\t') + 1);
          if (!json.startsWith('{')) continue;
          const l = JSON.parse(json) as Record<string, unknown>;
          const ns = l['kind'] === 'Namespace' ? l['name'] : l['namespace'];
          if (l['msg'] !== 'event handled' || typeof ns !== 'string' || !mine.has(ns)) continue;
          c.events += 1;
          c.kube += Number(l['kubeCalls'] ?? 0);
          c.quay += Number(l['quayCalls'] ?? 0);
          if (Number(l['status']) >= 300) c.non2xx += 1;
        }
      }
      loads.push(loadavg()[0] ?? NaN);
      process.stderr.write(
        `round ${r} ${v}: ${measured.map((t) => t.toFixed(0)).join(' ')} (load ${(loadavg()[0] ?? 0).toFixed(2)})\n`,
      );
    }
  await dispatcher.stop();
  const perNs = (v: string): string => {
    const c = counts.get(v);
    if (c === undefined || c.n === 0) return '—';
    const f = (x: number): string => (x / c.n).toFixed(1);
    return `${f(c.events)} events, ${f(c.kube)} kube calls, ${f(c.quay)} Quay calls, ${f(c.non2xx)} non-2xx answers`;
  };
  for (const [v, t] of times)
    console.log(
      `${v} (${v === 'A' ? args.base : 'this tree'}): ${t.length} namespaces, p50 ${percentile(t, 0.5).toFixed(0)} ms, p95 ${percentile(t, 0.95).toFixed(0)} ms; per namespace: ${perNs(v)}`,
    );
  console.log(`load average (1 min) after each segment: ${loads.map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  await procs?.stop();
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
