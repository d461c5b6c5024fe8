// npx tsx bench/trace.ts [--count N] [--poll-ms N]: where the time of a new namespace goes. The bench's sequential
// part only (the image's bundle under its command, direct delivery with the triggers' 500 ms back-off), printing
// per namespace every delivery attempt (step, event, status, start/end relative to the namespace's creation, the
// step's own duration, Quay and kube calls), every Quay call (through a recording proxy) and every kube call (the
// steps' QUAY_BRIDGE_TRACE_KUBE_CALLS log lines), in time order.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { prepareBuilds } from './cold-start.js';
import { convergedOf, createProject, percentile } from './convergence.js';
import { crdFiles, installCrds, readCrds, startControlPlane } from '../test/harness/index.js';
import { kubeRest } from '../test/event-path/kube-rest.js';
import { startQuayEmulator, type QuayEmulator } from '../test/quay-emulator/index.js';
import { overHttp, type Transport } from '../test/support/delivery.js';
import { startDispatcher } from '../test/support/dispatcher.js';
import { loggedLines } from '../test/support/log-ledger.js';
import { startStepProcesses, type StepProcesses } from '../test/support/step-processes.js';
import { configureIntegration } from '../test/support/world.js';

const { values: args } = parseArgs({
  options: { count: { type: 'string', default: '10' }, 'poll-ms': { type: 'string', default: '10' } },
});
const COUNT = Number(args.count);
/** Epoch ms with fractions: the step processes' trace lines use the same clock. */
const now = (): number => performance.timeOrigin + performance.now();
const POLL_MS = Number(args['poll-ms']);

interface Call {
  readonly method: string;
  readonly path: string;
  status: number;
  readonly start: number;
  end: number;
}
interface Try {
  readonly step: string;
  readonly id: string;
  readonly type: string;
  readonly what: string;
  status: number | undefined;
  readonly start: number;
  end: number;
  body: string;
}

