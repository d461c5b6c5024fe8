// `npm start -- --quay <url> --quay-token-file <file>` as a user with a Quay of their own runs it: the embedded
// cluster, pointed at that Quay (here a second emulator, started apart, standing in for "your Quay"). A Build goes
// the whole way: redirected by the webhook, pushed by the build stand-in through that Quay's registry API with the
// builder robot's Secret, and the digest Quay answered imported into the ImageStream.
import { imageStreamTagBuild } from '../../support/builds.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { kubeRest } from '../../event-path/kube-rest.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { startNpmStart } from '../../support/npm-start.js';
import { BUILD_ANNOTATIONS } from '../../../shared/names.js';

const ALL_SCOPES = [
  'org:admin',
  'repo:admin',
  'repo:create',
  'repo:read',
  'repo:write',
  'user:read',
  'user:admin',
];

describe('npm start --quay <url> --quay-token-file <file> (the embedded cluster, your Quay)', function () {
  this.timeout(300_000);
  let yours: QuayEmulator;
  let dir: string;

  before(async () => {
    yours = await startQuayEmulator({ seed: 21 });
    dir = mkdtempSync(join(tmpdir(), 'quay-bridge-own-quay-'));
  });
  after(async () => {
    await yours.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes a Build to that Quay through its registry API and imports the digest it answered', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${yours.createToken('quayadmin', ALL_SCOPES)}\n`);
    const start = startNpmStart({ args: ['--quay', yours.url, '--quay-token-file', tokenFile] });
    const { until } = start;
    try {
      await until('npm start to be running', () =>
        start.output().includes('Events handled') ? true : undefined,
      );
      expect(start.output()).to.include(`Quay (yours)     ${yours.url}`);
      const kubeconfig = start.field(/kubectl --kubeconfig (\S+) create namespace demo/, 'kubectl command');
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      const rest = await kubeRest(kc);
      const ok = async (what: string, p: ReturnType<typeof rest.request>) => {
        const a = await p;
        expect(a.status, `${what}: ${a.body}`).to.be.oneOf([200, 201]);
        return a;
      };
      await ok('namespace', rest.request('POST', '/api/v1/namespaces', { metadata: { name: 'demo' } }));
      await ok(
        'ImageStream',
        rest.request('POST', '/apis/image.openshift.io/v1/namespaces/demo/imagestreams', {
          apiVersion: 'image.openshift.io/v1',
          kind: 'ImageStream',
          metadata: { name: 'app' },
        }),
      );
      const auth = { authorization: `Bearer ${yours.adminToken}` };
      await until('repository local_demo/app and the builder robot in your Quay', async () => {
        const repo = await fetch(`${yours.url}/api/v1/repository/local_demo/app`, { headers: auth });
        const robot = await fetch(`${yours.url}/api/v1/organization/local_demo/robots/builder`, {
          headers: auth,
        });
        const secret = await rest.request('GET', '/api/v1/namespaces/demo/secrets/builder-quay-local');
        return repo.status === 200 && robot.status === 200 && secret.status === 200 ? true : undefined;
      });
      const build = imageStreamTagBuild();
      const builds = '/apis/build.openshift.io/v1/namespaces/demo/builds';
      await until('the webhook to redirect Builds', async () => {
        const probe = await rest.request('POST', `${builds}?dryRun=All`, build);
        return (probe.json as { spec?: { output?: { to?: { kind?: string } } } } | undefined)?.spec?.output
          ?.to?.kind === 'DockerImage'
          ? true
          : undefined;
      });
      await ok('Build', rest.request('POST', builds, build));
      type Built = {
        metadata: { annotations?: Record<string, string> };
        status?: { phase?: string; reason?: string; output?: { to?: { imageDigest?: string } } };
      };
      const done = await until('the Build complete and imported', async () => {
        const b = (await rest.request('GET', `${builds}/app-1`)).json as Built | undefined;
        if (b?.status?.phase === 'Failed') throw new Error(`the Build failed: ${b.status.reason ?? ''}`);
        return b?.metadata.annotations?.[BUILD_ANNOTATIONS.imported] === 'true' ? b : undefined;
      });
      const digest = done.status?.output?.to?.imageDigest ?? '';
      // Your Quay has the image under that digest, pushed through its registry API.
      const tags = (await (
        await fetch(`${yours.url}/api/v1/repository/local_demo/app/tag/?onlyActiveTags=true`, {
          headers: auth,
        })
      ).json()) as { tags: { name: string; manifest_digest: string }[] };
      expect(tags.tags.map((t) => [t.name, t.manifest_digest])).to.deep.equal([['latest', digest]]);
      expect(yours.requestCounts().get('PUT /v2/{repo}/manifests/{reference}')).to.equal(1);
      const stream = (
        await rest.request('GET', '/apis/image.openshift.io/v1/namespaces/demo/imagestreams/app')
      ).json as { status?: { tags?: { tag: string; items?: { image: string }[] }[] } };
      expect(stream.status?.tags?.find((t) => t.tag === 'latest')?.items?.[0]?.image).to.equal(digest);

      expect(await start.interrupt(), start.output()).to.be.oneOf(['0', 'SIGINT']);
    } finally {
      start.kill();
    }
  });
});
