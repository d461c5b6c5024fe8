// `npm start`: the whole bridge on this machine.
//
// With a kubeconfig whose cluster holds a QuayIntegration, it runs against that cluster and the Quay it names
// (scripts/cluster.ts: the steps, the broker stand-in and Knative's receive adapter run here, nothing is installed
// there). `npm start -- --cluster` insists on that; `npm start -- --embedded` never looks at the kubeconfig.
//
// Otherwise, with no cluster and no Quay of your own, it starts the embedded stack of the end-to-end tests (real etcd + kube-apiserver + kube-controller-manager, the OpenShift stand-in, the
// Quay emulator, Knative's real ApiServerSource adapter, the broker stand-in, every step and the webhook as their
// own processes), applies a sample QuayIntegration, prints where everything listens and a command to try, then shows
// each event handled as it happens. Ctrl-C stops everything. `npm start -- --quay <url> --quay-token-file <file>`
// points that embedded cluster at your own Quay instead of the emulator (Builds push to it through its registry API).
//
// Either way it is the bridge's supervisor, as the kubelet is in a cluster: a process that dies is reported at once
// and started again (test/event-path/supervisor.ts), and a health line is printed every minute, on SIGUSR1, and on
// any key when the terminal is interactive.
//
// package.json runs it as `node --import tsx`, not under tsx's CLI: that CLI relays Ctrl-C to its child and
// SIGKILLs it when the child has not acknowledged within 30 ms, as a busy start-up or stop can fail to, cutting the
// orderly stop short.
import { openSync, readdirSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  crdFiles,
  installCrds,
  readCrds,
  startControlPlane,
  type ControlPlane,
} from '../test/harness/index.js';
import { kubeRest } from '../test/event-path/kube-rest.js';
import { healthOf, startStack, type ProcessHealth } from '../test/event-path/stack.js';
import { describeEvent } from '../test/event-path/supervisor.js';
import { startClusterBridge } from './cluster.js';
import { summaryLine } from './health.js';
import { noteLogLine, transcribe, type Totals } from './transcript.js';
import { decideTarget, kubeconfigPath, probeCluster, type Mode } from './target.js';

// Every child process has an exit listener (its watchdog's, test/harness/processes.ts): a dozen of them is expected.
process.setMaxListeners(64);

const CLUSTER_ID = 'local';
const totals: Totals = { events: 0, quayCalls: 0, errors: 0, kubeEvents: 0 };
/** The embedded stack's control plane, once started: stopped last. */
let embedded: ControlPlane | undefined;
const stopEmbedded = async (): Promise<void> => {
  const cp = embedded;
  embedded = undefined;
  await cp?.stop();
};
const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** One readable line per event a step handled (the steps log one JSON line per event). */
const describe = (service: string, line: string): string | undefined => {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof entry.outcome !== 'string') return undefined;
  const str = (k: string): string => (typeof entry[k] === 'string' ? entry[k] : '');
  const object = [str('namespace'), str('name')].filter((s) => s !== '').join('/');
  const calls = typeof entry.quayCalls === 'number' ? `, ${String(entry.quayCalls)} Quay calls` : '';
  const ms = typeof entry.durationMs === 'number' ? `, ${String(Math.round(entry.durationMs))} ms` : '';
  const why = str('reason') !== '' ? ` (${str('reason')})` : str('error') !== '' ? ` (${str('error')})` : '';
  return `${service.replace(/^quay-bridge-/, '').padEnd(16)} ${str('kind').padEnd(15)} ${object.padEnd(30)} ${entry.outcome}${why}${calls}${ms}`;
};

/** Events the steps handled, counted from their log lines. */
interface Tally {
  handled: number;
  errors: number;
}

const tallied = (tally: Tally, line: string): void => {
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (typeof entry.outcome !== 'string') return;
    tally.handled += 1;
    if (entry.outcome === 'failed' || entry.outcome === 'rejected') tally.errors += 1;
  } catch {
    // not an event line
  }
};

