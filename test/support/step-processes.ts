// Step processes for tests and the bench: each step under its host (functions/host.ts) in a child process on a fixed port, its
// output fed to the log ledger; a process can be SIGKILLed and a fresh one started on the same port (what Knative
// does when a pod dies: the broker's retries then reach the new pod).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { StepName } from '../../functions/index.js';
import { freePort, repoRoot } from '../harness/index.js';
import { recordStream } from './log-ledger.js';

export interface StepProcess {
  readonly step: StepName;
  readonly port: number;
  readonly url: string;
  child: ChildProcess;
}

export interface StepProcesses {
  readonly urlOf: (step: StepName) => string;
  readonly get: (step: StepName) => StepProcess;
  /** SIGKILL, and wait for the process to be gone. */
  readonly kill: (step: StepName) => Promise<void>;
  /** A fresh process on the same port; resolves when it is ready. */
  readonly restart: (step: StepName) => Promise<void>;
  readonly stop: () => Promise<void>;
}

export const STEP_SERVER = join(repoRoot, 'test', 'support', 'step-server.ts');

export interface SpawnOptions {
  readonly kubeconfigPath: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Node arguments and entry; default tsx running step-server.ts. */
  readonly command?: readonly string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const waitReady = async (url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `step process exited (${String(child.exitCode ?? child.signalCode)}) before it was ready`,
      );
    const ok = await fetch(`${url}/health/readiness`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`step process at ${url} not ready in time`);
    await sleep(50);
  }
};

export const spawnStep = (step: StepName, port: number, o: SpawnOptions): ChildProcess => {
  const child = spawn(process.execPath, [...(o.command ?? ['--import', 'tsx', STEP_SERVER])], {
    cwd: repoRoot,
    env: {
      ...process.env,
      KUBECONFIG: o.kubeconfigPath,
      QUAY_BRIDGE_STEP: step,
      PORT: String(port),
      QUAY_BRIDGE_SETTINGS_TTL_SECONDS: '0',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  recordStream(`${step}[${String(child.pid)}] stdout`, child.stdout);
  recordStream(`${step}[${String(child.pid)}] stderr`, child.stderr);
  return child;
};

const gone = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) =>
        child.once('exit', () => {
          r();
        }),
      );

export const startStepProcesses = async (
  steps: readonly StepName[],
  o: SpawnOptions,
): Promise<StepProcesses> => {
  const procs = new Map<StepName, StepProcess>();
  for (const step of steps) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    procs.set(step, { step, port, url, child: spawnStep(step, port, o) });
  }
  const get = (step: StepName): StepProcess => {
    const p = procs.get(step);
    if (p === undefined) throw new Error(`no process for step ${step}`);
    return p;
  };
  const stopAll = async (): Promise<void> => {
    for (const p of procs.values()) {
      p.child.kill('SIGKILL');
      await gone(p.child);
    }
  };
  try {
    await Promise.all([...procs.values()].map((p) => waitReady(p.url, p.child)));
  } catch (e) {
    await stopAll();
    throw e;
  }
  return {
    urlOf: (step) => get(step).url,
    get,
    kill: async (step) => {
      const p = get(step);
      p.child.kill('SIGKILL');
      await gone(p.child);
    },
    restart: async (step) => {
      const p = get(step);
      p.child = spawnStep(step, p.port, o);
      await waitReady(p.url, p.child);
    },
    stop: stopAll,
  };
};
