// Function cold start (process start → first event answered) and idle RSS per step, for the production process
// built the ways it can run, all outside the repo:
// - the image: `npm run build`'s bundle of the lean host (functions/bundle.ts, functions/host.ts) under the command
//   and env of the step's Knative Service (knative/base, node flags included);
// - tsc's output, unbundled, under the same command;
// - from source by tsx (test/support/step-server.ts), as the tests run it;
// - faas-js-runtime: the bundle's index.js under faas-js-runtime's CLI, the image's process before the lean host
//   and still a way to serve the steps (`kn func`'s runtime; a reference row);
// - the floor: the lean host (host/server.ts, its metrics registry) serving an empty step, bundled alike: what no
//   step can go below under this host;
// - faas-js-runtime's floor: its CLI serving an empty function (a reference row);
// - bare node: node:http answering 204, what no Node.js function server can go below on this machine.
// Steps reach the API server through a JSON kubeconfig, the path a pod's ServiceAccount takes too
// (shared/kube/access.ts; a YAML kubeconfig would load @kubernetes/client-node).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HTTP } from 'cloudevents';
import { parse } from 'yaml';
import { bundleEntry, bundleFunctions, EXTERNAL } from '../functions/bundle.js';
import type { StepName } from '../functions/index.js';
import { freePort, repoRoot } from '../test/harness/index.js';
import { readEventPath, renderInstall } from '../test/event-path/manifests.js';
import { STEP_SERVER, waitReady } from '../test/support/step-processes.js';
import { apiServerEvent } from '../test/unit/shared/fakes/events.js';

/** In the order the bench measures them (run by run, each in turn). */
export const VARIANTS = [
  'image',
  'tsc output',
  'tsx (source)',
  'faas-js-runtime',
  'floor',
  'faas-js-runtime floor',
  'bare node',
] as const;
export type Variant = (typeof VARIANTS)[number];

export const describeVariant: Readonly<Record<Variant, string>> = {
  image: "image (npm run build's bundle of the lean host, the Knative Service's command)",
  'tsc output': 'tsc output, unbundled, same command',
  'tsx (source)': 'tsx from source (the tests)',
  'faas-js-runtime':
    "reference: the bundle's index.js under faas-js-runtime's CLI (the image's process before)",
  floor: 'floor: the lean host serving an empty step, bundled',
  'faas-js-runtime floor': "reference floor: faas-js-runtime's CLI serving an empty function",
  'bare node': 'bare node: node:http answering 204 (no runtime)',
};

/** A row that is no way of running a step (no target applies): what the steps are compared with. */
export const isFloor = (v: Variant): boolean =>
  v === 'floor' || v === 'faas-js-runtime floor' || v === 'bare node';