/** Follows every service's log file from its current end (or from its start), printing the handled events. */
const follow = (logDir: string, tally: Tally, fromStart = false): (() => void) => {
  const offsets = new Map<string, number>();
  const partial = new Map<string, string>();
  const tick = (): void => {
    for (const file of readdirSync(logDir).filter((f) => f.endsWith('.log'))) {
      const path = join(logDir, file);
      const size = statSync(path).size;
      const from = offsets.get(path) ?? 0;
      if (size <= from) continue;
      const fd = openSync(path, 'r');
      const buf = Buffer.alloc(size - from);
      readSync(fd, buf, 0, buf.length, from);
      closeSync(fd);
      offsets.set(path, size);
      const text = (partial.get(path) ?? '') + buf.toString('utf8');
      const lines = text.split('\n');
      partial.set(path, lines.pop() ?? '');
      for (const l of lines) {
        noteLogLine(totals, l);
        tallied(tally, l);
        const shown = describe(file.replace(/\.log$/, ''), l);
        if (shown !== undefined) say(shown);
      }
    }
  };
  if (!fromStart)
    for (const file of readdirSync(logDir).filter((f) => f.endsWith('.log')))
      offsets.set(join(logDir, file), statSync(join(logDir, file)).size);
  const timer = setInterval(tick, 250);
  return () => {
    clearInterval(timer);
  };
};

/**
 * Prints the health line every minute, on SIGUSR1 and on any key of an interactive terminal (whose raw mode turns
 * Ctrl-C into a key: it stops, as the signal does). Returns what stops the printing.
 */
