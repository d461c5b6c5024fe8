// Runs Knative's real ApiServerSource receive adapter (knative.dev/eventing cmd/apiserver_receive_adapter, built by
// test/controlplane/build.sh) out of cluster, configured the way Knative's ApiServerSource reconciler would
// configure its Deployment from the project's ApiServerSource manifest: K_SINK, K_SOURCE_CONFIG, NAME, NAMESPACE,
// SYSTEM_NAMESPACE. Out of cluster it finds the API server through KUBECONFIG (knative.dev/pkg/environment reads
// it as the default of --kubeconfig); give it a kubeconfig of the source's ServiceAccount to run with its RBAC.
//
// Ports: the adapter serves health probes on :8080 (fixed, knative.dev/pkg/injection) and pprof on :8008 unless
// PROFILING_PORT says otherwise. Neither is fatal when taken: the probe server's error is dropped and the pprof
// server only logs it. PROFILING_PORT is set to a free port, and :8080 is held by this process while the adapter
// starts (unless someone already has it), so that the adapter never takes :8080 from other processes on the
// machine (faas-js-runtime's default port): several adapters and other tests can run side by side.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { logTail, sleep, stopProcess } from '../harness/processes.js';
import { freePort, repoRoot } from '../harness/index.js';
import type { AdapterConfig } from './manifests.js';
import { spawnLogged } from './processes.js';
import type { Exit } from './supervisor.js';

export interface AdapterOptions {
  readonly config: AdapterConfig;
  /** The ApiServerSource's name and namespace (NAME and NAMESPACE of the adapter). */
  readonly name: string;
  readonly namespace: string;
  readonly sink: string;
  readonly kubeconfigPath: string;
  readonly logFile: string;
  /** How long to wait for every watch to be established. Default 60 s. */
  readonly readyTimeoutMs?: number;
  /** Aborts the start: the adapter is stopped and the start fails. */
  readonly signal?: AbortSignal;
  /**
   * Told when, once ready, the adapter lists a resource again (its watch broke, e.g. the API server restarted): like
   * its first list, a relist sends nothing, so what changed in between is found only by a resync.
   */
  readonly onRelist?: () => void;
}

export interface Adapter {
  readonly pid: number;
  readonly logFile: string;
  readonly log: (lines?: number) => string;
  readonly exited: () => boolean;
  readonly stop: () => Promise<void>;
}

/** One run of the adapter's process. */
export interface AdapterRun extends Adapter {
  /** Settles once the process has exited. */
  readonly exit: Promise<Exit>;
}

/** Listens on :port on all interfaces (as Go's ":port" does); undefined if someone already listens there. */
const holdPort = (port: number): Promise<Server | undefined> =>
  new Promise((resolve) => {
    // Whoever connects meanwhile (another process's probe of :8080) is cut off at once: an open connection would
    // hold up the close that hands the port over.
    const server = createServer((socket) => socket.destroy());
    server.once('error', () => {
      resolve(undefined);
    });
    server.listen(port, () => {
      resolve(server);
    });
  });

export const ADAPTER_PROBE_PORT = 8080;

/** The adapter binary: built from its Go module on first use (minutes), then found in the cache at once. */
export const adapterBinary = (): string => {
  const out = execFileSync('bash', [join(repoRoot, 'test', 'controlplane', 'build.sh'), 'adapter'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = out.trim().split('\n').pop();
  if (dir === undefined || dir === '')
    throw new Error('test/controlplane/build.sh adapter printed no directory');
  return join(dir, 'apiserver_receive_adapter');
};

/** What a file holds from byte `from` on (a restarted adapter appends to its predecessor's log). */
const readFrom = (file: string, from: number): string => {
  const size = statSync(file).size;
  if (size <= from) return '';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
};

const POPULATED = '"Caches populated"';

/** Watches the adapter's log from `from` on for lists of its reflectors, until the process exits. */
const followRelists = (
  file: string,
  from: number,
  m: { exited: () => boolean },
  onRelist: () => void,
): void => {
  let offset = from;
  const timer = setInterval(() => {
    if (m.exited()) {
      clearInterval(timer);
      return;
    }
    const text = readFrom(file, offset);
    const complete = text.lastIndexOf('\n') + 1; // whole lines only
    offset += Buffer.byteLength(text.slice(0, complete));
    if (text.slice(0, complete).includes(POPULATED)) onRelist();
  }, 1000);
  timer.unref();
};

/** client-go's reflector name for a GVR watched cluster-wide: GroupVersionResource.String(). */
export const reflectorName = (gvr: AdapterConfig['resources'][number]['gvr']): string =>
  `${gvr.Group}/${gvr.Version}, Resource=${gvr.Resource}`;

/**
 * Starts the adapter and resolves once every resource's reflector has listed ("Caches populated", logged at klog
 * verbosity 2). From then on its watches deliver every change: an object created after this resolves has a
 * resourceVersion after the list's and arrives as an add event. Objects that existed before arrive as nothing,
 * as in a cluster.
 */
export const startAdapter = async (o: AdapterOptions): Promise<AdapterRun> => {
  const binary = adapterBinary();
  const profilingPort = await freePort();
  const held = await holdPort(ADAPTER_PROBE_PORT);
  const release = (): Promise<void> =>
    new Promise((resolve) => {
      if (held === undefined) resolve();
      else
        held.close(() => {
          resolve();
        });
    });
  const logStart = existsSync(o.logFile) ? statSync(o.logFile).size : 0;
  const managed = spawnLogged('apiserver_receive_adapter', binary, [], o.logFile, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      KUBECONFIG: o.kubeconfigPath,
      K_SINK: o.sink,
      K_SOURCE_CONFIG: JSON.stringify(o.config),
      NAME: o.name,
      NAMESPACE: o.namespace,
      SYSTEM_NAMESPACE: 'knative-eventing',
      K_METRICS_CONFIG: '{}',
      K_LOGGING_CONFIG: '{}',
      K_KLOG_VERBOSITY: '2',
      PROFILING_PORT: String(profilingPort),
    },
  });
  const adapter: AdapterRun = {
    pid: managed.pid,
    logFile: o.logFile,
    log: (lines = 40) => logTail(managed, lines),
    exited: () => managed.exited(),
    exit: managed.exit,
    stop: async () => {
      await stopProcess(managed);
      managed.disarm();
    },
  };
  const wanted = o.config.resources.map((r) => reflectorName(r.gvr));
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  try {
    for (;;) {
      const log = readFrom(o.logFile, logStart);
      if (o.signal?.aborted === true) throw new Error('the receive adapter: start aborted');
      if (managed.exited()) throw new Error(`the receive adapter exited:\n${adapter.log()}`);
      const missing = /could not retrieve information about resource ([^:"]+)/.exec(log);
      if (missing !== null)
        throw new Error(`the receive adapter cannot watch ${missing[1] ?? '?'}:\n${adapter.log()}`);
      const waiting = wanted.filter(
        (r) => !log.includes(`"Caches populated" type="*unstructured.Unstructured" reflector="${r}"`),
      );
      // The probe server has long tried :8080 by now (before the adapter even listed).
      if (waiting.length === 0) {
        await release();
        if (o.onRelist !== undefined)
          followRelists(o.logFile, logStart + Buffer.byteLength(log), managed, o.onRelist);
        return adapter;
      }
      if (Date.now() > deadline)
        throw new Error(`the receive adapter did not list ${waiting.join('; ')} in time:\n${adapter.log()}`);
      await sleep(100);
    }
  } catch (e) {
    await adapter.stop();
    await release();
    throw e;
  }
};