/** Node's arguments (flags, then the script and its arguments) and the environment of one step process. */
export interface StepCommand {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface Builds {
  readonly command: (variant: Variant, step: StepName) => StepCommand;
  /** A JSON copy of the kubeconfig given to prepareBuilds. */
  readonly kubeconfigPath: string;
  /** The image's command (Node's arguments) for step processes started with test/support/step-processes.ts. */
  readonly imageStepServer: readonly string[];
  /** The Knative Services' NODE_OPTIONS (heap sizes), the same for every step, for those step processes. */
  readonly imageStepEnv: Readonly<Record<string, string>>;
}

/** The step's Knative Service: its container args after `node`, and its env (knative/base). */
const serviceOf = (
  step: StepName,
): { readonly args: readonly string[]; readonly env: Record<string, string> } => {
  const service = readEventPath(renderInstall()).services.find((s) => s.env.QUAY_BRIDGE_STEP === step);
  if (service === undefined) throw new Error(`no Knative Service runs QUAY_BRIDGE_STEP=${step}`);
  const [node, ...args] = service.args;
  if (node !== 'node') throw new Error(`Knative Service ${service.name} does not run \`node …\``);
  return { args, env: { ...service.env } };
};

/** Builds the image's bundle and tsc's output into `dir` (outside the repo), each beside a node_modules. */
export const prepareBuilds = async (dir: string, kubeconfigPath: string): Promise<Builds> => {
  const beside = (sub: string): string => {
    const d = join(dir, sub);
    mkdirSync(d, { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules'), join(d, 'node_modules'));
    writeFileSync(join(d, 'package.json'), JSON.stringify({ type: 'module' }));
    return d;
  };
  const image = beside('image');
  await bundleFunctions(repoRoot, join(image, 'dist'));
  const tsc = beside('tsc');
  writeFileSync(
    join(tsc, 'tsconfig.json'),
    JSON.stringify({
      extends: join(repoRoot, 'tsconfig.build.json'),
      compilerOptions: { rootDir: repoRoot, outDir: join(tsc, 'dist') },
      include: [join(repoRoot, 'functions'), join(repoRoot, 'shared')],
      exclude: [join(repoRoot, '**', '*.test.ts')],
    }),
  );
  execFileSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', join(tsc, 'tsconfig.json')], {
    stdio: 'inherit',
  });
  const cliFloor = beside('faas-js-runtime-floor');
  mkdirSync(join(cliFloor, 'functions'));
  writeFileSync(
    join(cliFloor, 'functions', 'index.js'),
    "export const handle = () => ({ statusCode: 204, headers: {}, body: '' });\n",
  );
  const floor = beside('floor');
  const floorEntry = join(floor, 'floor.ts');
  const host = (file: string): string => JSON.stringify(join(repoRoot, 'functions', 'host', file));
  writeFileSync(
    floorEntry,
    `import { hostMetrics } from ${host('metrics.ts')};\nimport { startHost } from ${host('server.ts')};\n` +
      "await startHost({ port: Number(process.env.PORT), bodyLimit: 4194304, metrics: hostMetrics(), handle: () => Promise.resolve({ statusCode: 204, headers: {}, body: '' }) });\n",
  );
  await bundleEntry(repoRoot, floor, 'floor', floorEntry, EXTERNAL);
  const bare = join(dir, 'bare-node.mjs');
  writeFileSync(
    bare,
    "import { createServer } from 'node:http';\n" +
      "createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = req.url === '/health/readiness' ? 200 : 204; res.end(); }); })" +
      ".listen(Number(process.env.PORT), '127.0.0.1');\n",
  );
  const json = join(dir, 'kubeconfig.json');
  writeFileSync(json, JSON.stringify(parse(readFileSync(kubeconfigPath, 'utf8'))));
  const cli = join(repoRoot, 'node_modules', 'faas-js-runtime', 'bin', 'cli.js');
  const underService = (step: StepName, dist: string): StepCommand => {
    const s = serviceOf(step);
    return {
      args: s.args.map((a) => (a.startsWith('dist/') ? join(dist, a.slice('dist/'.length)) : a)),
      env: s.env,
    };
  };
  const command = (variant: Variant, step: StepName): StepCommand => {
    switch (variant) {
      case 'image':
        return underService(step, join(image, 'dist'));
      case 'tsc output':
        return underService(step, join(tsc, 'dist'));
      case 'tsx (source)':
        return { args: ['--import', 'tsx', STEP_SERVER], env: serviceOf(step).env };
      case 'faas-js-runtime':
        return { args: [cli, join(image, 'dist', 'functions', 'index.js')], env: serviceOf(step).env };
      case 'floor':
        return { args: [join(floor, 'floor.js')], env: {} };
      case 'faas-js-runtime floor':
        return { args: [cli, join(cliFloor, 'functions', 'index.js')], env: {} };
      case 'bare node':
        return { args: [bare], env: {} };
    }
  };
  const nodeOptions = new Set(
    (['namespace', 'service-account', 'image-stream', 'resync', 'build'] as const).map(
      (step) => serviceOf(step).env.NODE_OPTIONS,
    ),
  );
  if (nodeOptions.size !== 1)
    throw new Error(`the step services differ in NODE_OPTIONS: ${[...nodeOptions].join(' / ')}`);
  const [shared] = nodeOptions;
  return {
    command,
    kubeconfigPath: json,
    imageStepServer: underService('namespace', join(image, 'dist')).args,
    imageStepEnv: shared === undefined ? {} : { NODE_OPTIONS: shared },
  };
};

export const rssMb = (pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m?.[1] === undefined ? NaN : Number(m[1]) / 1024;
};

const firstEvent = (step: StepName) => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } };
  switch (step) {
    case 'namespace':
      return apiServerEvent('update', ns);
    case 'service-account':
      return apiServerEvent('update', {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace: 'kube-system' },
      });
    case 'image-stream':
      return apiServerEvent('update', {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStream',
        metadata: { name: 'x', namespace: 'kube-system' },
      });
    case 'build':
      return apiServerEvent('update', {
        apiVersion: 'build.openshift.io/v1',
        kind: 'Build',
        metadata: { name: 'x', namespace: 'kube-system' },
      });
    case 'resync':
      return apiServerEvent('update', {
        apiVersion: 'quay.redhat.com/v1',
        kind: 'QuayIntegration',
        metadata: { name: 'quay' },
        status: {},
      });
  }
};

export interface ColdStart {
  readonly coldStartMs: number;
  readonly idleRssMb: number;
  /** The answer to the first event (a cold start that answers 5xx measured something else). */
  readonly status: number;
}

/** Starts one step process, sends it one event, and measures; the process is killed afterwards. */
export const coldStart = async (
  step: StepName,
  command: StepCommand,
  kubeconfigPath: string,
): Promise<ColdStart> => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...command.args], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...command.env,
      KUBECONFIG: kubeconfigPath,
      QUAY_BRIDGE_STEP: step,
      // Knative's PORT (the host), and faas-js-runtime's own (its CLI).
      PORT: String(port),
      FUNC_PORT: String(port),
    },
    stdio: 'ignore',
  });
  try {
    await waitReady(url, child);
    const message = HTTP.binary(firstEvent(step));
    for (;;) {
      const res = await fetch(url, {
        method: 'POST',
        headers: message.headers as Record<string, string>,
        body: message.body as string,
      }).catch(() => undefined);
      if (res !== undefined) {
        await res.text();
        const coldStartMs = performance.now() - started;
        await new Promise((r) => setTimeout(r, 1_000));
        return {
          coldStartMs,
          idleRssMb: child.pid === undefined ? NaN : rssMb(child.pid),
          status: res.status,
        };
      }
    }
  } finally {
    child.kill('SIGKILL');
  }
};

/** The memory limit of each step's Knative Service (knative/base), in MiB (as rssMb reads /proc), by QUAY_BRIDGE_STEP. */
export const memoryLimitsMb = (): Map<string, number> => {
  const limits = new Map<string, number>();
  for (const o of renderInstall()) {
    if (o.kind !== 'Service' || !o.apiVersion.startsWith('serving.knative.dev/')) continue;
    const containers =
      (
        o as unknown as {
          spec?: {
            template?: {
              spec?: {
                containers?: {
                  env?: { name: string; value?: string }[];
                  resources?: { limits?: { memory?: string } };
                }[];
              };
            };
          };
        }
      ).spec?.template?.spec?.containers ?? [];
    for (const c of containers) {
      const step = c.env?.find((e) => e.name === 'QUAY_BRIDGE_STEP')?.value;
      const m = /^(\d+)(Mi|Gi)$/.exec(c.resources?.limits?.memory ?? '');
      if (step !== undefined && m?.[1] !== undefined)
        limits.set(step, Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1));
    }
  }
  return limits;
};
