// An envtest-style control plane: etcd + kube-apiserver + kube-controller-manager on loopback, built from the
// published Go modules by test/controlplane/build.sh, with a throwaway PKI, RBAC authorization and a kubeconfig.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import {
  supervise,
  type Backoff,
  type Exit,
  type Incarnation,
  type Supervised,
  type SupervisorEvent,
} from '../event-path/supervisor.js';
import { createPki, type Pki } from './certs.js';
import { freePort, isPortFree } from './ports.js';
import {
  armWatchdog,
  isAlive,
  logTail,
  sleep,
  startProcess,
  stopProcess,
  type Managed,
} from './processes.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ControlPlane {
  readonly kubeConfig: KubeConfig;
  readonly kubeconfigPath: string;
  readonly serverUrl: string;
  /** gitVersion reported by the API server's /version. */
  readonly version: string;
  readonly pki: Pki;
  /** Every process it started (with a supervised control plane's restarts). */
  readonly pids: readonly number[];
  /** The pid of a process running now, by name (etcd, kube-apiserver, kube-controller-manager). */
  readonly pidOf: (name: string) => number | undefined;
  /** Its supervised processes (none unless `supervision` was given). */
  readonly supervised: readonly Supervised<Incarnation>[];
  readonly ports: readonly number[];
  readonly dir: string;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Run kube-controller-manager (namespace finalization, garbage collection, service accounts). Default true. */
  readonly controllerManager?: boolean;
  /** Keep the working directory (logs, certificates, etcd data) after stop. */
  readonly keepDir?: boolean;
  /**
   * Keep every process running once up, as `npm start` does (test/event-path/supervisor.ts): one that exits is told
   * here and started again with the same arguments (same ports, same etcd data). Default: not supervised.
   */
  readonly supervision?: {
    readonly onEvent: (e: SupervisorEvent) => void;
    readonly backoff?: Partial<Backoff>;
  };
}

interface Spec {
  readonly name: string;
  readonly bin: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** Resolves once a (re)started process serves. */
  readonly ready?: (m: Managed) => Promise<void>;
}

/** A run of a control-plane process, for the supervisor; a restarted one has a watchdog of its own. */
const incarnation = (m: Managed, disarm: () => void = () => undefined): Incarnation & { m: Managed } => ({
  m,
  pid: m.pid,
  exit: new Promise<Exit>((resolve) => {
    if (m.exited()) resolve({ code: m.child.exitCode, signal: m.child.signalCode });
    else
      m.child.once('exit', (code, signal) => {
        resolve({ code, signal });
      });
  }),
  stop: async () => {
    await stopProcess(m);
    disarm();
  },
});

