// Function cold start (process start → first event answered) and idle RSS per step, for the production entry
// (functions/index.ts under faas-js-runtime) built the ways it can run, all outside the repo:
// - the image: `npm run build`'s bundle (functions/bundle.ts) under the command and env of the step's Knative
//   Service (knative/base, node flags included), i.e. faas-js-runtime's CLI;
// - tsc's output, unbundled, under the same command;
// - from source by tsx (test/support/step-server.ts), as the tests and `npm start` run it;
// - the floor: the same CLI serving an empty function, what no step can go below under this command;
// - bare node: node:http answering 204, what no Node.js function server can go below on this machine.
// Steps reach the API server through a JSON kubeconfig, the path a pod's ServiceAccount takes too
// (shared/kube/access.ts; a YAML kubeconfig would load @kubernetes/client-node).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HTTP } from 'cloudevents';
import { parse } from 'yaml';
import { bundleFunctions } from '../functions/bundle.js';
import type { StepName } from '../functions/index.js';
import { freePort, repoRoot } from '../test/harness/index.js';
import { readEventPath, renderInstall } from '../test/event-path/manifests.js';
import { STEP_SERVER, waitReady } from '../test/support/step-processes.js';
import { apiServerEvent } from '../test/unit/shared/fakes/events.js';

export type Variant = 'image' | 'tsc output' | 'tsx (source)' | 'floor' | 'bare node';

export const describeVariant: Readonly<Record<Variant, string>> = {
  image: "image (npm run build's bundle, the Knative Service's command)",
  'tsc output': 'tsc output, unbundled, same command',
  'tsx (source)': 'tsx from source (tests, npm start)',
  floor: "floor: faas-js-runtime's CLI serving an empty function",
  'bare node': 'bare node: node:http answering 204 (no runtime)',
};

/** Node's arguments (flags, then the script and its arguments) and the environment of one step process. */
export interface StepCommand {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export interface Builds {
  readonly command: (variant: Variant, step: StepName) => StepCommand;
  /** A JSON copy of the kubeconfig given to prepareBuilds. */
  readonly kubeconfigPath: string;
  /**
   * The image's command for step processes started with test/support/step-processes.ts, which gives the port as
   * PORT: a two-line module passes it on as faas-js-runtime's FUNC_PORT, then runs the CLI unchanged.
   */
  readonly imageStepServer: readonly string[];
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
  const floor = beside('floor');
  mkdirSync(join(floor, 'functions'));
  writeFileSync(
    join(floor, 'functions', 'index.js'),
    "export const handle = () => ({ statusCode: 204, headers: {}, body: '' });\n",
  );
  const bare = join(dir, 'bare-node.mjs');
  writeFileSync(
    bare,
    "import { createServer } from 'node:http';\n" +
      "createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = req.url === '/health/readiness' ? 200 : 204; res.end(); }); })" +
      ".listen(Number(process.env.FUNC_PORT), '127.0.0.1');\n",
  );
  const json = join(dir, 'kubeconfig.json');
  writeFileSync(json, JSON.stringify(parse(readFileSync(kubeconfigPath, 'utf8'))));
  const portShim = join(image, 'port-shim.mjs');
  writeFileSync(
    portShim,
    `process.env.FUNC_PORT = process.env.PORT;\nawait import(${JSON.stringify(join(repoRoot, 'node_modules', 'faas-js-runtime', 'bin', 'cli.js'))});\n`,
  );
  const underCli = (step: StepName, dist: string): StepCommand => {
    const s = serviceOf(step);
    return {
      args: s.args.map((a) => (a.startsWith('dist/') ? join(dist, a.slice('dist/'.length)) : a)),
      env: s.env,
    };
  };
  const command = (variant: Variant, step: StepName): StepCommand => {
    switch (variant) {
      case 'image':
        return underCli(step, join(image, 'dist'));
      case 'tsc output':
        return underCli(step, join(tsc, 'dist'));
      case 'tsx (source)':
        return { args: ['--import', 'tsx', STEP_SERVER], env: {} };
      case 'floor':
        return underCli(step, floor);
      case 'bare node':
        return { args: [bare], env: {} };
    }
  };
  const imageArgs = underCli('namespace', join(image, 'dist')).args;
  const cli = imageArgs.findIndex((a) => a.endsWith(join('faas-js-runtime', 'bin', 'cli.js')));
  if (cli < 0)
    throw new Error(
      `the namespace step's command does not run faas-js-runtime's CLI: ${imageArgs.join(' ')}`,
    );
  return {
    command,
    kubeconfigPath: json,
    imageStepServer: [...imageArgs.slice(0, cli), portShim, ...imageArgs.slice(cli + 1)],
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
      // Knative's PORT (step-server.ts), and faas-js-runtime's own (its CLI).
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
