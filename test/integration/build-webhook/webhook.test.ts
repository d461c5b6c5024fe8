// The Build webhook registered with the real kube-apiserver over real TLS (its manifest's rules and matchConditions
// included), Builds created through the API server and read back; then the completion path: the OpenShift stand-in
// runs the redirected Build to Complete, the build step (faas-js-runtime over HTTP, ApiServerSource CloudEvents)
// imports the pushed image by digest, once.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { CloudEvent, HTTP } from 'cloudevents';
import * as E from 'fp-ts/lib/Either.js';
import { expect } from 'chai';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  freePort,
  issueCertificate,
  repoRoot,
  sharedControlPlane,
  type ControlPlane,
} from '../../harness/index.js';
import { renderInstall } from '../../event-path/manifests.js';
import { dig } from '../../openshift-standin/dig.js';
import {
  OpenShiftStandIn,
  outcomeAnnotation,
  parseImageRef,
  webhookTlsFor,
} from '../../openshift-standin/index.js';
import { kubeHttp, paths, type KubeAnswer, type KubeHttp } from '../../openshift-standin/kube-http.js';
import { eventually } from '../../openshift-standin/wait.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { startWebhook, type Webhook } from '../../../functions/build-webhook/main.js';
import { createQuayClient } from '../../../shared/quay/client.js';
import { Token } from '../../../shared/settings/quay-integration.js';
import { memoryLogger } from '../../../shared/log.js';

// `openshift`: the name knative/webhook/rbac.yaml narrows Secret access to is builder-quay-openshift.
const CLUSTER_ID = 'openshift';
/** The Quay emulator's host:port, once it runs: the build step asks it about pushed digests. */
let QUAY = '';
const A = 'quay-registry-operator.quay.redhat.com/';
const WEBHOOK_NAME = 'quayintegration.quay.redhat.com';

const ok = (what: string, a: KubeAnswer): unknown => {
  if (a.status < 200 || a.status > 299)
    throw new Error(`${what}: HTTP ${a.status} ${JSON.stringify(a.body)}`);
  return a.body;
};

const buildObject = (
  name: string,
  output: Record<string, unknown> | undefined,
  o: { annotations?: object } = {},
) => ({
  apiVersion: 'build.openshift.io/v1',
  kind: 'Build',
  metadata: { name, ...(o.annotations === undefined ? {} : { annotations: o.annotations }) },
  spec: {
    serviceAccount: 'builder',
    source: { type: 'Git', git: { uri: 'https://example.com/app.git' } },
    strategy: { type: 'Docker', dockerStrategy: {} },
    ...(output === undefined ? {} : { output }),
  },
});