const healthReports = (line: () => string, interrupt: () => void): (() => void) => {
  const show = (): void => {
    say(line());
  };
  const timer = setInterval(show, 60_000);
  process.on('SIGUSR1', show);
  const stdin = process.stdin;
  const onKey = (key: Buffer): void => {
    if (key.includes(3)) interrupt();
    else show();
  };
  if (stdin.isTTY) {
    stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
  }
  return () => {
    clearInterval(timer);
    process.removeListener('SIGUSR1', show);
    if (stdin.isTTY) {
      stdin.removeListener('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
  };
};

const healthHint = (): string =>
  `A health line comes every minute, on \`kill -USR1 ${String(process.pid)}\`${process.stdin.isTTY ? ' and on any key' : ''}.`;

/** Runs until Ctrl-C (or SIGTERM), then `stop`s and exits. Returns the same stop, for a Ctrl-C key. */
const stopOnSignal = (stop: () => Promise<void>): (() => void) => {
  let stopping = false;
  const once = (): void => {
    if (stopping) return;
    stopping = true;
    say('\nStopping...');
    void stop().then(
      () => {
        say('Stopped.');
        process.exit(0);
      },
      (e: unknown) => {
        say(`stopping: ${explain(e)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', once);
  process.on('SIGTERM', once);
  return once;
};

const pidOf = (processes: readonly ProcessHealth[], name: string): string => {
  const pid = processes.find((p) => p.name === name)?.pid;
  return pid === undefined ? '' : `  (pid ${String(pid)})`;
};

const runAgainstCluster = async (path: string, integration: string, server: string): Promise<void> => {
  say(`Running against the cluster of ${path} (${server}), QuayIntegration ${integration}.`);
  say(
    'Starting the steps, the broker stand-in and the ApiServerSource adapter here (nothing is installed there)...',
  );
  const started = Date.now();
  const bridge = await startClusterBridge({ kubeconfigPath: path, supervision: { say } });
  const tally: Tally = { handled: 0, errors: 0 };
  const unfollow = transcribe(follow(bridge.logDir, tally, true), path, totals, say);
  let unreport = (): void => undefined;
  const interrupt = stopOnSignal(async () => {
    unreport();
    unfollow();
    await bridge.stop();
  });
  unreport = healthReports(
    () =>
      summaryLine({
        processes: bridge.processes(),
        ...tally,
        deadLetters: bridge.broker.deadLetters().length,
        clusterLost: bridge.clusterLost(),
      }),
    interrupt,
  );
  say();
  say(`quay-bridge is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s).`);
  say(`  Kubernetes API   ${bridge.server}`);
  say(`  broker stand-in  ${bridge.broker.url}`);
  for (const s of bridge.services.values())
    say(`  ${s.name.replace(/^quay-bridge-/, '').padEnd(16)} ${s.url}${pidOf(bridge.processes(), s.name)}`);
  for (const name of bridge.adapters.keys()) {
    const adapter = `apiserver_receive_adapter ${name}`;
    say(`  ${'receive adapter'.padEnd(16)} ${name}${pidOf(bridge.processes(), adapter)}`);
  }
  say(`  logs             ${bridge.logDir}`);
  say();
  if (bridge.unserved.length > 0)
    say(`Not watched (this cluster does not serve them): ${bridge.unserved.join(', ')}.`);
  say(
    `Not run here: ${bridge.notRun.join(', ')} (the API server cannot call this machine), so Builds are not rewritten`,
  );
  say('to push to Quay; deploy knative/ for that (README, "Deploying to a cluster").');
  say(
    'Namespaces the bridge handles carry its finalizer quay.redhat.com/quayintegrations: one deleted while no',
  );
  say('quay-bridge runs waits in Terminating until one runs again (README, "Uninstall", releases them all).');
  say('A resync ran at start (what existed is synced) and runs every 30 minutes.');
  say('A process that dies is started again; losing and regaining the cluster is said here. ' + healthHint());
  say();
  say('Events handled (Ctrl-C stops everything):');
};

const main = async (): Promise<void> => {
  const { values: flags } = parseArgs({
    options: {
      embedded: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      quay: { type: 'string' },
      'quay-token-file': { type: 'string' },
    },
  });
  if (flags.embedded && flags.cluster) throw new Error('--embedded and --cluster exclude each other');
  if ((flags.quay === undefined) !== (flags['quay-token-file'] === undefined))
    throw new Error('--quay <url> and --quay-token-file <file> go together');
  if (flags.quay !== undefined && flags.cluster)
    throw new Error(
      '--quay is for the embedded cluster; against your cluster, the QuayIntegration names the Quay',
    );
  const own =
    flags.quay === undefined
      ? undefined
      : {
          url: new URL(flags.quay).origin,
          token: readFileSync(flags['quay-token-file'] ?? '', 'utf8').trim(),
        };
  const asked: Mode | undefined =
    flags.embedded || own !== undefined ? 'embedded' : flags.cluster ? 'cluster' : undefined;
  const target = decideTarget(
    asked,
    asked === 'embedded' ? undefined : await probeCluster(kubeconfigPath(process.env)),
  );
  if (target.mode === 'refuse') throw new Error(target.reason);
  if (target.mode === 'cluster') {
    await runAgainstCluster(target.kubeconfigPath, target.integration, target.server);
    return;
  }
  if (target.notice !== undefined) {
    say(target.notice);
    say();
  }
  say(
    'Starting the embedded stack: control plane (the first run builds it from Go modules, which takes minutes),',
  );
  say('OpenShift stand-in, Quay emulator, ApiServerSource adapter, broker stand-in, steps and webhook...');
  const started = Date.now();
  // Supervised like the rest: a control-plane process that dies is told and started again.
  const controlPlane = await startControlPlane({
    supervision: {
      onEvent: (e) => {
        say(describeEvent(e));
      },
    },
  });
  embedded = controlPlane;
  await installCrds(controlPlane.kubeConfig, readCrds(crdFiles()));
  // The install made for the sample's clusterID, so that its RBAC names the robot Secrets the sample makes.
  const stack = await startStack({
    controlPlane,
    clusterID: CLUSTER_ID,
    pingIntervalMs: 5 * 60_000,
    keepLogs: true,
    ...(own?.url.startsWith('http:') === true ? { httpRegistries: [new URL(own.url).host] } : {}),
    supervision: { say },
  });
  const tally: Tally = { handled: 0, errors: 0 };
  let unfollow = (): void => undefined;
  let unreport = (): void => undefined;
  const interrupt = stopOnSignal(async () => {
    unreport();
    unfollow();
    await stack.stop().finally(stopEmbedded);
  });

  const rest = await kubeRest(controlPlane.kubeConfig);
  const quayUrl = own?.url ?? stack.quay.url;
  const token =
    own?.token ??
    stack.quay.createToken('quayadmin', [
      'org:admin',
      'repo:admin',
      'repo:create',
      'repo:read',
      'repo:write',
      'user:read',
      'user:admin',
    ]);
  const created = [
    await rest.createOrReplace({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'quay-integration', namespace: 'quay-bridge' },
      stringData: { token },
    }),
    await rest.createOrReplace({
      apiVersion: 'quay.redhat.com/v1',
      kind: 'QuayIntegration',
      metadata: { name: 'local' },
      spec: {
        clusterID: CLUSTER_ID,
        quayHostname: quayUrl,
        credentialsSecret: { namespace: 'quay-bridge', name: 'quay-integration' },
        insecureRegistry: quayUrl.startsWith('http:'),
        denylistNamespaces: ['quay-bridge'],
      },
    }),
  ];
  for (const answer of created)
    if (answer.status >= 300) throw new Error(`applying the sample: HTTP ${answer.status} ${answer.body}`);
  unfollow = transcribe(follow(stack.logDir, tally), controlPlane.kubeconfigPath, totals, say);
  unreport = healthReports(
    () =>
      summaryLine({
        processes: [...healthOf([...controlPlane.supervised]), ...stack.processes()],
        ...tally,
        deadLetters: stack.broker.deadLetters().length,
      }),
    interrupt,
  );

  const pki = controlPlane.pki;
  say();
  say(`quay-bridge is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s).`);
  say(`  Kubernetes API   ${controlPlane.serverUrl} (${controlPlane.version})`);
  say(`  kubeconfig       ${controlPlane.kubeconfigPath}`);
  say(
    `  control plane    ${controlPlane.supervised.map((p) => `${p.name} (pid ${String(p.current()?.pid ?? '?')})`).join(', ')}`,
  );
  if (own === undefined) say(`  Quay emulator    ${stack.quay.url}   token: ${token}`);
  else say(`  Quay (yours)     ${own.url}   token from ${flags['quay-token-file'] ?? ''}`);
  say(`  broker stand-in  ${stack.broker.url}`);
  for (const s of stack.services.values())
    say(`  ${s.name.replace(/^quay-bridge-/, '').padEnd(16)} ${s.url}${pidOf(stack.processes(), s.name)}`);
  for (const name of stack.adapters.keys()) {
    const adapter = `apiserver_receive_adapter ${name}`;
    say(`  ${'receive adapter'.padEnd(16)} ${name}${pidOf(stack.processes(), adapter)}`);
  }
  say(`  logs             ${stack.logDir}`);
  say();
  say('Try it: create a namespace, then look for its organization in Quay.');
  say(`  kubectl --kubeconfig ${controlPlane.kubeconfigPath} create namespace demo`);
  say('  (without kubectl:');
  say(
    `   curl -s --cacert ${pki.caCert} --cert ${pki.adminCert} --key ${pki.adminKey} -H 'Content-Type: application/json' ` +
      `-d '{"metadata":{"name":"demo"}}' ${controlPlane.serverUrl}/api/v1/namespaces )`,
  );
  say(
    `  curl -s -H 'Authorization: Bearer ${own === undefined ? token : '<your token>'}' ${quayUrl}/api/v1/organization/${CLUSTER_ID}_demo`,
  );
  say();
  say('A process that dies is started again, and said here. ' + healthHint());
  say();
  say('Events handled (Ctrl-C stops everything):');
};

const explain = (e: unknown): string =>
  e instanceof AggregateError
    ? `${e.message}:\n${e.errors.map((x) => `  - ${explain(x)}`).join('\n')}`
    : e instanceof Error
      ? e.message
      : String(e);

main().catch(async (e: unknown) => {
  process.stderr.write(`npm start failed: ${explain(e)}\n`);
  await stopEmbedded().catch(() => undefined);
  process.exit(1);
});
