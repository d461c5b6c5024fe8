// `npm start`: the whole bridge on this machine, with no cluster and no Quay of your own. It starts the embedded
// stack of the end-to-end tests (real etcd + kube-apiserver + kube-controller-manager, the OpenShift stand-in, the
// Quay emulator, Knative's real ApiServerSource adapter, the broker stand-in, every step and the webhook as their
// own processes), applies a sample QuayIntegration, prints where everything listens and a command to try, then shows
// each event handled as it happens. Ctrl-C stops everything.
import { existsSync, openSync, readdirSync, readSync, closeSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sharedControlPlane, stopSharedControlPlane } from '../test/harness/index.js';
import { kubeRest } from '../test/event-path/kube-rest.js';
import { startStack, type Stack } from '../test/event-path/stack.js';

const CLUSTER_ID = 'local';
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

/** Follows every service's log file from its current end, printing the handled events. */
const follow = (stack: Stack): (() => void) => {
  const offsets = new Map<string, number>();
  const partial = new Map<string, string>();
  const tick = (): void => {
    for (const file of readdirSync(stack.logDir).filter((f) => f.endsWith('.log'))) {
      const path = join(stack.logDir, file);
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
        const shown = describe(file.replace(/\.log$/, ''), l);
        if (shown !== undefined) say(shown);
      }
    }
  };
  for (const file of readdirSync(stack.logDir).filter((f) => f.endsWith('.log')))
    offsets.set(join(stack.logDir, file), statSync(join(stack.logDir, file)).size);
  const timer = setInterval(tick, 250);
  return () => {
    clearInterval(timer);
  };
};

const main = async (): Promise<void> => {
  const kubeconfig = process.env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
  if (existsSync(kubeconfig) && !process.argv.includes('--embedded')) {
    say(
      `A kubeconfig is at ${kubeconfig}, but running the bridge against an existing cluster from here is not`,
    );
    say(
      'built yet: deploy it to the cluster instead (README, "Deploying to a cluster"). Starting the embedded',
    );
    say('stack, which does not touch that cluster (pass --embedded to skip this notice).');
    say();
  }
  say(
    'Starting the embedded stack: control plane (the first run builds it from Go modules, which takes minutes),',
  );
  say('OpenShift stand-in, Quay emulator, ApiServerSource adapter, broker stand-in, steps and webhook...');
  const started = Date.now();
  const controlPlane = await sharedControlPlane();
  const stack = await startStack({ controlPlane, pingIntervalMs: 5 * 60_000, keepLogs: true });
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('\nStopping...');
    await stack.stop().catch((e: unknown) => {
      say(`stopping the stack: ${String(e)}`);
    });
    await stopSharedControlPlane().catch((e: unknown) => {
      say(`stopping the control plane: ${String(e)}`);
    });
    say('Stopped.');
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  const rest = await kubeRest(controlPlane.kubeConfig);
  const token = stack.quay.createToken('quayadmin', [
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
        quayHostname: stack.quay.url,
        credentialsSecret: { namespace: 'quay-bridge', name: 'quay-integration' },
        insecureRegistry: true,
        denylistNamespaces: ['quay-bridge'],
      },
    }),
  ];
  for (const answer of created)
    if (answer.status >= 300) throw new Error(`applying the sample: HTTP ${answer.status} ${answer.body}`);
  const unfollow = follow(stack);

  const pki = controlPlane.pki;
  say();
  say(`quay-bridge is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s).`);
  say(`  Kubernetes API   ${controlPlane.serverUrl} (${controlPlane.version})`);
  say(`  kubeconfig       ${controlPlane.kubeconfigPath}`);
  say(`  Quay emulator    ${stack.quay.url}   token: ${token}`);
  say(`  broker stand-in  ${stack.broker.url}`);
  for (const s of stack.services.values()) say(`  ${s.name.padEnd(16)} ${s.url}`);
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
    `  curl -s -H 'Authorization: Bearer ${token}' ${stack.quay.url}/api/v1/organization/${CLUSTER_ID}_demo`,
  );
  say();
  say('Events handled (Ctrl-C stops everything):');
  process.once('exit', unfollow);
};

const explain = (e: unknown): string =>
  e instanceof AggregateError
    ? `${e.message}:\n${e.errors.map((x) => `  - ${explain(x)}`).join('\n')}`
    : e instanceof Error
      ? e.message
      : String(e);

main().catch(async (e: unknown) => {
  process.stderr.write(`npm start failed: ${explain(e)}\n`);
  await stopSharedControlPlane().catch(() => undefined);
  process.exit(1);
});
