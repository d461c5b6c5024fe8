// Function cold start (process start → first event answered) and idle RSS per step, for the production entry
// (functions/index.ts under faas-js-runtime) built three ways, all outside the repo: bundled by esbuild into one
// file, compiled by tsc, and run from source by tsx.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { HTTP } from 'cloudevents';
import { repoRoot } from '../test/harness/index.js';
import { STEP_SERVER, waitReady } from '../test/support/step-processes.js';
import { freePort } from '../test/harness/index.js';
import { apiServerEvent } from '../test/unit/shared/fakes/events.js';
import type { StepName } from '../functions/index.js';

export type Variant = 'esbuild bundle' | 'tsc output' | 'tsx (source)';

export interface Builds {
  readonly command: Readonly<Record<Variant, readonly string[]>>;
}

/** Builds the bundle and the tsc output into `dir` (outside the repo). */
export const prepareBuilds = async (dir: string): Promise<Builds> => {
  const bundleDir = join(dir, 'bundle');
  const bundle = join(bundleDir, 'step-server.cjs');
  await build({
    entryPoints: [join(repoRoot, 'bench', 'bundle-entry.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bundle,
    logLevel: 'silent',
    define: { 'import.meta.url': '__import_meta_url' },
    banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  });
  // functions/runtime-patches.ts resolves faas-js-runtime at run time to reach the SDK copy the runtime uses.
  symlinkSync(join(repoRoot, 'node_modules'), join(bundleDir, 'node_modules'));
  const tscOut = join(dir, 'tsc');
  mkdirSync(tscOut, { recursive: true });
  writeFileSync(
    join(tscOut, 'tsconfig.json'),
    JSON.stringify({
      extends: join(repoRoot, 'tsconfig.json'),
      compilerOptions: { noEmit: false, rootDir: repoRoot, outDir: join(tscOut, 'out'), types: ['node'] },
      include: [join(repoRoot, 'functions'), join(repoRoot, 'shared'), STEP_SERVER],
    }),
  );
  // Bare imports (and @types) resolve through a node_modules next to the output.
  symlinkSync(join(repoRoot, 'node_modules'), join(tscOut, 'node_modules'));
  execFileSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', join(tscOut, 'tsconfig.json')], {
    stdio: 'inherit',
  });
  writeFileSync(join(tscOut, 'package.json'), JSON.stringify({ type: 'module' }));
  return {
    command: {
      'esbuild bundle': [bundle],
      'tsc output': [join(tscOut, 'out', 'test', 'support', 'step-server.js')],
      'tsx (source)': ['--import', 'tsx', STEP_SERVER],
    },
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
}

/** Starts one step process, sends it one event, and measures; the process is killed afterwards. */
export const coldStart = async (
  step: StepName,
  command: readonly string[],
  kubeconfigPath: string,
): Promise<ColdStart> => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...command], {
    cwd: repoRoot,
    env: { ...process.env, KUBECONFIG: kubeconfigPath, QUAY_BRIDGE_STEP: step, PORT: String(port) },
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
        break;
      }
    }
    const coldStartMs = performance.now() - started;
    await new Promise((r) => setTimeout(r, 1_000));
    return { coldStartMs, idleRssMb: child.pid === undefined ? NaN : rssMb(child.pid) };
  } finally {
    child.kill('SIGKILL');
  }
};
