// `npm start` against a cluster keeps running through what happens to a cluster: credentials from a kubeconfig exec
// plugin that expire every 2 s and are then revoked (refreshed, never fatal), the API server unreachable for a while
// (stopped with SIGSTOP), and the API server dying and being restarted. The transcript says when the cluster was
// lost and regained, and namespaces created afterwards still converge.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubeRest, type KubeRest } from '../../event-path/kube-rest.js';
import type { SupervisorEvent } from '../../event-path/supervisor.js';
import {
  crdFiles,
  installCrds,
  readCrds,
  startControlPlane,
  type ControlPlane,
} from '../../harness/index.js';
import { OpenShiftStandIn, webhookTlsFor } from '../../openshift-standin/index.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { expectCleanStop, startNpmStart, type NpmStart } from '../../support/npm-start.js';
import { CLUSTER_ID, configureIntegration } from '../../support/world.js';

const ACCOUNT = 'quay-bridge-local';

describe('npm start against a cluster: expiring credentials, API server lost and restarted', function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let rest: KubeRest;
  let quay: QuayEmulator;
  let standIn: OpenShiftStandIn;
  let dir: string;
  let start: NpmStart | undefined;
  const cpEvents: SupervisorEvent[] = [];

  const running = (): NpmStart => {
    if (start === undefined) throw new Error('npm start is not running');
    return start;
  };
  const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> =>
    running().until(what, probe);
  const printed = (what: string, re: RegExp, from: number): Promise<RegExpExecArray> =>
    running().printed(what, re, from);
  const output = (): string => start?.output() ?? '';
  const converged = async (ns: string): Promise<void> => {
    const a = await rest.request('POST', '/api/v1/namespaces', { metadata: { name: ns } });
    expect(a.status, a.body).to.equal(201);
    await until(`organization ${CLUSTER_ID}_${ns}`, () =>
      quay.state().organizations.some((o) => o.name === `${CLUSTER_ID}_${ns}`) ? true : undefined,
    );
  };
  /** A token of the bridge's ServiceAccount, valid as long as Secret `bound` exists. */
  const boundToken = async (bound: string): Promise<string> => {
    const secret = await rest.request('POST', '/api/v1/namespaces/default/secrets', {
      metadata: { name: bound },
    });
    expect(secret.status, secret.body).to.equal(201);
    const uid = (secret.json as { metadata: { uid: string } }).metadata.uid;
    const answer = await rest.request('POST', `/api/v1/namespaces/default/serviceaccounts/${ACCOUNT}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        expirationSeconds: 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: bound, uid },
      },
    });
    expect(answer.status, answer.body).to.equal(201);
    return (answer.json as { status: { token: string } }).status.token;
  };
  /** What the API server answers a request with this token. */
  const statusWith = async (token: string): Promise<number> => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: cp.serverUrl, caData: Buffer.from(cp.pki.caPem).toString('base64') }],
      users: [{ name: 'u', token }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return (await (await kubeRest(kc)).request('GET', '/api/v1/namespaces?limit=1')).status;
  };

  before(async () => {
    // The cluster restarts its own API server when it dies, as a real one's static pod would be.
    cp = await startControlPlane({ supervision: { onEvent: (e) => cpEvents.push(e) } });
    await installCrds(cp.kubeConfig, readCrds(crdFiles()));
    rest = await kubeRest(cp.kubeConfig);
    quay = await startQuayEmulator({});
    standIn = new OpenShiftStandIn({ webhookTls: webhookTlsFor(cp.pki) });
    await standIn.start(cp.kubeConfig);
    await configureIntegration(rest, quay);
    const sa = await rest.request('POST', '/api/v1/namespaces/default/serviceaccounts', {
      metadata: { name: ACCOUNT },
    });
    expect(sa.status, sa.body).to.equal(201);
    const binding = await rest.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: ACCOUNT },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: ACCOUNT, namespace: 'default' }],
    });
    expect(binding.status, binding.body).to.equal(201);

    // The kubeconfig of a user whose credentials come from an exec plugin and expire every 2 s.
    dir = mkdtempSync(join(tmpdir(), 'quay-bridge-exec-'));
    writeFileSync(join(dir, 'token'), await boundToken('bridge-token-1'));
    const plugin = join(dir, 'credential.sh');
    writeFileSync(
      plugin,
      [
        '#!/bin/sh',
        `echo call >> '${join(dir, 'calls')}'`,
        `expires=$(date -u -d @$(( $(date +%s) + 2 )) +%Y-%m-%dT%H:%M:%SZ)`,
        `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\\n' "$(cat '${join(dir, 'token')}')" "$expires"`,
        '',
      ].join('\n'),
    );
    chmodSync(plugin, 0o755);
    writeFileSync(
      join(dir, 'kubeconfig'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: {
              server: cp.serverUrl,
              'certificate-authority-data': Buffer.from(cp.pki.caPem).toString('base64'),
            },
          },
        ],
        users: [
          {
            name: 'u',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1',
                command: plugin,
                interactiveMode: 'Never',
              },
            },
          },
        ],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
  });

  after(async () => {
    const apiserver = cp.pidOf('kube-apiserver');
    if (apiserver !== undefined) process.kill(apiserver, 'SIGCONT');
    start?.kill();
    await standIn.stop().catch(() => undefined);
    await quay.close().catch(() => undefined);
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with exec-plugin credentials, refreshing them as they expire and are revoked', async () => {
    start = startNpmStart({ via: 'node', args: ['--cluster'], kubeconfig: join(dir, 'kubeconfig') });
    await until('npm start to be running', () => (output().includes('Events handled') ? true : undefined));
    await converged('with-first-token');

    // A new token; the old one revoked once every cached copy of it has expired (2 s).
    const from = output().length;
    const calls = (): number => readFileSync(join(dir, 'calls'), 'utf8').split('\n').length;
    const before = calls();
    const first = readFileSync(join(dir, 'token'), 'utf8');
    expect(await statusWith(first)).to.equal(200);
    writeFileSync(join(dir, 'token'), await boundToken('bridge-token-2'));
    await new Promise((r) => setTimeout(r, 3000));
    const old = await rest.request('DELETE', '/api/v1/namespaces/default/secrets/bridge-token-1');
    expect(old.status, old.body).to.equal(200);
    await until('the first token refused', async () =>
      (await statusWith(first)) === 401 ? true : undefined,
    );
    await converged('with-second-token');
    expect(calls(), 'the plugin was asked again').to.be.greaterThan(before);
    expect(output().slice(from)).not.to.include('lost the cluster');
    expect(output().slice(from)).not.to.include('exited unexpectedly');
  });

  it('says when the API server stops answering and when it answers again, and resyncs', async () => {
    const from = output().length;
    const apiserver = cp.pidOf('kube-apiserver') ?? 0;
    process.kill(apiserver, 'SIGSTOP');
    try {
      await printed('the cluster lost', /!! lost the cluster https:\S+: no answer in 5 s\./, from);
    } finally {
      process.kill(apiserver, 'SIGCONT');
    }
    await printed(
      'the cluster regained',
      /!! regained the cluster https:\S+ after \d+ s; resync started\./,
      from,
    );
    await converged('after-pause');
  });

  it('keeps running while the API server dies and is restarted', async () => {
    const from = output().length;
    const apiserver = cp.pidOf('kube-apiserver') ?? 0;
    // Stopped first, so that the bridge sees it gone before it dies and is started again.
    process.kill(apiserver, 'SIGSTOP');
    await printed('the cluster lost', /!! lost the cluster https:\S+: /, from);
    process.kill(apiserver, 'SIGKILL');
    await until('the API server restarted', () =>
      cpEvents.some((e) => e.kind === 'restarted' && e.name === 'kube-apiserver') ? true : undefined,
    );
    // Created as soon as it answers: before the bridge notices, and maybe before the adapter lists again (a list
    // sends nothing; only the resync after that list finds it).
    const a = await rest.request('POST', '/api/v1/namespaces', { metadata: { name: 'as-it-came-back' } });
    expect(a.status, a.body).to.equal(201);
    await printed(
      'the cluster regained',
      /!! regained the cluster https:\S+ after \d+ s; resync started\./,
      from,
    );
    await until(`organization ${CLUSTER_ID}_as-it-came-back`, () =>
      quay.state().organizations.some((o) => o.name === `${CLUSTER_ID}_as-it-came-back`) ? true : undefined,
    );
    await converged('after-apiserver-restart');

    const mark = `KUBECONFIG=${join(dir, 'kubeconfig')}`;
    await expectCleanStop(running(), [mark]);
  });
});
