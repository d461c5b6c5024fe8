// How long the Build webhook takes to answer an admission, measured inside the server (from the request's arrival
// to the answer handed to the socket), under a steady open-loop load over HTTPS on loopback with keep-alive
// connections, as the API server sends them. The load comes from a separate process, so that the client's work
// does not queue on the server's event loop. The settings and the builder Secret come from memory, as in
// production once the informers have synced: this measures the webhook itself, not the API server.
//
//   npx tsx bench/webhook.ts [--rate 300] [--seconds 5] [--connections 16]
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { admit, DEFAULT_MAX_BODY_BYTES, type Timing } from '../functions/build-webhook/handle.js';
import type { SettingsView } from '../functions/build-webhook/plan.js';
import { startServers } from '../functions/build-webhook/server.js';
import type { Logger } from '../shared/log.js';
import { resolveSettings } from '../shared/settings/quay-integration.js';

export interface WebhookBenchOptions {
  /** Requests started per second. Default 300. */
  readonly rate?: number;
  /** How long the load runs. Default 5 s. */
  readonly seconds?: number;
  /** Keep-alive connections the client may open. Default 16. */
  readonly connections?: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface WebhookBenchResult {
  readonly requests: number;
  readonly failures: number;
  readonly achievedRate: number;
  /** Milliseconds, inside the server. */
  readonly server: Percentiles;
  /** Milliseconds, as the client saw them (adds TLS, loopback and client scheduling). */
  readonly client: Percentiles;
  /** How many answers of each kind (mutated / allowed / denied), a check that the mix was exercised. */
  readonly answers: Readonly<Record<string, number>>;
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const percentiles = (values: number[]): Percentiles => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN };
};

const settingsView = (): SettingsView => {
  const s = resolveSettings({
    apiVersion: 'quay.redhat.com/v1',
    kind: 'QuayIntegration',
    metadata: { name: 'bench' },
    spec: {
      quayHostname: 'https://quay.example.com',
      credentialsSecret: { namespace: 'quay-bridge', name: 'token' },
    },
  });
  if (E.isLeft(s)) throw new Error(s.left.message);
  return { _tag: 'Ready', settings: s.right };
};

/** A realistic mix: most Builds redirected, some let through, a few denied (unprovisioned namespace). */
const reviews = (): string[] => {
  const build = (i: number, output: object, annotations: Record<string, string> | undefined) => ({
    apiVersion: 'build.openshift.io/v1',
    kind: 'Build',
    metadata: {
      name: `app-${i}`,
      ...(annotations === undefined ? {} : { annotations }),
      labels: { buildconfig: 'app', 'openshift.io/build-config.name': 'app' },
    },
    spec: {
      serviceAccount: 'builder',
      source: { type: 'Git', git: { uri: 'https://example.com/app.git', ref: 'main' }, contextDir: 'src' },
      strategy: {
        type: 'Source',
        sourceStrategy: { from: { kind: 'DockerImage', name: 'registry/nodejs:20' } },
      },
      output,
      resources: {},
      postCommit: {},
      nodeSelector: null,
      triggeredBy: [{ message: 'Build configuration change' }],
    },
    status: { phase: 'New' },
  });
  const review = (i: number, namespace: string, object: object) =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
        kind: { group: 'build.openshift.io', version: 'v1', kind: 'Build' },
        resource: { group: 'build.openshift.io', version: 'v1', resource: 'builds' },
        namespace,
        operation: 'CREATE',
        userInfo: { username: 'system:serviceaccount:openshift-infra:build-config-change-controller' },
        object,
        oldObject: null,
        dryRun: false,
      },
    });
  const out: string[] = [];
  for (let i = 0; i < 20; i++) {
    if (i % 10 === 9)
      out.push(review(i, 'unprovisioned', build(i, { to: { kind: 'ImageStreamTag', name: 'app:v1' } }, {})));
    else if (i % 5 === 4)
      out.push(
        review(i, 'team-a', build(i, { to: { kind: 'DockerImage', name: 'docker.io/me/app:v1' } }, {})),
      );
    else
      out.push(
        review(
          i,
          'team-a',
          build(
            i,
            { to: { kind: 'ImageStreamTag', name: 'app:v1' } },
            i % 2 === 0 ? undefined : { 'openshift.io/build.number': '3' },
          ),
        ),
      );
  }
  return out;
};

const selfSigned = (dir: string): { cert: string; key: string } => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=bench',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'tls.key'),
      '-out',
      join(dir, 'tls.crt'),
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: readFileSync(join(dir, 'tls.crt'), 'utf8'),
    key: readFileSync(join(dir, 'tls.key'), 'utf8'),
  };
};

const post = (agent: https.Agent, port: number, body: string): Promise<{ status: number; outcome: string }> =>
  new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/admissionwebhook?timeout=5s',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const r = (
            JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              response?: { allowed?: boolean; patch?: string };
            }
          ).response;
          const outcome = r?.allowed === false ? 'denied' : r?.patch !== undefined ? 'mutated' : 'allowed';
          resolve({ status: res.statusCode ?? 0, outcome });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