/** Builds the binaries if their cache is cold (minutes), else returns at once. */
export const controlPlaneBinaries = (): string => {
  const out = execFileSync('bash', [join(repoRoot, 'test', 'controlplane', 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = out.trim().split('\n').pop();
  if (dir === undefined || dir === '') throw new Error('test/controlplane/build.sh printed no bin directory');
  return dir;
};

const kubeconfigYaml = (server: string, pki: Pki, cert: string, key: string): string => {
  const b64 = (file: string): string => execFileSync('base64', ['-w0', file], { encoding: 'utf8' });
  return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(pki.caCert)}
users:
- name: admin
  user:
    client-certificate-data: ${b64(cert)}
    client-key-data: ${b64(key)}
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`;
};

const httpsGet = (url: string, pki: Pki): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: pki.caPem, cert: readPem(pki.adminCert), key: readPem(pki.adminKey), timeout: 2000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });

const pemCache = new Map<string, string>();
const readPem = (file: string): string => {
  let pem = pemCache.get(file);
  if (pem === undefined) {
    pem = execFileSync('cat', [file], { encoding: 'utf8' });
    pemCache.set(file, pem);
  }
  return pem;
};

const waitFor = async (
  what: string,
  procs: readonly Managed[],
  check: () => Promise<boolean>,
  timeoutMs: number,
) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = procs.find((p) => p.exited());
    if (dead !== undefined)
      throw new Error(`${dead.name} exited while waiting for ${what}:\n${logTail(dead)}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}:\n${procs.map((p) => `--- ${p.name}\n${logTail(p, 15)}`).join('\n')}`,
      );
    }
    await sleep(200);
  }
};

export const startControlPlane = async (opts: ControlPlaneOptions = {}): Promise<ControlPlane> => {
  const bin = controlPlaneBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'quay-bridge-cp-'));
  const pki = createPki(dir);
  const [etcdClient, etcdPeer, apiPort, kcmPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const serverUrl = `https://127.0.0.1:${apiPort}`;
  const kubeconfigPath = join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml(serverUrl, pki, pki.adminCert, pki.adminKey), { mode: 0o600 });

  const procs: Managed[] = [];
  const specs: Spec[] = [];
  const started: number[] = [];
  const run = (spec: Spec): Managed => {
    specs.push(spec);
    const m = startProcess(spec.name, spec.bin, spec.args, spec.logFile);
    started.push(m.pid);
    return m;
  };
  const supervised: Supervised<Incarnation & { m: Managed }>[] = [];
  let disarm = (): void => undefined;
  const stop = async (): Promise<void> => {
    // Reverse order: controllers first, etcd last, so nothing logs storms about a vanished store.
    for (const sv of [...supervised].reverse()) await sv.stop();
    for (const p of [...procs].reverse()) await stopProcess(p);
    disarm();
    if (opts.keepDir !== true) rmSync(dir, { recursive: true, force: true });
  };

  try {
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    procs.push(
      run({
        name: 'etcd',
        bin: join(bin, 'etcd'),
        args: [
          '--name=default',
          `--data-dir=${join(dir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
          '--unsafe-no-fsync', // a test store: durability buys nothing here and fsync dominates latency
          '--log-level=warn',
        ],
        logFile: join(dir, 'etcd.log'),
      }),
    );
    const apiserverReady = (m: Managed): Promise<void> =>
      waitFor(
        'kube-apiserver /readyz',
        [m],
        async () => (await httpsGet(`${serverUrl}/readyz`, pki)).status === 200,
        90_000,
      );
    procs.push(
      run({
        name: 'kube-apiserver',
        bin: join(bin, 'kube-apiserver'),
        args: [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${apiPort}`,
          `--cert-dir=${dir}`,
          `--tls-cert-file=${pki.servingCert}`,
          `--tls-private-key-file=${pki.servingKey}`,
          `--client-ca-file=${pki.caCert}`,
          '--authorization-mode=RBAC',
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          `--service-account-key-file=${pki.serviceAccountPub}`,
          `--service-account-signing-key-file=${pki.serviceAccountKey}`,
          '--service-cluster-ip-range=10.0.0.0/24',
          '--allow-privileged=true',
          '--endpoint-reconciler-type=none',
          '--enable-priority-and-fairness=false',
        ],
        logFile: join(dir, 'kube-apiserver.log'),
        ready: apiserverReady,
      }),
    );
    disarm = armWatchdog(
      procs.map((p) => p.pid),
      opts.keepDir === true ? undefined : dir,
    );
    await waitFor(
      'kube-apiserver /readyz',
      procs,
      async () => (await httpsGet(`${serverUrl}/readyz`, pki)).status === 200,
      90_000,
    );

    if (opts.controllerManager !== false) {
      procs.push(
        run({
          name: 'kube-controller-manager',
          bin: join(bin, 'kube-controller-manager'),
          args: [
            `--kubeconfig=${kubeconfigPath}`,
            `--authentication-kubeconfig=${kubeconfigPath}`,
            `--authorization-kubeconfig=${kubeconfigPath}`,
            '--bind-address=127.0.0.1',
            `--secure-port=${kcmPort}`,
            `--cert-dir=${join(dir, 'kcm')}`,
            '--leader-elect=false',
            '--use-service-account-credentials=false',
            `--service-account-private-key-file=${pki.serviceAccountKey}`,
            `--root-ca-file=${pki.caCert}`,
            '--controllers=namespace-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller',
          ],
          logFile: join(dir, 'kube-controller-manager.log'),
        }),
      );
      disarm();
      disarm = armWatchdog(
        procs.map((p) => p.pid),
        opts.keepDir === true ? undefined : dir,
      );
      // The serviceaccount controller creating `default` in `default` shows the controllers are running.
      await waitFor(
        'kube-controller-manager',
        procs,
        async () =>
          (await httpsGet(`${serverUrl}/api/v1/namespaces/default/serviceaccounts/default`, pki)).status ===
          200,
        90_000,
      );
    }

    const watch = opts.supervision;
    if (watch !== undefined)
      for (const [i, spec] of specs.entries()) {
        let first: Managed | undefined = procs[i];
        supervised.push(
          await supervise({
            name: spec.name,
            start: async (signal) => {
              if (first !== undefined) {
                const m = first;
                first = undefined;
                return incarnation(m);
              }
              const m = startProcess(spec.name, spec.bin, spec.args, spec.logFile);
              started.push(m.pid);
              const inc = incarnation(m, armWatchdog([m.pid]));
              try {
                await spec.ready?.(m);
                if (signal.aborted) throw new Error(`${spec.name}: start aborted`);
              } catch (e) {
                await inc.stop();
                throw e;
              }
              return inc;
            },
            log: (inc) => logTail(inc.m, 8),
            onEvent: watch.onEvent,
            ...(watch.backoff === undefined ? {} : { backoff: watch.backoff }),
          }),
        );
      }

    const version = (JSON.parse((await httpsGet(`${serverUrl}/version`, pki)).body) as { gitVersion: string })
      .gitVersion;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    return {
      kubeConfig,
      kubeconfigPath,
      serverUrl,
      version,
      pki,
      get pids() {
        return [...started];
      },
      supervised,
      pidOf: (name) => {
        const sv = supervised.find((x) => x.name === name);
        if (sv !== undefined) return sv.current()?.pid;
        const m = procs.find((p) => p.name === name);
        return m === undefined || m.exited() ? undefined : m.pid;
      },
      ports: [etcdClient, etcdPeer, apiPort, kcmPort],
      dir,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
};

/** What a stopped control plane left behind: live processes and bound ports (both should be empty). */
export const leftovers = async (cp: Pick<ControlPlane, 'pids' | 'ports'>): Promise<string[]> => {
  const found: string[] = [];
  for (const pid of cp.pids) if (isAlive(pid)) found.push(`process ${pid} still running`);
  for (const port of cp.ports) if (!(await isPortFree(port))) found.push(`port ${port} still bound`);
  return found;
};
