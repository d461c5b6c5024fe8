import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import {
  inClusterAccess,
  kubeconfigAccess,
  loadKubeAccess,
  type KubeAccess,
} from '../../../shared/kube/access.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const applied = async (a: KubeAccess): Promise<https.RequestOptions> => {
  const opts: https.RequestOptions = {};
  await a.applyToHTTPSOptions(opts);
  return opts;
};

/** The fields createKubeClient reads, as strings, so that two readings compare with deep.equal. */
const used = (o: https.RequestOptions) => {
  const text = (v: unknown): string | undefined =>
    v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : JSON.stringify(v);
  const headers = (o.headers ?? {}) as Record<string, unknown>;
  return {
    ca: text(o.ca),
    cert: text(o.cert),
    key: text(o.key),
    rejectUnauthorized: o.rejectUnauthorized,
    servername: o.servername,
    authorization: typeof headers.Authorization === 'string' ? headers.Authorization : undefined,
    auth: o.auth ?? undefined,
  };
};

const kubeconfig = (cluster: object, user: object | null) => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'other', cluster: { server: 'https://wrong.example:6443' } },
    { name: 'c', cluster },
  ],
  users: [
    { name: 'other', user: { token: 'WRONG' } },
    { name: 'u', user },
  ],
  contexts: [
    { name: 'other', context: { cluster: 'other', user: 'other' } },
    { name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'ns' } },
  ],
  'current-context': 'ctx',
});