describe('build webhook and build step on a real kube-apiserver', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let client: KubeHttp | undefined;
  let dir: string | undefined;
  const http = (): KubeHttp => client!;
  const tmp = (...parts: string[]): string => join(dir!, ...parts);
  let webhook: Webhook | undefined;
  let standIn: OpenShiftStandIn | undefined;
  let quay: QuayEmulator | undefined;
  let step: ChildProcess | undefined;
  let stepUrl = '';
  const stepOutput: string[] = [];
  const log = memoryLogger();
  const suffix = randomBytes(3).toString('hex');
  const ns = {
    team: `bw-team-${suffix}`,
    other: `bw-other-${suffix}`,
    fresh: `bw-fresh-${suffix}`,
    platform: `openshift-bw-${suffix}`,
    kube: `kube-bw-${suffix}`,
  };
  const qiName = `bw-${suffix}`;
  const roleName = `quay-bridge-webhook-${suffix}`;
  let webhookKubeConfig: KubeConfig | undefined;

  /**
   * The webhook's own identity: the ServiceAccount and the ClusterRole rules of knative/webhook/rbac.yaml as the
   * install renders them (the builder Secret's name filled in for the clusterID; names suffixed, so as not to meet
   * an install of the manifests in the same cluster), and a token of that account.
   */
  const webhookIdentity = async (): Promise<KubeConfig> => {
    const rules = renderInstall().find(
      (o) => o.kind === 'ClusterRole' && o.metadata.name === 'quay-bridge-webhook',
    )?.rules as unknown[] | undefined;
    if (rules === undefined) throw new Error('the install renders no ClusterRole quay-bridge-webhook');
    const saNamespace = `bw-qb-${suffix}`;
    ok(
      'create ServiceAccount',
      await http().create(paths.serviceAccounts(saNamespace), { metadata: { name: 'quay-bridge-webhook' } }),
    );
    ok(
      'create ClusterRole',
      await http().create('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        metadata: { name: roleName },
        rules,
      }),
    );
    ok(
      'create ClusterRoleBinding',
      await http().create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        metadata: { name: roleName },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
        subjects: [{ kind: 'ServiceAccount', name: 'quay-bridge-webhook', namespace: saNamespace }],
      }),
    );
    const requested = ok(
      'request a token',
      await http().create(`${paths.serviceAccount(saNamespace, 'quay-bridge-webhook')}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      }),
    );
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'test', server: cp.serverUrl, caData: Buffer.from(cp.pki.caPem).toString('base64') },
      ],
      users: [{ name: 'webhook', token: String(dig(requested, 'status', 'token')) }],
      contexts: [{ name: 'webhook', cluster: 'test', user: 'webhook' }],
      currentContext: 'webhook',
    });
    return kc;
  };
  const mwcName = `quay-bridge-${suffix}`;

  const admissions = (namespace: string) =>
    log.lines.filter((l) => l.msg === 'admission' && l.namespace === namespace);

  const createBuild = (namespace: string, body: object, query?: string): Promise<KubeAnswer> =>
    http().create(paths.builds(namespace), body, query);
  const readBuild = async (namespace: string, name: string): Promise<unknown> =>
    ok(`read Build ${namespace}/${name}`, await http().get(paths.build(namespace, name)));

  before(async function () {
    this.timeout(300_000);
    cp = await sharedControlPlane();
    client = kubeHttp(cp.kubeConfig);

    // A CA of our own and a serving certificate for 127.0.0.1, as the service CA would issue one.
    dir = mkdtempSync(join(tmpdir(), 'quay-bridge-webhook-'));
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], {
      cwd: dir,
    });
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-key',
        'ca.key',
        '-subj',
        '/CN=webhook-test-ca',
        '-days',
        '1',
        '-out',
        'ca.crt',
      ],
      { cwd: tmp() },
    );
    const issued = issueCertificate(tmp(), 'one', '/CN=quay-bridge-webhook', {
      san: 'IP:127.0.0.1',
      serverAuth: true,
    });
    writeFileSync(tmp('tls.crt'), readFileSync(issued.cert));
    writeFileSync(tmp('tls.key'), readFileSync(issued.key));

    quay = await startQuayEmulator({ seed: 7 });
    QUAY = quay.registryHost;
    const emulator = quay;
    standIn = new OpenShiftStandIn({
      webhookTls: webhookTlsFor(cp.pki),
      // A push to this Quay lands in it, as a real build's would (a push elsewhere is no concern of this Quay).
      onPush: (ref, digest) => {
        const parsed = parseImageRef(ref);
        const [host, org = '', ...repo] = (parsed?.repository ?? '').split('/');
        if (host === emulator.registryHost)
          emulator.pushTag(org, repo.join('/'), parsed?.tag ?? 'latest', digest);
      },
    });
    await standIn.start(cp.kubeConfig);
    // The organizations and repositories the namespace and image-stream steps would have made.
    const quayClient = createQuayClient({ apiUrl: quay.url, token: new Token(quay.adminToken) });
    try {
      for (const namespace of [ns.team, ns.other, ns.fresh]) {
        const org = `${CLUSTER_ID}_${namespace}`;
        if (E.isLeft(await quayClient.ensureOrganization(org)())) throw new Error(`organization ${org}`);
        if (E.isLeft(await quayClient.ensureRepository(org, 'app', 'test')())) throw new Error(`${org}/app`);
      }
    } finally {
      quayClient.close();
    }

    for (const name of Object.values(ns))
      ok(`create ${name}`, await http().create(paths.namespaces, { metadata: { name } }));
    ok(
      'create quay-bridge namespace',
      await http().create(paths.namespaces, { metadata: { name: `bw-qb-${suffix}` } }),
    );
    ok(
      'create token Secret',
      await http().create(paths.secrets(`bw-qb-${suffix}`), {
        metadata: { name: 'quay-token' },
        stringData: { token: quay.adminToken },
      }),
    );
    // The namespace step would make these; here the test provisions two namespaces by hand.
    for (const namespace of [ns.team, ns.other])
      ok(
        `create builder Secret in ${namespace}`,
        await http().create(paths.secrets(namespace), {
          metadata: {
            name: `builder-quay-${CLUSTER_ID}`,
            labels: { 'app.kubernetes.io/managed-by': 'quay-bridge' },
          },
          type: 'kubernetes.io/dockerconfigjson',
          stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [QUAY]: { auth: 'eA==' } } }) },
        }),
      );
    ok(
      'create QuayIntegration',
      await http().create('/apis/quay.redhat.com/v1/quayintegrations', {
        apiVersion: 'quay.redhat.com/v1',
        kind: 'QuayIntegration',
        metadata: { name: qiName },
        spec: {
          clusterID: CLUSTER_ID,
          quayHostname: quay.url,
          credentialsSecret: { namespace: `bw-qb-${suffix}`, name: 'quay-token' },
          insecureRegistry: true,
        },
      }),
    );

    webhookKubeConfig = await webhookIdentity();
    webhook = await startWebhook({
      kubeConfig: webhookKubeConfig,
      port: 0,
      tlsPort: 0,
      host: '127.0.0.1',
      tls: { certFile: tmp('tls.crt'), keyFile: tmp('tls.key') },
      tlsPollMs: 1000,
      log,
    });
    await eventually('the webhook to hold the QuayIntegration', () =>
      Promise.resolve(webhook?.view()._tag === 'Ready' ? true : undefined),
    );
    for (const path of ['healthz', 'readyz']) {
      const r = await fetch(`http://127.0.0.1:${webhook.port}/${path}`);
      if (r.status !== 200) throw new Error(`/${path} answers ${r.status} once the settings are read`);
    }

    // The registration of knative/webhook, pointed at this process instead of the in-cluster Service.
    const manifest = parse(
      readFileSync(join(repoRoot, 'knative', 'webhook', 'mutating-webhook.yaml'), 'utf8'),
    ) as {
      metadata: Record<string, unknown>;
      webhooks: Record<string, unknown>[];
    };
    const caBundle = readFileSync(tmp('ca.crt')).toString('base64');
    ok(
      'register the webhook',
      await http().create(paths.mutatingWebhookConfiguration(), {
        ...manifest,
        metadata: { ...manifest.metadata, name: mwcName },
        webhooks: manifest.webhooks.map((w) => ({
          ...w,
          clientConfig: { url: `https://127.0.0.1:${webhook?.tlsPort ?? 0}/admissionwebhook`, caBundle },
        })),
      }),
    );
    // The API server picks registrations up asynchronously: wait until a dry-run create comes back rewritten.
    await eventually('the API server to call the webhook', async () => {
      const a = await createBuild(
        ns.team,
        buildObject('probe', { to: { kind: 'ImageStreamTag', name: 'app:v1' } }),
        'dryRun=All',
      );
      return dig(a.body, 'spec', 'output', 'to', 'kind') === 'DockerImage' ? true : undefined;
    });

    const port = await freePort();
    stepUrl = `http://127.0.0.1:${port}/`;
    step = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test', 'integration', 'build-webhook', 'build-step-server.ts')],
      {
        cwd: repoRoot,
        env: { ...process.env, KUBECONFIG: cp.kubeconfigPath, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    step.stdout?.on('data', (d: Buffer) => stepOutput.push(d.toString()));
    step.stderr?.on('data', (d: Buffer) => stepOutput.push(d.toString()));
    await eventually(
      'the build step to listen',
      async () => {
        if (step?.exitCode !== null) throw new Error(`the build step exited: ${stepOutput.join('')}`);
        const r = await fetch(`${stepUrl}health/readiness`).catch(() => undefined);
        return r?.ok === true ? true : undefined;
      },
      60_000,
      250,
    );
  });

  after(async function () {
    this.timeout(60_000);
    // Unregister first: with failurePolicy Fail a registration outliving its server would refuse later Builds.
    if (client !== undefined) {
      await http()
        .delete(paths.mutatingWebhookConfiguration(mwcName))
        .catch(() => undefined);
      await http()
        .delete(`/apis/quay.redhat.com/v1/quayintegrations/${qiName}`)
        .catch(() => undefined);
    }
    if (step !== undefined && step.exitCode === null) {
      const exited = new Promise((resolve) => step?.once('exit', resolve));
      step.kill('SIGTERM');
      await exited;
    }
    await webhook?.stop();
    await standIn?.stop();
    await quay?.close();
    if (client !== undefined) {
      for (const name of [...Object.values(ns), `bw-qb-${suffix}`])
        await http()
          .delete(paths.namespace(name))
          .catch(() => undefined);
      http().close();
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe('admission', () => {
    it('rewrites an ImageStreamTag output to the Quay image, with the pushSecret and annotations, in storage', async () => {
      const created = await createBuild(
        ns.team,
        buildObject(
          'app-tagged',
          { to: { kind: 'ImageStreamTag', name: 'app:v1', namespace: ns.team } },
          { annotations: { team: 'a' } },
        ),
      );
      ok('create Build', created);
      const stored = await readBuild(ns.team, 'app-tagged');
      expect(dig(stored, 'spec', 'output')).to.deep.equal({
        to: { kind: 'DockerImage', name: `${QUAY}/${CLUSTER_ID}_${ns.team}/app:v1` },
        pushSecret: { name: `builder-quay-${CLUSTER_ID}` },
      });
      expect(dig(stored, 'metadata', 'annotations')).to.deep.equal({
        team: 'a',
        [`${A}quay-registry-operator-managed`]: 'true',
        [`${A}destination-imagestream`]: `${ns.team}/app:v1`,
      });
    });

    it('docs/qbo-compatibility.md#b6: a tag-less ImageStreamTag on a Build without annotations gets latest and a new annotations map', async () => {
      ok(
        'create Build',
        await createBuild(ns.team, buildObject('app-bare', { to: { kind: 'ImageStreamTag', name: 'app' } })),
      );
      const stored = await readBuild(ns.team, 'app-bare');
      expect(dig(stored, 'spec', 'output', 'to')).to.deep.equal({
        kind: 'DockerImage',
        name: `${QUAY}/${CLUSTER_ID}_${ns.team}/app:latest`,
      });
      expect(dig(stored, 'metadata', 'annotations')).to.deep.equal({
        [`${A}quay-registry-operator-managed`]: 'true',
        [`${A}destination-imagestream`]: `${ns.team}/app:latest`,
      });
    });

    it('leaves a DockerImage output and a Custom strategy untouched, without even being called', async () => {
      const docker = buildObject('app-docker', {
        to: { kind: 'DockerImage', name: 'registry.example.com/me/app:v1' },
      });
      ok('create Build', await createBuild(ns.team, docker));
      const custom = {
        ...buildObject('app-custom', undefined),
        spec: {
          serviceAccount: 'builder',
          source: { type: 'None' },
          strategy: {
            type: 'Custom',
            customStrategy: { from: { kind: 'DockerImage', name: 'builder:latest' } },
          },
          output: { to: { kind: 'ImageStreamTag', name: 'custom:v1' } },
        },
      };
      ok('create Build', await createBuild(ns.team, custom));
      expect(dig(await readBuild(ns.team, 'app-docker'), 'spec', 'output')).to.deep.equal({
        to: { kind: 'DockerImage', name: 'registry.example.com/me/app:v1' },
      });
      const storedCustom = await readBuild(ns.team, 'app-custom');
      expect(dig(storedCustom, 'spec', 'output')).to.deep.equal({
        to: { kind: 'ImageStreamTag', name: 'custom:v1' },
      });
      expect(dig(storedCustom, 'metadata', 'annotations')).to.equal(undefined);
      // The Custom one reaches the webhook (its output is an ImageStreamTag) and is let through; the DockerImage one
      // is filtered out by the registration's matchConditions.
      expect(admissions(ns.team).map((l) => l.reason)).to.include('neither a Docker nor a Source strategy');
      expect(admissions(ns.team).filter((l) => l.name === 'app-docker')).to.deep.equal([]);
    });

    it('drops the copied "imported" mark from a clone of an imported Build (second matchCondition)', async () => {
      const clone = buildObject(
        'app-clone',
        {
          to: { kind: 'DockerImage', name: `${QUAY}/${CLUSTER_ID}_${ns.team}/app:v1` },
          pushSecret: { name: `builder-quay-${CLUSTER_ID}` },
        },
        {
          annotations: {
            'openshift.io/build.clone-of': 'app-1',
            [`${A}quay-registry-operator-managed`]: 'true',
            [`${A}destination-imagestream`]: `${ns.team}/app:v1`,
            [`${A}destination-imagestreamtag-imported`]: 'true',
          },
        },
      );
      ok('create Build', await createBuild(ns.team, clone));
      expect(dig(await readBuild(ns.team, 'app-clone'), 'metadata', 'annotations')).to.deep.equal({
        'openshift.io/build.clone-of': 'app-1',
        [`${A}quay-registry-operator-managed`]: 'true',
        [`${A}destination-imagestream`]: `${ns.team}/app:v1`,
      });
    });

    for (const which of ['platform', 'kube'] as const)
      it(`never calls the webhook for a Build in ${which === 'platform' ? 'an openshift-*' : 'a kube-*'} namespace`, async () => {
        const namespace = ns[which];
        ok(
          'create Build',
          await createBuild(
            namespace,
            buildObject('app', { to: { kind: 'ImageStreamTag', name: 'app:v1' } }),
          ),
        );
        expect(dig(await readBuild(namespace, 'app'), 'spec', 'output', 'to', 'kind')).to.equal(
          'ImageStreamTag',
        );
        expect(admissions(namespace)).to.deep.equal([]);
      });

    it("refuses a Build in a namespace whose builder Secret does not exist yet, and the client reads QBO's message", async () => {
      const a = await createBuild(
        ns.fresh,
        buildObject('app', { to: { kind: 'ImageStreamTag', name: 'app:v1' } }),
      );
      expect(a.status).to.equal(403);
      expect(dig(a.body, 'message')).to.match(
        new RegExp(
          `^admission webhook "${WEBHOOK_NAME.replace(/\./g, '\\.')}" denied the request: ` +
            'The builder service account has not been provisioned with secrets yet',
        ),
      );
      expect((await http().get(paths.build(ns.fresh, 'app'))).status).to.equal(404);
    });

    it('admits a Build there once the builder Secret exists (no deadlock: the denial is not remembered)', async () => {
      ok(
        'create builder Secret',
        await http().create(paths.secrets(ns.fresh), {
          metadata: { name: `builder-quay-${CLUSTER_ID}` },
          type: 'kubernetes.io/dockerconfigjson',
          stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [QUAY]: { auth: 'eA==' } } }) },
        }),
      );
      ok(
        'create Build',
        await createBuild(ns.fresh, buildObject('app', { to: { kind: 'ImageStreamTag', name: 'app:v1' } })),
      );
      expect(dig(await readBuild(ns.fresh, 'app'), 'spec', 'output', 'pushSecret')).to.deep.equal({
        name: `builder-quay-${CLUSTER_ID}`,
      });
    });

    it('refuses an output to another managed namespace, saying why', async () => {
      const a = await createBuild(
        ns.team,
        buildObject('app-cross', { to: { kind: 'ImageStreamTag', name: 'app:v1', namespace: ns.other } }),
      );
      expect(a.status).to.equal(403);
      expect(String(dig(a.body, 'message'))).to.include(
        `no rights in the Quay organization of namespace ${ns.other}`,
      );
    });

    it('counts its admissions by outcome on /metrics of its health port', async () => {
      const scrape = async (): Promise<Record<string, number>> => {
        const r = await fetch(`http://127.0.0.1:${webhook?.port ?? 0}/metrics`);
        expect(r.status).to.equal(200);
        const counts: Record<string, number> = {};
        for (const m of (await r.text()).matchAll(
          /^quay_bridge_webhook_(admissions_total|admission_duration_seconds_count)\{outcome="(\w+)"\} (\d+)$/gm,
        ))
          counts[`${m[1]} ${m[2]}`] = Number(m[3]);
        return counts;
      };
      const before = await scrape();
      ok(
        'create Build',
        await createBuild(
          ns.team,
          buildObject('app-metrics', { to: { kind: 'ImageStreamTag', name: 'app:v2' } }),
        ),
      );
      const denied = await createBuild(
        ns.team,
        buildObject('app-metrics-x', { to: { kind: 'ImageStreamTag', name: 'app:v1', namespace: ns.other } }),
      );
      expect(denied.status).to.equal(403);
      const after = await scrape();
      const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
      expect(delta('admissions_total mutated')).to.equal(1);
      expect(delta('admissions_total denied')).to.equal(1);
      expect(delta('admission_duration_seconds_count mutated')).to.equal(1);
      expect(delta('admission_duration_seconds_count denied')).to.equal(1);
    });

    it('serves a renewed certificate to new connections once the files change', async () => {
      const fingerprint = () =>
        new Promise<string>((resolve, reject) => {
          const s = connect(
            { host: '127.0.0.1', port: webhook?.tlsPort ?? 0, ca: readFileSync(tmp('ca.crt')) },
            () => {
              resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
              s.end();
            },
          );
          s.on('error', reject);
        });
      const before = await fingerprint();
      const renewed = issueCertificate(tmp(), 'two', '/CN=quay-bridge-webhook', {
        san: 'IP:127.0.0.1',
        serverAuth: true,
      });
      const expected = new X509Certificate(readFileSync(renewed.cert)).fingerprint256;
      expect(expected).to.not.equal(before);
      writeFileSync(tmp('tls.crt'), readFileSync(renewed.cert));
      writeFileSync(tmp('tls.key'), readFileSync(renewed.key));
      await eventually('the renewed certificate to be served', async () =>
        (await fingerprint()) === expected ? true : undefined,
      );
      // And the API server, which trusts the CA, still gets its Builds rewritten.
      ok(
        'create Build',
        await createBuild(
          ns.team,
          buildObject('app-renewed', { to: { kind: 'ImageStreamTag', name: 'app:v9' } }),
        ),
      );
      expect(dig(await readBuild(ns.team, 'app-renewed'), 'spec', 'output', 'to', 'kind')).to.equal(
        'DockerImage',
      );
    });
  });

  describe('least privilege', () => {
    it('runs on the rules of knative/webhook/rbac.yaml: it reads the builder Secret, and no other', async () => {
      // Everything above ran with this identity, its informers included (a refused list or watch would be logged).
      expect(log.lines.filter((l) => l.level !== 'info').map((l) => l.msg)).to.deep.equal([]);
      // Here the edges of what it may read.
      const kube = kubeHttp(webhookKubeConfig!);
      try {
        expect((await kube.get(`${paths.secrets(ns.team)}/builder-quay-${CLUSTER_ID}`)).status).to.equal(200);
        expect((await kube.get(`${paths.secrets(`bw-qb-${suffix}`)}/quay-token`)).status).to.equal(403);
        expect((await kube.get(paths.secrets(ns.team))).status).to.equal(403);
        expect(
          (await kube.get(`/api/v1/secrets?fieldSelector=metadata.name%3Dbuilder-quay-${CLUSTER_ID}`)).status,
        ).to.equal(200);
        expect((await kube.get(paths.builds(ns.team))).status).to.equal(403);
      } finally {
        kube.close();
      }
    });
  });

  describe('completion', () => {
    const deliver = async (build: unknown, id: string): Promise<number> => {
      const name = String(dig(build, 'metadata', 'name'));
      const namespace = String(dig(build, 'metadata', 'namespace'));
      const event = new CloudEvent({
        id,
        type: 'dev.knative.apiserver.resource.update',
        source: cp.serverUrl,
        subject: `/apis/build.openshift.io/v1/namespaces/${namespace}/builds/${name}`,
        datacontenttype: 'application/json',
        data: build as object,
        kind: 'Build',
        apiversion: 'build.openshift.io/v1',
        name,
        namespace,
      });
      const message = HTTP.binary(event);
      const r = await fetch(stepUrl, {
        method: 'POST',
        headers: message.headers as Record<string, string>,
        body: message.body as string,
      });
      await r.text();
      return r.status;
    };

    const completed = (namespace: string, name: string) =>
      eventually(`Build ${namespace}/${name} to finish`, async () => {
        const b = await readBuild(namespace, name);
        const phase = dig(b, 'status', 'phase');
        return phase === 'Complete' || phase === 'Failed' ? b : undefined;
      });

    it('imports the pushed image into the ImageStream tag by digest, once, however often the event comes', async () => {
      ok(
        'create Build',
        await createBuild(ns.team, buildObject('app-1', { to: { kind: 'ImageStreamTag', name: 'app:v1' } })),
      );
      const build = await completed(ns.team, 'app-1');
      expect(dig(build, 'status', 'phase')).to.equal('Complete');
      const digest = String(dig(build, 'status', 'output', 'to', 'imageDigest'));
      expect(digest).to.match(/^sha256:[0-9a-f]{64}$/);

      expect(await deliver(build, 'first')).to.equal(204);

      const stream = ok('read ImageStream', await http().get(paths.imageStream(ns.team, 'app')));
      const byDigest = `${QUAY}/${CLUSTER_ID}_${ns.team}/app@${digest}`;
      const specTag = (dig(stream, 'spec', 'tags') as unknown[]).find((t) => dig(t, 'name') === 'v1');
      expect(dig(specTag, 'from')).to.deep.equal({ kind: 'DockerImage', name: byDigest });
      expect(dig(specTag, 'importPolicy')).to.deep.include({ insecure: true, scheduled: false });
      expect(dig(specTag, 'referencePolicy')).to.deep.equal({ type: 'Source' });
      const statusTag = (dig(stream, 'status', 'tags') as unknown[]).find((t) => dig(t, 'tag') === 'v1');
      const items = dig(statusTag, 'items') as unknown[];
      expect(items).to.have.length(1);
      expect(dig(items[0], 'image')).to.equal(digest);
      expect(dig(items[0], 'dockerImageReference')).to.equal(byDigest);
      const marked = await readBuild(ns.team, 'app-1');
      expect(dig(marked, 'metadata', 'annotations', `${A}destination-imagestreamtag-imported`)).to.equal(
        'true',
      );

      // The same (now stale) event again, and the marking's own update event: nothing more is imported.
      const version = String(dig(stream, 'metadata', 'resourceVersion'));
      expect(await deliver(build, 'first')).to.equal(204);
      expect(await deliver(marked, 'second')).to.equal(204);
      const after = ok('read ImageStream', await http().get(paths.imageStream(ns.team, 'app')));
      expect(dig(after, 'metadata', 'resourceVersion')).to.equal(version);
      expect(stepOutput.join('')).to.include('"reason":"already imported"');
    });

    it('docs/qbo-compatibility.md#b5: imports nothing for a failed Build', async () => {
      ok(
        'create Build',
        await createBuild(
          ns.team,
          buildObject(
            'app-fails',
            { to: { kind: 'ImageStreamTag', name: 'broken:v1' } },
            { annotations: { [outcomeAnnotation]: 'Failed' } },
          ),
        ),
      );
      const build = await completed(ns.team, 'app-fails');
      expect(dig(build, 'status', 'phase')).to.equal('Failed');
      expect(await deliver(build, 'failed')).to.equal(204);
      expect((await http().get(paths.imageStream(ns.team, 'broken'))).status).to.equal(404);
    });
  });

  describe('settings', () => {
    it('redirects to the new Quay host once the QuayIntegration changes, without a restart', async () => {
      ok(
        'change quayHostname',
        await http().patch(`/apis/quay.redhat.com/v1/quayintegrations/${qiName}`, 'merge', {
          spec: { quayHostname: 'https://quay-next.example.com' },
        }),
      );
      await eventually('the webhook to see the change', () => {
        const v = webhook?.view();
        return Promise.resolve(
          v?._tag === 'Ready' && v.settings.quay.registryHost === 'quay-next.example.com' ? true : undefined,
        );
      });
      ok(
        'create Build',
        await createBuild(
          ns.team,
          buildObject('app-next', { to: { kind: 'ImageStreamTag', name: 'app:v1' } }),
        ),
      );
      expect(dig(await readBuild(ns.team, 'app-next'), 'spec', 'output', 'to', 'name')).to.equal(
        `quay-next.example.com/${CLUSTER_ID}_${ns.team}/app:v1`,
      );
    });
  });
});
