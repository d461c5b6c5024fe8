// The OpenShift stand-in against the real kube-apiserver (+ kube-controller-manager) of the harness: what it plays
// of OpenShift, and the Kubernetes behaviours quay-bridge depends on with these CRDs.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { expect } from 'chai';
import { repoRoot, sharedControlPlane, type ControlPlane } from '../../harness/index.js';
import { dig } from '../../openshift-standin/dig.js';
import {
  buildImageDigest,
  OpenShiftStandIn,
  outcomeAnnotation,
  projectServiceAccounts,
  webhookTlsFor,
} from '../../openshift-standin/index.js';
import { kubeHttp, paths, type KubeAnswer, type KubeHttp } from '../../openshift-standin/kube-http.js';
import { eventually, watchObjectUntil } from '../../openshift-standin/wait.js';

const quay = 'quay.example.com:8443';

describe('the OpenShift stand-in on a real kube-apiserver', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let http: KubeHttp;
  let standIn: OpenShiftStandIn | undefined;
  const pushes: [string, string][] = [];
  const failures: string[] = [];

  before(async () => {
    cp = await sharedControlPlane();
    http = kubeHttp(cp.kubeConfig);
    standIn = new OpenShiftStandIn({
      webhookTls: webhookTlsFor(cp.pki),
      onPush: (ref, digest) => {
        pushes.push([ref, digest]);
      },
      onError: (where, e) => {
        failures.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
      },
    });
    await standIn.start(cp.kubeConfig);
  });

  after(async () => {
    await standIn?.stop();
    http.close();
  });

  const ok = (what: string, a: KubeAnswer): unknown => {
    if (a.status < 200 || a.status > 299)
      throw new Error(`${what}: HTTP ${a.status} ${JSON.stringify(a.body)}`);
    return a.body;
  };
  const rvOf = (o: unknown): string => String(dig(o, 'metadata', 'resourceVersion'));
  const imageStream = (name: string) => ({
    apiVersion: 'image.openshift.io/v1',
    kind: 'ImageStream',
    metadata: { name },
    spec: { lookupPolicy: { local: false } },
  });

  const namespace = async (prefix: string): Promise<string> => {
    const name = `${prefix}-${randomBytes(3).toString('hex')}`;
    ok(
      'create namespace',
      await http.create(paths.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
    );
    return name;
  };

  const serviceAccount = async (ns: string, name: string): Promise<unknown> =>
    ok(`read SA ${name}`, await http.get(paths.serviceAccount(ns, name)));

  const names = (list: unknown): unknown[] =>
    Array.isArray(list) ? list.map((e: unknown) => dig(e, 'name')) : [];

  const projectAccountsLinked = (ns: string) =>
    eventually(`builder, deployer and default with their dockercfg Secrets in ${ns}`, async () => {
      const list = ok('list SAs', await http.get(paths.serviceAccounts(ns)));
      const items = (dig(list, 'items') as unknown[] | undefined) ?? [];
      const linked = projectServiceAccounts.every((sa) => {
        const found = items.find((i) => dig(i, 'metadata', 'name') === sa);
        const pulls = names(dig(found, 'imagePullSecrets'));
        const secrets = names(dig(found, 'secrets'));
        return (
          pulls.some((n) => String(n).startsWith(`${sa}-dockercfg-`)) &&
          secrets.some((n) => pulls.includes(n))
        );
      });
      return linked ? items : undefined;
    });

  const dockerBuild = (
    name: string,
    ns: string,
    outputRef: string,
    annotations: Record<string, string> = {},
  ) => ({
    apiVersion: 'build.openshift.io/v1',
    kind: 'Build',
    metadata: { name, namespace: ns, annotations },
    spec: {
      serviceAccount: 'builder',
      source: { type: 'Git', git: { uri: 'https://example.org/app.git' } },
      strategy: {
        type: 'Docker',
        dockerStrategy: { from: { kind: 'DockerImage', name: 'registry.example/base:1' } },
      },
      output: {
        to: { kind: 'DockerImage', name: outputRef },
        pushSecret: { name: 'builder-quay-openshift' },
      },
      triggeredBy: [{ message: 'Manually triggered' }],
    },
  });

  it('is served the OpenShift CRDs exactly as test/crds writes them (defaults, enums, list types kept)', async () => {
    const sorted = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sorted)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(
              Object.entries(v)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, x]) => [k, sorted(x)]),
            )
          : v;
    for (const file of ['imagestream.yaml', 'build.yaml', 'imagestreamimport.yaml']) {
      const written: unknown = parse(readFileSync(join(repoRoot, 'test', 'crds', file), 'utf8'));
      const name = String(dig(written, 'metadata', 'name'));
      const served = ok(
        `read CRD ${name}`,
        await http.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`),
      );
      expect(sorted(dig(served, 'spec', 'versions', 0, 'schema')), file).to.deep.equal(
        sorted(dig(written, 'spec', 'versions', 0, 'schema')),
      );
      expect(dig(served, 'spec', 'versions', 0, 'subresources'), file).to.deep.equal(
        dig(written, 'spec', 'versions', 0, 'subresources'),
      );
    }
  });

  it('gives a new namespace builder, deployer and default, each with a linked dockercfg pull Secret', async () => {
    const ns = await namespace('standin-sa');
    await projectAccountsLinked(ns);
    const secrets = ok('list Secrets', await http.get(paths.secrets(ns)));
    const dockercfg = ((dig(secrets, 'items') as unknown[] | undefined) ?? []).filter(
      (s) => dig(s, 'type') === 'kubernetes.io/dockercfg',
    );
    expect(
      dockercfg.map((s) => dig(s, 'metadata', 'annotations', 'kubernetes.io/service-account.name')).sort(),
    ).to.deep.equal(['builder', 'default', 'deployer']);
  });

  it('recreates a deleted project ServiceAccount, as OpenShift does', async () => {
    const ns = await namespace('standin-sa-again');
    await projectAccountsLinked(ns);
    const before = await serviceAccount(ns, 'deployer');
    ok('delete SA', await http.delete(paths.serviceAccount(ns, 'deployer')));
    const after = await eventually('deployer again', async () => {
      const got = await http.get(paths.serviceAccount(ns, 'deployer'));
      return got.status === 200 && dig(got.body, 'metadata', 'uid') !== dig(before, 'metadata', 'uid')
        ? got.body
        : undefined;
    });
    expect(dig(after, 'metadata', 'name')).to.equal('deployer');
  });

  it('runs a Build New → Pending → Running → Complete, pushing its output and reporting the digest', async () => {
    const ns = await namespace('standin-build');
    const ref = `${quay}/openshift_${ns}/app:latest`;
    const created = ok('create Build', await http.create(paths.builds(ns), dockerBuild('app-1', ns, ref)));
    expect(dig(created, 'status', 'phase')).to.equal('New');
    const states = await watchObjectUntil(cp.kubeConfig, paths.builds(ns), 'app-1', rvOf(created), (b) =>
      ['Complete', 'Failed', 'Error', 'Cancelled'].includes(String(dig(b, 'status', 'phase'))),
    );
    expect(states.map((b) => dig(b, 'status', 'phase'))).to.deep.equal(['Pending', 'Running', 'Complete']);
    const done = states[states.length - 1];
    const digest = buildImageDigest(ref, { namespace: ns, name: 'app-1' });
    expect(dig(done, 'status', 'output', 'to', 'imageDigest')).to.equal(digest);
    expect(dig(done, 'status', 'outputDockerImageReference')).to.equal(ref);
    expect(dig(done, 'status', 'startTimestamp')).to.be.a('string');
    expect(dig(done, 'status', 'completionTimestamp')).to.be.a('string');
    expect(dig(done, 'status', 'duration')).to.be.a('number');
    // Fields of the spec survive (the schema does not prune what OpenShift Builds carry).
    expect(dig(done, 'spec', 'output', 'pushSecret', 'name')).to.equal('builder-quay-openshift');
    expect(dig(done, 'spec', 'strategy', 'dockerStrategy', 'from', 'name')).to.equal(
      'registry.example/base:1',
    );
    expect(pushes).to.deep.include([ref, digest]);
    expect(standIn?.pushedDigest(ref)).to.equal(digest);
  });

  it('fails a Build whose outcome annotation says Failed, without pushing', async () => {
    const ns = await namespace('standin-build-fails');
    const ref = `${quay}/openshift_${ns}/app:latest`;
    const build = dockerBuild('app-1', ns, ref, { [outcomeAnnotation]: 'Failed' });
    const created = ok('create Build', await http.create(paths.builds(ns), build));
    const states = await watchObjectUntil(cp.kubeConfig, paths.builds(ns), 'app-1', rvOf(created), (b) =>
      ['Complete', 'Failed'].includes(String(dig(b, 'status', 'phase'))),
    );
    const done = states[states.length - 1];
    expect(dig(done, 'status', 'phase')).to.equal('Failed');
    expect(dig(done, 'status', 'reason')).to.equal('GenericBuildFailed');
    expect(dig(done, 'status', 'output', 'to')).to.equal(undefined);
    expect(pushes.map(([r]) => r)).to.not.include(ref);
  });

  it('imports a pushed tag the way QBO asks (POST answers with the result), then forgets the import object', async () => {
    const ns = await namespace('standin-import');
    const ref = `${quay}/openshift_${ns}/app:latest`;
    const stream = ok('create ImageStream', await http.create(paths.imageStreams(ns), imageStream('app')));
    const built = ok('create Build', await http.create(paths.builds(ns), dockerBuild('app-1', ns, ref)));
    await watchObjectUntil(cp.kubeConfig, paths.builds(ns), 'app-1', rvOf(built), (b) =>
      ['Complete', 'Failed'].includes(String(dig(b, 'status', 'phase'))),
    );
    const digest = buildImageDigest(ref, { namespace: ns, name: 'app-1' });
    const isi = (resourceVersion: string) => ({
      apiVersion: 'image.openshift.io/v1',
      kind: 'ImageStreamImport',
      metadata: { name: 'app', namespace: ns, resourceVersion },
      spec: {
        import: true,
        images: [
          {
            from: { kind: 'DockerImage', name: ref },
            to: { name: 'latest' },
            importPolicy: { insecure: true, scheduled: false },
            referencePolicy: { type: 'Source' },
          },
        ],
      },
    });

    const answer = ok(
      'create ImageStreamImport',
      await http.create(paths.imageStreamImports(ns), isi(rvOf(stream))),
    );
    expect(dig(answer, 'status', 'images', 0, 'status', 'status')).to.equal('Success');
    expect(dig(answer, 'status', 'images', 0, 'image', 'dockerImageReference')).to.equal(
      `${quay}/openshift_${ns}/app@${digest}`,
    );
    expect(dig(answer, 'status', 'import', 'status', 'tags', 0, 'items', 0, 'image')).to.equal(digest);

    const imported = ok('read ImageStream', await http.get(paths.imageStream(ns, 'app')));
    expect(dig(imported, 'spec', 'tags', 0)).to.deep.include({
      name: 'latest',
      from: { kind: 'DockerImage', name: ref },
      importPolicy: { insecure: true, scheduled: false },
      referencePolicy: { type: 'Source' },
    });
    expect(dig(imported, 'spec', 'tags', 0, 'generation')).to.equal(dig(imported, 'metadata', 'generation'));
    expect(dig(imported, 'status', 'tags', 0)).to.deep.include({ tag: 'latest' });
    expect(dig(imported, 'status', 'tags', 0, 'items', 0)).to.deep.include({
      dockerImageReference: `${quay}/openshift_${ns}/app@${digest}`,
      image: digest,
      generation: dig(imported, 'metadata', 'generation'),
    });

    await eventually('the ImageStreamImport object to be deleted', async () =>
      (await http.get(paths.imageStreamImport(ns, 'app'))).status === 404 ? true : undefined,
    );

    // A stale resourceVersion is refused as on OpenShift; the current one imports again under the same name.
    const stale = await http.create(paths.imageStreamImports(ns), isi(rvOf(stream)));
    expect(stale.status).to.equal(409);
    const again = await http.create(paths.imageStreamImports(ns), isi(rvOf(imported)));
    expect(again.status).to.equal(201);
    expect(dig(again.body, 'status', 'images', 0, 'status', 'status')).to.equal('Success');
  });

  it('reports an import of a tag nothing was pushed to as Failure, and records it on the stream', async () => {
    const ns = await namespace('standin-import-missing');
    const ref = `${quay}/openshift_${ns}/app:never`;
    const answer = ok(
      'create ImageStreamImport',
      await http.create(paths.imageStreamImports(ns), {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStreamImport',
        metadata: { name: 'app' },
        spec: { import: true, images: [{ from: { kind: 'DockerImage', name: ref }, to: { name: 'never' } }] },
      }),
    );
    expect(dig(answer, 'status', 'images', 0, 'status')).to.deep.include({
      status: 'Failure',
      reason: 'NotFound',
    });
    const stream = ok('read ImageStream', await http.get(paths.imageStream(ns, 'app')));
    expect(dig(stream, 'status', 'tags', 0, 'conditions', 0)).to.deep.include({
      type: 'ImportSuccess',
      status: 'False',
    });
  });

  it('keeps other ServiceAccount links under a read-modify-write merge patch locked by resourceVersion', async () => {
    const ns = await namespace('standin-patch');
    await projectAccountsLinked(ns);
    const sa = await serviceAccount(ns, 'builder');
    const before = { secrets: names(dig(sa, 'secrets')), pulls: names(dig(sa, 'imagePullSecrets')) };
    const link = { name: 'builder-quay-openshift' };
    const patch = {
      metadata: { resourceVersion: rvOf(sa) },
      secrets: [...((dig(sa, 'secrets') as unknown[] | undefined) ?? []), link],
      imagePullSecrets: [...((dig(sa, 'imagePullSecrets') as unknown[] | undefined) ?? []), link],
    };
    const patched = ok('merge patch', await http.patch(paths.serviceAccount(ns, 'builder'), 'merge', patch));
    expect(names(dig(patched, 'secrets'))).to.deep.equal([...before.secrets, link.name]);
    expect(names(dig(patched, 'imagePullSecrets'))).to.deep.equal([...before.pulls, link.name]);

    // The same patch again carries a resourceVersion that is no longer current: refused, nothing lost.
    const stale = await http.patch(paths.serviceAccount(ns, 'builder'), 'merge', patch);
    expect(stale.status).to.equal(409);
    expect(dig(stale.body, 'reason')).to.equal('Conflict');
  });

  it('keeps other links under a JSON patch that appends after testing the resourceVersion', async () => {
    const ns = await namespace('standin-jsonpatch');
    await projectAccountsLinked(ns);
    const sa = await serviceAccount(ns, 'default');
    const pulls = names(dig(sa, 'imagePullSecrets'));
    const ops = (rv: string) => [
      { op: 'test', path: '/metadata/resourceVersion', value: rv },
      { op: 'add', path: '/imagePullSecrets/-', value: { name: 'default-quay-openshift' } },
    ];
    const patched = ok(
      'JSON patch',
      await http.patch(paths.serviceAccount(ns, 'default'), 'json', ops(rvOf(sa))),
    );
    expect(names(dig(patched, 'imagePullSecrets'))).to.deep.equal([...pulls, 'default-quay-openshift']);

    const stale = await http.patch(paths.serviceAccount(ns, 'default'), 'json', ops(rvOf(sa)));
    // A failed `test` op is 422 Invalid, not 409 Conflict: a caller must treat it as "re-read and retry".
    expect(stale.status).to.equal(422);
    expect(dig(stale.body, 'reason')).to.equal('Invalid');
    const now = await serviceAccount(ns, 'default');
    expect(names(dig(now, 'imagePullSecrets'))).to.include.members([...pulls, 'default-quay-openshift']);
  });

  it('shows why lists need that care: a merge patch without a lock replaces imagePullSecrets whole', async () => {
    const ns = await namespace('standin-mergelist');
    await projectAccountsLinked(ns);
    const patched = ok(
      'merge patch',
      await http.patch(paths.serviceAccount(ns, 'deployer'), 'merge', {
        imagePullSecrets: [{ name: 'deployer-quay-openshift' }],
      }),
    );
    expect(names(dig(patched, 'imagePullSecrets'))).to.deep.equal(['deployer-quay-openshift']);
  });

  it('refuses a strategic merge patch of a Build (415 UnsupportedMediaType), as for every custom resource', async () => {
    const ns = await namespace('standin-smp');
    ok('create Build', await http.create(paths.builds(ns), dockerBuild('app-1', ns, `${quay}/o/app:latest`)));
    const answer = await http.patch(paths.build(ns, 'app-1'), 'strategic', {
      metadata: { annotations: { a: 'b' } },
    });
    expect(answer.status).to.equal(415);
    expect(dig(answer.body, 'reason')).to.equal('UnsupportedMediaType');
  });

  it('lets a namespace with builds, streams and accounts be deleted for real (kube-controller-manager finalizes it)', async () => {
    const ns = await namespace('standin-delete');
    await projectAccountsLinked(ns);
    ok('create ImageStream', await http.create(paths.imageStreams(ns), imageStream('app')));
    ok('create Build', await http.create(paths.builds(ns), dockerBuild('app-1', ns, `${quay}/o/app:latest`)));
    ok('delete namespace', await http.delete(paths.namespace(ns)));
    await eventually(
      `namespace ${ns} to disappear`,
      async () => ((await http.get(paths.namespace(ns))).status === 404 ? true : undefined),
      90_000,
    );
  });

  it('reported no failure while doing all of the above', () => {
    expect(failures).to.deep.equal([]);
  });
});