/** A proxy in front of the emulator that records every call with its timing. */
const recordingProxy = async (target: string, calls: Call[]): Promise<http.Server & { url: string }> => {
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const call: Call = {
      method: req.method ?? 'GET',
      path: (req.url ?? '').replace(/\?.*/, ''),
      status: 0,
      start: now(),
      end: 0,
    };
    calls.push(call);
    const up = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers, agent },
      (r) => {
        call.status = r.statusCode ?? 0;
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        r.on('end', () => {
          call.end = now();
        });
      },
    );
    up.on('error', () => {
      res.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(server, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
};

const dir = mkdtempSync(join(tmpdir(), 'quay-bridge-trace-'));
const cp = await startControlPlane();
let procs: StepProcesses | undefined;
const calls: Call[] = [];
const tries: Try[] = [];
try {
  await installCrds(cp.kubeConfig, readCrds(crdFiles()));
  const rest = await kubeRest(cp.kubeConfig);
  const quay = await startQuayEmulator({ seed: 7 });
  const proxy = await recordingProxy(quay.url, calls);
  // The steps reach Quay through the proxy (the QuayIntegration's quayHostname); convergedOf reads the emulator.
  await configureIntegration(rest, { url: proxy.url, adminToken: quay.adminToken } as QuayEmulator);
  const builds = await prepareBuilds(dir, cp.kubeconfigPath);
  procs = await startStepProcesses(['namespace', 'service-account', 'image-stream', 'resync'], {
    kubeconfigPath: builds.kubeconfigPath,
    command: builds.imageStepServer,
    env: { QUAY_BRIDGE_SETTINGS_TTL_SECONDS: '10', QUAY_BRIDGE_TRACE_KUBE_CALLS: '1' },
  });
  const steps = procs;
  const http_ = overHttp((s) => steps.urlOf(s), 120_000);
  const transport: Transport = async (step, event) => {
    const t: Try = {
      step,
      id: event.id,
      type: event.type.replace('dev.knative.apiserver.', ''),
      what: `${String(event['kind'])} ${String(event['name'])}`,
      status: undefined,
      start: now(),
      end: 0,
      body: '',
    };
    tries.push(t);
    try {
      const a = await http_(step, event);
      t.status = a.status;
      t.body = a.body ?? '';
      return a;
    } finally {
      t.end = now();
    }
  };
  const dispatcher = await startDispatcher({
    kubeConfig: cp.kubeConfig,
    transport,
    namespaces: (n) => n.startsWith('trace-'),
    policy: { retry: 10, backoffMs: 500, maxBackoffMs: 8_000 },
  });
  // One namespace to warm up (not counted), as the bench's chain runs warm the steps.
  const names = Array.from({ length: COUNT + 1 }, (_, i) => `trace-${i}`);
  const times: number[] = [];
  const retried: number[] = [];
  for (const [i, ns] of names.entries()) {
    const t0 = now();
    const callsBefore = calls.length;
    const triesBefore = tries.length;
    await createProject(rest, ns);
    const created = now() - t0;
    let polls = 0;
    let pollMs = 0;
    for (;;) {
      const p0 = now();
      const done = (await convergedOf(rest, quay, [ns])).has(ns);
      pollMs += now() - p0;
      polls += 1;
      if (done) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const ms = now() - t0;
    // Let stragglers (echo events) finish before the next namespace, so each namespace's trace is its own.
    await new Promise((r) => setTimeout(r, 300));
    await dispatcher.idle();
    const rel = (t: number): string => (t - t0).toFixed(0).padStart(5);
    const logs = new Map<string, Record<string, unknown>>();
    const lines: { at: number; text: string }[] = [];
    for (const line of loggedLines()) {
      const json = line.slice(line.indexOf('\t') + 1);
      if (!json.startsWith('{')) continue;
      const l = JSON.parse(json) as Record<string, unknown>;
      if (l['msg'] === 'event handled' && typeof l['id'] === 'string') logs.set(l['id'], l);
      const at = l['startedAt'];
      if (l['msg'] === 'kube call' && typeof at === 'number' && at >= t0 && at <= t0 + ms + 1_000)
        lines.push({
          at,
          text: `${rel(at)} → ${rel(at + Number(l['durationMs']))}      kube ${line.slice(0, line.indexOf('['))} ${String(l['method'])} ${String(l['path'])} ${String(l['status'])}`,
        });
    }
    const mine = tries.slice(triesBefore);
    if (i > 0) {
      times.push(ms);
      retried.push(mine.filter((t) => t.status !== undefined && t.status >= 300).length);
    }
    console.log(
      `\n== ${ns}${i === 0 ? ' (warm-up)' : ''}: converged ${ms.toFixed(0)} ms (project created in ${created.toFixed(0)} ms; ${polls} polls, ${pollMs.toFixed(0)} ms polling; load ${(loadavg()[0] ?? 0).toFixed(2)})`,
    );
    for (const t of mine) {
      const l = logs.get(t.id);
      lines.push({
        at: t.start,
        text:
          `${rel(t.start)} → ${rel(t.end)}  EVENT ${t.step.padEnd(15)} ${t.type.padEnd(15)} ${t.what.padEnd(36)} ${String(t.status)}` +
          (l === undefined
            ? ''
            : `  step ${String(l['durationMs'])} ms, quay ${String(l['quayCalls'])}, kube ${String(l['kubeCalls'])}, ${String(l['outcome'])}`) +
          (t.status !== undefined && t.status >= 300 ? `  ${t.body.slice(0, 200)}` : ''),
      });
    }
    for (const c of calls.slice(callsBefore))
      lines.push({
        at: c.start,
        text: `${rel(c.start)} → ${rel(c.end)}    quay ${c.method} ${c.path} ${c.status}`,
      });
    lines.push({ at: t0 + ms, text: `${rel(t0 + ms)}          CONVERGED (seen by the poll)` });
    for (const l of lines.sort((a, b) => a.at - b.at)) console.log(`  ${l.text}`);
  }
  console.log(
    `\n${COUNT} namespaces: p50 ${percentile(times, 0.5).toFixed(0)} ms, p95 ${percentile(times, 0.95).toFixed(0)} ms; all ${times.map((t) => t.toFixed(0)).join(' ')}; non-2xx answers per namespace ${retried.join(' ')}; load ${(loadavg()[0] ?? 0).toFixed(2)}`,
  );
  await dispatcher.stop();
  proxy.close();
} finally {
  await procs?.stop();
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
