import { expect } from 'chai';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { KubeClient, Patch } from '../../../shared/kube/client.js';
import { kubeErrorOfStatus } from '../../../shared/kube/errors.js';
import type { ObjectRef, ResourceType } from '../../../shared/kube/resources.js';
import { memoryLogger } from '../../../shared/log.js';
import { makeHandler } from '../../../shared/runtime/handler.js';
import { buildStep } from '../../../functions/build/handle.js';
import type { BuildEnv } from '../../../functions/build/apply.js';

const DIGEST = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
const IMPORTED = 'quay-registry-operator.quay.redhat.com/destination-imagestreamtag-imported';

const storedBuild = (phase: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'build.openshift.io/v1',
  kind: 'Build',
  metadata: {
    name: 'app-1',
    namespace: 'team-a',
    resourceVersion: '10',
    annotations: {
      'quay-registry-operator.quay.redhat.com/quay-registry-operator-managed': 'true',
      'quay-registry-operator.quay.redhat.com/destination-imagestream': 'team-a/app:v1',
      ...annotations,
    },
  },
  spec: {
    strategy: { dockerStrategy: {} },
    output: { to: { kind: 'DockerImage', name: 'quay.example.com/openshift_team-a/app:v1' } },
  },
  status: { phase, output: { to: { imageDigest: DIGEST } } },
});

const integration = {
  apiVersion: 'quay.redhat.com/v1',
  kind: 'QuayIntegration',
  metadata: { name: 'quay' },
  spec: {
    quayHostname: 'https://quay.example.com',
    credentialsSecret: { namespace: 'quay-bridge', name: 'quay-token' },
    insecureRegistry: true,
  },
};

const success = {
  kind: 'ImageStreamImport',
  status: {
    images: [
      {
        tag: 'v1',
        status: { status: 'Success' },
        image: { dockerImageReference: `quay.example.com/openshift_team-a/app@${DIGEST}` },
      },
    ],
  },
};

/** A tiny API server: one Build, QuayIntegrations, an import answer; merge patches honour resourceVersion. */
const world = (
  o: {
    build?: Record<string, unknown>;
    integrations?: unknown[];
    importAnswer?: unknown;
    /** Another writer changes the Build while the import runs. */
    changedDuringImport?: boolean;
  } = {},
) => {
  const build = o.build === undefined ? undefined : structuredClone(o.build);
  const created: unknown[] = [];
  const patches: { ref: ObjectRef; patch: Patch }[] = [];
  const kube: KubeClient = {
    get: (ref) =>
      ref.type.kind === 'Build' && build !== undefined && ref.name === 'app-1' && ref.namespace === 'team-a'
        ? TE.right(structuredClone(build))
        : TE.left(kubeErrorOfStatus(404, 'not found')),
    list: (type: ResourceType) =>
      type.kind === 'QuayIntegration' ? TE.right(o.integrations ?? [integration]) : TE.right([]),
    create: (type, _ns, body) => {
      created.push(body);
      if (o.changedDuringImport === true && build !== undefined)
        (build.metadata as { resourceVersion: string }).resourceVersion = '11';
      return type.kind === 'ImageStreamImport'
        ? TE.right(o.importAnswer ?? success)
        : TE.left(kubeErrorOfStatus(500, ''));
    },
    patch: (ref, patch) => {
      patches.push({ ref, patch });
      if (build === undefined || patch.type !== 'merge') return TE.left(kubeErrorOfStatus(500, 'unexpected'));
      const body = patch.body as {
        metadata: { resourceVersion?: string; annotations: Record<string, string> };
      };
      const meta = build.metadata as { resourceVersion: string; annotations: Record<string, string> };
      if (
        body.metadata.resourceVersion !== undefined &&
        body.metadata.resourceVersion !== meta.resourceVersion
      )
        return TE.left(kubeErrorOfStatus(409, 'the object has been modified'));
      meta.annotations = { ...meta.annotations, ...body.metadata.annotations };
      meta.resourceVersion = String(Number(meta.resourceVersion) + 1);
      return TE.right(structuredClone(build));
    },
    delete: () => TE.left(kubeErrorOfStatus(500, 'unexpected')),
    discover: () => TE.left(kubeErrorOfStatus(500, 'unexpected')),
  };
  const log = memoryLogger();
  const env: BuildEnv = { kube, log };
  const handle = makeHandler(buildStep, () => Promise.resolve(env));
  const deliver = (data: unknown = build, type = 'dev.knative.apiserver.resource.update') =>
    handle({
      cloudevent: {
        id: 'e-1',
        type,
        source: 'https://10.0.0.1:443',
        subject: '/apis/build.openshift.io/v1/namespaces/team-a/builds/app-1',
        kind: 'Build',
        apiversion: 'build.openshift.io/v1',
        name: 'app-1',
        namespace: 'team-a',
        data,
      },
    });
  return { deliver, created, patches, log, current: () => build };
};

