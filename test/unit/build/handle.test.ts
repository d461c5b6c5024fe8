import { expect } from 'chai';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { KubeClient, Patch } from '../../../shared/kube/client.js';
import { kubeErrorOfStatus } from '../../../shared/kube/errors.js';
import type { ObjectRef, ResourceType } from '../../../shared/kube/resources.js';
import { memoryEvents } from '../../../shared/kube/events.js';
import { memoryLogger } from '../../../shared/log.js';
import { makeHandler } from '../../../shared/runtime/handler.js';
import { createSettingsSource } from '../../../shared/settings/load.js';
import { buildStep, makeBuildStep } from '../../../functions/build/handle.js';
import type { BuildEnv } from '../../../functions/build/apply.js';
import { ALL_CHECKS, type Checks } from '../../../functions/build/plan.js';
import { tokenSecret } from '../shared/fakes/env.js';
import { fakeQuay } from '../shared/fakes/quay.js';

const DIGEST = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
const IMPORTED = 'quay-registry-operator.quay.redhat.com/destination-imagestreamtag-imported';

const storedBuild = (phase: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'build.openshift.io/v1',
  kind: 'Build',
  metadata: {
    name: 'app-1',
    namespace: 'team-a',
    uid: 'build-uid',
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
const TOKEN_SECRET = tokenSecret();

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
    /** What Quay's openshift_team-a/app:v1 was pushed with, newest first (default: the Build's digest). */
    pushed?: readonly string[];
    checks?: Checks;
  } = {},
) => {
  const build = o.build === undefined ? undefined : structuredClone(o.build);
  const created: unknown[] = [];
  const patches: { ref: ObjectRef; patch: Patch }[] = [];
  const kube: KubeClient = {
    get: (ref) => {
      if (ref.type.kind === 'Secret' && ref.namespace === 'quay-bridge' && ref.name === 'quay-token')
        return TE.right(TOKEN_SECRET);
      return ref.type.kind === 'Build' &&
        build !== undefined &&
        ref.name === 'app-1' &&
        ref.namespace === 'team-a'
        ? TE.right(structuredClone(build))
        : TE.left(kubeErrorOfStatus(404, 'not found'));
    },
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
  const events = memoryEvents();
  const quay = fakeQuay();
  quay.addOrg('openshift_team-a').repos.set('app', new Map());
  for (const d of [...(o.pushed ?? [DIGEST])].reverse()) quay.push('openshift_team-a', 'app', 'v1', d);
  const settings = createSettingsSource({ kube, ttlMs: 0, makeQuay: () => quay });
  const env: BuildEnv = { kube, log, settings, events };
  const handle = makeHandler(makeBuildStep(o.checks ?? ALL_CHECKS), () => Promise.resolve(env));
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
  return { deliver, created, patches, log, events, quay, current: () => build };
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

  it('checks the digest with one Quay read and says so on the Build with a Normal Event', async () => {
    const w = world({ build: storedBuild('Complete') });
    expect((await w.deliver()).statusCode).to.equal(204);
    expect(w.quay.calls.filter((c) => c.startsWith('tagVersions'))).to.deep.equal([
      'tagVersions(openshift_team-a,app,v1)',
    ]);
    expect(w.events.recorded).to.deep.equal([
      {
        regarding: {
          apiVersion: 'build.openshift.io/v1',
          kind: 'Build',
          namespace: 'team-a',
          name: 'app-1',
          uid: 'build-uid',
        },
        event: {
          type: 'Normal',
          reason: 'Imported',
          action: 'ImportImage',
          note: `Imported quay.example.com/openshift_team-a/app@${DIGEST} into ImageStreamTag team-a/app:v1`,
        },
      },
    ]);
  });

  const refusals: {
    readonly what: string;
    readonly build: Record<string, unknown>;
    readonly pushed?: readonly string[];
    readonly weakened: Checks;
    readonly reason: string;
    readonly status: number;
    /** Where the weakened step imports to. */
    readonly into: string;
  }[] = [
    {
      what: 'an annotation naming another namespace',
      build: storedBuild('Complete', {
        'quay-registry-operator.quay.redhat.com/destination-imagestream': 'victim/app:v1',
      }),
      weakened: { ...ALL_CHECKS, confine: false },
      reason: 'CrossNamespaceImport',
      status: 422,
      into: 'victim',
    },
    {
      what: "spec.output.to in another namespace's organization",
      build: {
        ...storedBuild('Complete'),
        spec: { output: { to: { kind: 'DockerImage', name: 'quay.example.com/openshift_victim/app:v1' } } },
      },
      weakened: { ...ALL_CHECKS, confine: false, verifyDigest: false },
      reason: 'ForeignRepository',
      status: 422,
      into: 'team-a',
    },
    {
      what: 'a digest Quay does not have in the repository',
      build: storedBuild('Complete'),
      pushed: ['sha256:0000000000000000000000000000000000000000000000000000000000000000'],
      weakened: { ...ALL_CHECKS, verifyDigest: false },
      reason: 'UnknownDigest',
      status: 422,
      into: 'team-a',
    },
  ];
  for (const r of refusals)
    it(`refuses ${r.what}: no import, a Warning Event ${r.reason}, ${r.status} (the weakened step imports)`, async () => {
      const w = world({ build: r.build, ...(r.pushed === undefined ? {} : { pushed: r.pushed }) });
      const a = await w.deliver();
      expect(a.statusCode).to.equal(r.status);
      expect(a.body).to.include(`not imported (${r.reason})`);
      expect(w.created).to.deep.equal([]);
      expect(w.patches).to.deep.equal([]);
      expect(w.events.recorded.map((e) => [e.regarding.name, e.event.type, e.event.reason])).to.deep.equal([
        ['app-1', 'Warning', r.reason],
      ]);
      const weak = world({
        build: r.build,
        checks: r.weakened,
        ...(r.pushed === undefined ? {} : { pushed: r.pushed }),
      });
      expect((await weak.deliver()).statusCode).to.equal(204);
      expect(weak.created).to.have.length(1);
      expect(weak.created[0]).to.have.nested.property('metadata.namespace', r.into);
    });

  it('keeps the same confinement with scheduledImageStreamImport (an import of the tag)', async () => {
    const scheduled = [{ ...integration, spec: { ...integration.spec, scheduledImageStreamImport: true } }];
    const forged = world({
      build: storedBuild('Complete', {
        'quay-registry-operator.quay.redhat.com/destination-imagestream': 'victim/app:v1',
      }),
      integrations: scheduled,
    });
    expect((await forged.deliver()).statusCode).to.equal(422);
    expect(forged.created).to.deep.equal([]);
    const unknown = world({
      build: storedBuild('Complete'),
      integrations: scheduled,
      pushed: ['sha256:0000000000000000000000000000000000000000000000000000000000000000'],
    });
    expect((await unknown.deliver()).statusCode).to.equal(422);
    expect(unknown.created).to.deep.equal([]);
    const honest = world({ build: storedBuild('Complete'), integrations: scheduled });
    expect((await honest.deliver()).statusCode).to.equal(204);
    expect(honest.created[0]).to.deep.nested.include({
      'metadata.namespace': 'team-a',
      'spec.images[0].from.name': 'quay.example.com/openshift_team-a/app:v1',
      'spec.images[0].importPolicy.scheduled': true,
    });
  });

  it('ignores (204) a Build of a namespace out of scope, with a Warning Event', async () => {
    const w = world({
      build: storedBuild('Complete'),
      integrations: [{ ...integration, spec: { ...integration.spec, denylistNamespaces: ['team-a'] } }],
    });
    expect((await w.deliver()).statusCode).to.equal(204);
    expect(w.created).to.deep.equal([]);
    expect(w.events.recorded.map((e) => e.event.reason)).to.deep.equal(['NamespaceNotManaged']);
    expect(w.log.lines[0]).to.deep.include({ outcome: 'ignored' });
  });

  it('retries (503) when Quay cannot be asked about the digest, and imports nothing', async () => {
    const w = world({ build: storedBuild('Complete') });
    w.quay.fail('tagVersions', { _tag: 'QuayUnreachable', message: 'connect ECONNREFUSED' });
    expect((await w.deliver()).statusCode).to.equal(503);
    expect(w.created).to.deep.equal([]);
    expect(w.events.recorded).to.deep.equal([]);
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
    expect(w.events.recorded.map((e) => [e.event.type, e.event.reason])).to.deep.equal([
      ['Warning', 'MissingDigest'],
    ]);
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
      Promise.resolve({ ...({} as BuildEnv), kube: {} as KubeClient, log: memoryLogger() }),
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