export const benchWebhook = async (o: WebhookBenchOptions = {}): Promise<WebhookBenchResult> => {
  const rate = o.rate ?? 300;
  const seconds = o.seconds ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'bench-webhook-'));
  const tls = selfSigned(dir);
  const view = settingsView();
  const serverMs: number[] = [];
  const servers = await startServers({
    port: 0,
    tlsPort: 0,
    host: '127.0.0.1',
    tls,
    ready: () => true,
    admission: {
      admit: admit({
        view: () => view,
        builderSecret: (namespace) =>
          Promise.resolve({ _tag: namespace === 'unprovisioned' ? 'Absent' : 'Present' }),
      }),
      log: silent,
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    },
    onTiming: (t: Timing) => {
      serverMs.push(t.ms);
    },
  });
  try {
    const load = await runLoad({
      port: servers.tlsPort,
      ca: tls.cert,
      rate,
      seconds,
      connections: o.connections ?? 16,
      warmup: 50,
    });
    // The warm-up requests (TLS handshakes, JIT) are the first ones the server timed.
    const measured = serverMs.slice(50);
    return {
      requests: load.requests,
      failures: load.failures,
      achievedRate: load.requests / load.seconds,
      server: percentiles(measured),
      client: percentiles(load.clientMs),
      answers: load.answers,
    };
  } finally {
    await servers.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

interface LoadPlan {
  readonly port: number;
  readonly ca: string;
  readonly rate: number;
  readonly seconds: number;
  readonly connections: number;
  readonly warmup: number;
}

interface LoadResult {
  readonly requests: number;
  readonly failures: number;
  readonly seconds: number;
  readonly clientMs: number[];
  readonly answers: Record<string, number>;
}

const CLIENT_FLAG = '--bench-webhook-client';

/** Runs the load generator in a child process (this file, with the loader flags of this one). */
const runLoad = (plan: LoadPlan): Promise<LoadResult> =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [CLIENT_FLAG], { execArgv: process.execArgv });
    let result: LoadResult | undefined;
    child.once('message', (m) => {
      result = m as LoadResult;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`the bench client exited with ${String(code)} without a result`));
    });
    child.send(plan);
  });

const generateLoad = async (plan: LoadPlan): Promise<LoadResult> => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: plan.connections, ca: plan.ca });
  const bodies = reviews();
  const clientMs: number[] = [];
  const answers: Record<string, number> = {};
  let failures = 0;
  try {
    for (let i = 0; i < plan.warmup; i++) await post(agent, plan.port, bodies[i % bodies.length] ?? '');
    const total = Math.round(plan.rate * plan.seconds);
    const started = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      // Open loop: request i starts at i/rate seconds, however slow earlier answers are.
      const wait = started + (i * 1000) / plan.rate - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      inflight.push(
        post(agent, plan.port, bodies[i % bodies.length] ?? '').then(
          ({ status, outcome }) => {
            clientMs.push(performance.now() - t0);
            if (status !== 200) failures += 1;
            answers[outcome] = (answers[outcome] ?? 0) + 1;
          },
          () => {
            failures += 1;
          },
        ),
      );
    }
    await Promise.all(inflight);
    return { requests: total, failures, seconds: (performance.now() - started) / 1000, clientMs, answers };
  } finally {
    agent.destroy();
  }
};

const fmt = (p: Percentiles): string =>
  `p50 ${p.p50.toFixed(3)} ms, p90 ${p.p90.toFixed(3)} ms, p99 ${p.p99.toFixed(3)} ms, max ${p.max.toFixed(3)} ms`;

export const printWebhookBench = (
  r: WebhookBenchResult,
  write: (line: string) => void = console.log,
): void => {
  write(
    `webhook admission: ${r.requests} requests at ${r.achievedRate.toFixed(0)}/s over HTTPS (loopback), ` +
      `${r.failures} failed; answers ${JSON.stringify(r.answers)}`,
  );
  write(`  server-side: ${fmt(r.server)}`);
  write(`  client-side: ${fmt(r.client)}`);
};

if (process.argv.includes(CLIENT_FLAG)) {
  process.once('message', (plan) => {
    void generateLoad(plan as LoadPlan).then((r) => {
      process.send?.(r, () => {
        process.disconnect();
      });
    });
  });
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    const v = i === -1 ? undefined : Number(process.argv[i + 1]);
    return v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const rate = arg('rate');
  const seconds = arg('seconds');
  const connections = arg('connections');
  benchWebhook({
    ...(rate === undefined ? {} : { rate }),
    ...(seconds === undefined ? {} : { seconds }),
    ...(connections === undefined ? {} : { connections }),
  })
    .then((r) => {
      printWebhookBench(r);
    })
    .catch((e: unknown) => {
      process.stderr.write(`bench/webhook: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    });
}