describe('build step: handle', () => {
  it('imports a completed Build by digest with the QuayIntegration policy, then marks it, answering 204', async () => {
    const w = world({ build: storedBuild('Complete') });
    const a = await w.deliver();
    expect(a.statusCode).to.equal(204);
    expect(a.body).to.equal('');
    expect(w.created).to.have.length(1);
    expect(w.created[0]).to.deep.nested.include({
      'metadata.name': 'app',
      'metadata.namespace': 'team-a',
      'spec.import': true,
      'spec.images[0].from.name': `quay.example.com/openshift_team-a/app@${DIGEST}`,
      'spec.images[0].to.name': 'v1',
      'spec.images[0].importPolicy.insecure': true,
      'spec.images[0].importPolicy.scheduled': false,
    });
    expect(w.patches.map((p) => p.patch)).to.deep.equal([
      { type: 'merge', body: { metadata: { resourceVersion: '10', annotations: { [IMPORTED]: 'true' } } } },
    ]);
    expect(w.log.lines[0]).to.deep.include({ step: 'build', outcome: 'updated', status: 204 });
  });

  it('imports once when the same event is delivered twice: the second delivery re-reads the marked Build', async () => {
    const w = world({ build: storedBuild('Complete') });
    const stale = storedBuild('Complete');
    expect((await w.deliver(stale)).statusCode).to.equal(204);
    expect((await w.deliver(stale)).statusCode).to.equal(204);
    expect(w.created).to.have.length(1);
    expect(w.log.lines[1]).to.deep.include({ outcome: 'ignored', reason: 'already imported' });
  });

  it('re-reads the Build: a stale Running event of a now complete Build imports', async () => {
    const w = world({ build: storedBuild('Complete') });
    await w.deliver(storedBuild('Running'));
    expect(w.created).to.have.length(1);
  });

  it('re-reads the Build: a Complete event of a Build since deleted is ignored', async () => {
    const w = world({});
    const a = await w.deliver(storedBuild('Complete'));
    expect(a.statusCode).to.equal(204);
    expect(w.created).to.have.length(0);
    expect(w.log.lines[0]).to.deep.include({ outcome: 'ignored', reason: 'the Build no longer exists' });
  });

  for (const phase of ['New', 'Running', 'Failed', 'Cancelled'])
    it(`docs/qbo-compatibility.md#b5: neither imports nor reads settings for a ${phase} Build`, async () => {
      const w = world({ build: storedBuild(phase), integrations: [] });
      expect((await w.deliver()).statusCode).to.equal(204);
      expect(w.created).to.have.length(0);
      expect(w.patches).to.have.length(0);
    });

  it('retries (503) when the import reports a failure, and does not mark the Build', async () => {
    const w = world({
      build: storedBuild('Complete'),
      importAnswer: {
        status: {
          images: [
            { status: { status: 'Failure', reason: 'Unauthorized', message: 'you may not have access' } },
          ],
        },
      },
    });
    const a = await w.deliver();
    expect(a.statusCode).to.equal(503);
    expect(a.body).to.include('failed: Unauthorized: you may not have access');
    expect(w.patches).to.have.length(0);
  });

  it('retries (502) when the import answer carries no status', async () => {
    const w = world({ build: storedBuild('Complete'), importAnswer: { kind: 'ImageStreamImport' } });
    expect((await w.deliver()).statusCode).to.equal(502);
    expect(w.patches).to.have.length(0);
  });

  it('dead-letters (422) a completed Build without a digest, with the reason', async () => {
    const b = storedBuild('Complete');
    (b.status as { output?: unknown }).output = undefined;
    const w = world({ build: b });
    const a = await w.deliver();
    expect(a.statusCode).to.equal(422);
    expect(a.body).to.include('completed without status.output.to.imageDigest');
    expect(w.created).to.have.length(0);
  });

  it('answers 409 (retried) when the Build changed between the read and the mark', async () => {
    const w = world({ build: storedBuild('Complete'), changedDuringImport: true });
    expect((await w.deliver()).statusCode).to.equal(409);
    expect(w.current()?.metadata).to.not.have.nested.property(`annotations.${IMPORTED}`);
  });

  it('ignores a Build event without a QuayIntegration (204, not retried)', async () => {
    const w = world({ build: storedBuild('Complete'), integrations: [] });
    expect((await w.deliver()).statusCode).to.equal(204);
    expect(w.created).to.have.length(0);
  });

  it('dead-letters (422) an event about another kind', async () => {
    const w = world({ build: storedBuild('Complete') });
    const handle = makeHandler(buildStep, () =>
      Promise.resolve({ kube: {} as KubeClient, log: memoryLogger() }),
    );
    const a = await handle({
      cloudevent: {
        id: 'e-2',
        type: 'dev.knative.apiserver.resource.update',
        source: 's',
        kind: 'Pod',
        apiversion: 'v1',
        name: 'p',
        namespace: 'team-a',
        data: {},
      },
    });
    expect(a.statusCode).to.equal(422);
    expect(w.created).to.have.length(0);
  });
});
