// Runs a Knative Service of the install as a local process, each in its own process like its pod: the container's
// command and args with the image's paths mapped to this checkout (the launcher's `node dist/x.js` becomes
// `node --import tsx x.ts`, so no build is needed), the container's env, Knative's PORT (and FUNC_PORT, which
// faas-js-runtime reads instead), Secret volumes as local directories, and a kubeconfig of the Service's
// ServiceAccount. Ready when its readiness probe answers 200.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { logTail, sleep, stopProcess } from '../harness/processes.js';
import { freePort, repoRoot } from '../harness/index.js';
import type { KnativeService } from './manifests.js';
import { spawnLogged } from './processes.js';
import type { Exit } from './supervisor.js';

export interface LocalServiceOptions {
  readonly service: KnativeService;
  readonly logFile: string;
  /** A kubeconfig for the Service's ServiceAccount (in-cluster credentials are not available out of cluster). */
  readonly kubeconfigPath?: string;
  /** Container ports besides Knative's that other objects reach (e.g. a webhook's TLS port) → local ports. */
  readonly extraPorts?: ReadonlyMap<number, number>;
  /** Secret name → a local directory holding its keys as files, for the Service's Secret volumes. */
  readonly secrets?: ReadonlyMap<string, string>;
  /** More environment (wins over the manifest's). */
  readonly env?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
  /** The port to listen on (a restart keeps its address: the broker's and the webhook registration's). */
  readonly port?: number;
  /** Aborts the start: the process is stopped and the start fails. */
  readonly signal?: AbortSignal;
}

export interface LocalService {
  readonly name: string;
  /** http://127.0.0.1:<port>/ — where Knative would route to. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly log: (lines?: number) => string;
  readonly exited: () => boolean;
  readonly stop: () => Promise<void>;
}

/** One run of a local service's process. */
export interface LocalServiceRun extends LocalService {
  /** Settles once the process has exited. */
  readonly exit: Promise<Exit>;
}

const LAUNCHER = '/cnb/lifecycle/launcher';

/** The local command of a container: under the buildpack launcher, `node <args>` with dist/*.js mapped to TS. */
export const localCommand = (
  service: KnativeService,
): { readonly bin: string; readonly args: readonly string[] } => {
  const [node, ...rest] = service.args;
  if (service.command?.[0] !== LAUNCHER || service.command.length !== 1 || node !== 'node')
    throw new Error(
      `Knative Service ${service.name}: only \`command: [${LAUNCHER}]\` with \`args: [node, …]\` can run locally`,
    );
  const mapped = rest.map((arg) => {
    const compiled = /^dist\/(.+)\.js$/.exec(arg);
    if (compiled === null) return arg;
    const source = `${compiled[1] ?? ''}.ts`;
    if (!existsSync(join(repoRoot, source)))
      throw new Error(`Knative Service ${service.name}: ${arg} has no source ${source} in this checkout`);
    return source;
  });
  return { bin: process.execPath, args: ['--import', 'tsx', ...mapped] };
};

export const startLocalService = async (o: LocalServiceOptions): Promise<LocalServiceRun> => {
  const s = o.service;
  const { bin, args } = localCommand(s);
  const port = o.port ?? (await freePort());
  const remapped = new Map<string, string>([[String(s.port), String(port)]]);
  for (const [from, to] of o.extraPorts ?? []) remapped.set(String(from), String(to));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(s.env)) {
    const mount = [...s.secretMounts.keys()].find((m) => value === m || value.startsWith(`${m}/`));
    if (mount !== undefined) {
      const secretName = s.secretMounts.get(mount) ?? '';
      const dir = o.secrets?.get(secretName);
      if (dir === undefined)
        throw new Error(`Knative Service ${s.name}: no local copy of Secret ${secretName}`);
      mkdirSync(dir, { recursive: true });
      env[name] = dir + value.slice(mount.length);
    } else env[name] = remapped.get(value) ?? value;
  }
  const child = spawnLogged(s.name, bin, args, o.logFile, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...env,
      // What Knative Serving sets in every revision's container.
      PORT: String(port),
      K_SERVICE: s.name,
      K_CONFIGURATION: s.name,
      K_REVISION: `${s.name}-00001`,
      // faas-js-runtime would listen on FUNC_PORT instead (default 8080, Knative's PORT in the cluster).
      FUNC_PORT: String(port),
      ...(o.kubeconfigPath === undefined ? {} : { KUBECONFIG: o.kubeconfigPath }),
      ...o.env,
    },
  });
  const local: LocalServiceRun = {
    name: s.name,
    url: `http://127.0.0.1:${port}/`,
    port,
    pid: child.pid,
    log: (lines = 40) => logTail(child, lines),
    exited: () => child.exited(),
    exit: child.exit,
    stop: async () => {
      await stopProcess(child);
      child.disarm();
    },
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 90_000);
  const probe = `http://127.0.0.1:${port}${s.readinessPath}`;
  try {
    for (;;) {
      if (o.signal?.aborted === true) throw new Error(`${s.name}: start aborted`);
      if (child.exited()) throw new Error(`${s.name} exited before it was ready:\n${local.log()}`);
      const answer = await fetch(probe, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (answer?.status === 200) return local;
      if (Date.now() > deadline)
        throw new Error(`${s.name} was not ready in time (${probe}):\n${local.log()}`);
      await sleep(200);
    }
  } catch (e) {
    await local.stop();
    throw e;
  }
};