describe('Kubernetes access without client-node (kube/access.ts)', () => {
  // Imported the way access.ts imports it, so that both share one copy (a static import here would be required as
  // CommonJS under mocha, and load client-node a second time).
  let KubeConfigClass: typeof KubeConfig;
  before(async function () {
    this.timeout(30_000);
    KubeConfigClass = (await import('@kubernetes/client-node')).KubeConfig;
  });
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-access-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, content: string | object): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };

  describe('in the cluster', () => {
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

    it("uses the pod's CA and token, and reads a rotated token again", async () => {
      write('ca.crt', 'CA PEM');
      write('token', 'first\n');
      const a = inClusterAccess(env, dir);
      expect(a.getCurrentCluster()).to.deep.equal({ server: 'https://10.96.0.1:443' });
      expect(used(await applied(a))).to.deep.include({ ca: 'CA PEM', authorization: 'Bearer first' });
      write('token', 'second');
      expect(used(await applied(a)).authorization).to.equal('Bearer second');
    });

    it('brackets an IPv6 service host, and speaks plain HTTP on the ports client-node does', () => {
      expect(
        inClusterAccess(
          { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
          dir,
        ).getCurrentCluster(),
      ).to.deep.equal({ server: 'https://[fd00::1]:443' });
      expect(
        inClusterAccess({ ...env, KUBERNETES_SERVICE_PORT: '8080' }, dir).getCurrentCluster(),
      ).to.deep.equal({ server: 'http://10.96.0.1:8080' });
    });

    it('refuses to start without the service environment', () => {
      expect(() => inClusterAccess({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, dir)).to.throw(
        'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set',
      );
    });
  });

  describe('a JSON kubeconfig', () => {
    it('reads the current context: embedded CA, client certificate and key', async () => {
      const path = write(
        'config.json',
        kubeconfig(
          { server: 'https://api.example:6443/', 'certificate-authority-data': b64('CA') },
          { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
        ),
      );
      const a = kubeconfigAccess(path);
      expect(a?.getCurrentCluster()).to.deep.equal({ server: 'https://api.example:6443' });
      expect(used(await applied(a as KubeAccess))).to.deep.equal({
        ca: 'CA',
        cert: 'CERT',
        key: 'KEY',
        rejectUnauthorized: undefined,
        servername: undefined,
        authorization: undefined,
        auth: undefined,
      });
    });

    it('reads files relative to the kubeconfig, and a token file again at every request', async () => {
      mkdirSync(join(dir, 'sub'));
      write('sub/ca.pem', 'CA FILE');
      write('sub/token', 'one');
      const path = write(
        'sub/config',
        kubeconfig(
          {
            server: 'https://api.example:6443',
            'certificate-authority': 'ca.pem',
            'insecure-skip-tls-verify': true,
            'tls-server-name': 'kubernetes',
          },
          { tokenFile: join(dir, 'sub', 'token') },
        ),
      );
      const a = kubeconfigAccess(path) as KubeAccess;
      expect(used(await applied(a))).to.deep.include({
        ca: 'CA FILE',
        rejectUnauthorized: false,
        servername: 'kubernetes',
        authorization: 'Bearer one',
      });
      write('sub/token', 'two');
      expect(used(await applied(a)).authorization).to.equal('Bearer two');
    });

    it('gives the same TLS material and credentials as client-node for the same file', async () => {
      write('ca.pem', 'CA FILE');
      for (const [cluster, user] of [
        [
          { server: 'https://a:1', 'certificate-authority-data': b64('CA') },
          { 'client-certificate-data': b64('C'), 'client-key-data': b64('K') },
        ],
        [{ server: 'https://a:1', 'certificate-authority': join(dir, 'ca.pem') }, { token: 'T' }],
        [
          { server: 'https://a:1', 'insecure-skip-tls-verify': true, 'tls-server-name': 'n' },
          { username: 'admin', password: 'pw' },
        ],
      ] as const) {
        const path = write('parity.json', kubeconfig(cluster, user));
        const kc = new KubeConfigClass();
        kc.loadFromFile(path);
        const ours = kubeconfigAccess(path) as KubeAccess;
        expect(ours.getCurrentCluster()?.server, JSON.stringify(cluster)).to.equal(
          kc.getCurrentCluster()?.server,
        );
        expect(used(await applied(ours)), JSON.stringify([cluster, user])).to.deep.equal(
          used(await applied(kc)),
        );
      }
    });

    it('leaves YAML and users with exec plugins, auth providers or impersonation to client-node', () => {
      expect(kubeconfigAccess(write('yaml', 'apiVersion: v1\nkind: Config\n'))).to.equal(undefined);
      for (const user of [
        { exec: { command: 'get-token', apiVersion: 'client.authentication.k8s.io/v1' } },
        { 'auth-provider': { name: 'oidc' } },
        { token: 'T', as: 'someone' },
      ])
        expect(
          kubeconfigAccess(write('u.json', kubeconfig({ server: 'https://a:1' }, user))),
          JSON.stringify(user),
        ).to.equal(undefined);
    });

    it('fails, naming what is missing, for a current context that does not exist', () => {
      const path = write('bad.json', {
        ...kubeconfig({ server: 'https://a:1' }, {}),
        'current-context': 'gone',
      });
      expect(() => kubeconfigAccess(path)).to.throw(`kubeconfig ${path}: no context named "gone"`);
    });
  });

  describe('choosing (client-go order)', () => {
    it('fails the start when there is neither a kubeconfig nor a ServiceAccount token', async () => {
      let message = '';
      await loadKubeAccess({}, { dir, home: dir }).catch((e: unknown) => {
        message = e instanceof Error ? e.message : String(e);
      });
      expect(message).to.equal(
        `no kubeconfig (KUBECONFIG, ${join(dir, '.kube', 'config')}) and no ServiceAccount token in ${dir}`,
      );
    });

    it('merges several KUBECONFIG files as client-node does', async () => {
      const first = write('first.json', kubeconfig({ server: 'https://first:6443' }, { token: 'A' }));
      const second = write('second.json', {
        clusters: [{ name: 'c2', cluster: { server: 'https://second:6443' } }],
        users: [{ name: 'u2', user: { token: 'B' } }],
        contexts: [{ name: 'ctx2', context: { cluster: 'c2', user: 'u2' } }],
        'current-context': 'ctx2',
      });
      const a = await loadKubeAccess({ KUBECONFIG: `${first}:${second}` }, { dir, home: dir });
      expect(a).to.be.instanceOf(KubeConfigClass);
      // client-node lets the last file's current-context win (kubectl, the first): kept as it was.
      expect(a.getCurrentCluster()?.server).to.equal('https://second:6443');
    });

    it('takes KUBECONFIG first, and reads a JSON one itself', async () => {
      write('token', 'pod-token');
      const path = write('kc.json', kubeconfig({ server: 'https://from-file:6443' }, { token: 'T' }));
      const a = await loadKubeAccess({ KUBECONFIG: path }, { dir, home: dir });
      expect(a).to.not.be.instanceOf(KubeConfigClass);
      expect(a.getCurrentCluster()?.server).to.equal('https://from-file:6443');
    });

    it('hands a YAML kubeconfig to client-node', async () => {
      const path = write(
        'kc.yaml',
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "https://yaml:6443"}}]',
          'users: [{name: u, user: {token: T}}]',
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          'current-context: x',
        ].join('\n'),
      );
      const a = await loadKubeAccess({ KUBECONFIG: path }, { dir, home: dir });
      expect(a).to.be.instanceOf(KubeConfigClass);
      expect(a.getCurrentCluster()?.server).to.equal('https://yaml:6443');
    });

    it("uses the pod's ServiceAccount when there is no kubeconfig at all", async () => {
      write('token', 'pod-token');
      write('ca.crt', 'CA');
      const a = await loadKubeAccess(
        { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
        { dir, home: join(dir, 'no-home') },
      );
      expect(a.getCurrentCluster()?.server).to.equal('https://10.96.0.1:443');
      expect(used(await applied(a)).authorization).to.equal('Bearer pod-token');
    });
  });
});
