import { expect } from 'chai';
import type { ImageRef } from '../../openshift-standin/image-ref.js';
import type { Resolution } from '../../openshift-standin/image-import.js';
import {
  carryOutImport,
  type AdmissionAnswer,
  type ImportEnv,
} from '../../openshift-standin/import-webhook.js';
import type { KubeAnswer, KubeHttp } from '../../openshift-standin/kube-http.js';
import { dig } from '../../openshift-standin/dig.js';

const isPath = '/apis/image.openshift.io/v1/namespaces/team-a/imagestreams';
const ref = 'quay.example.com/openshift_team-a/app:latest';
const digest = `sha256:${'c'.repeat(64)}`;

interface Stored {
  metadata: { name: string; resourceVersion: string; generation: number };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}
interface Written {
  metadata?: { resourceVersion?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** Just enough of an API server for ImageStreams: resourceVersion preconditions, generation on spec changes. */
const fakeApiServer = () => {
  const objects = new Map<string, Stored>();
  const calls: string[] = [];
  let version = 100;
  const answer = (status: number, body: unknown): KubeAnswer => ({ status, body: structuredClone(body) });
  const http: KubeHttp = {
    get: (path) => {
      calls.push(`GET ${path}`);
      const o = objects.get(path);
      return Promise.resolve(o === undefined ? answer(404, { message: 'not found' }) : answer(200, o));
    },
    create: (path, body) => {
      calls.push(`POST ${path}`);
      const o = structuredClone(body) as Stored;
      const at = `${path}/${o.metadata.name}`;
      if (objects.has(at)) return Promise.resolve(answer(409, { message: 'exists' }));
      o.metadata.resourceVersion = String(++version);
      o.metadata.generation = 1;
      objects.set(at, o);
      return Promise.resolve(answer(201, o));
    },
    patch: (path, type, body) => {
      calls.push(`PATCH(${type}) ${path}`);
      const status = path.endsWith('/status');
      const o = objects.get(status ? path.slice(0, -'/status'.length) : path);
      const b = body as Written;
      if (o === undefined) return Promise.resolve(answer(404, {}));
      if (
        b.metadata?.resourceVersion !== undefined &&
        b.metadata.resourceVersion !== o.metadata.resourceVersion
      )
        return Promise.resolve(answer(409, { message: 'conflict' }));
      if (status) o.status = { ...o.status, ...b.status };
      else if (b.spec !== undefined) {
        o.spec = { ...o.spec, ...b.spec };
        o.metadata.generation += 1;
      }
      o.metadata.resourceVersion = String(++version);
      return Promise.resolve(answer(200, o));
    },
    delete: (path) => {
      calls.push(`DELETE ${path}`);
      return Promise.resolve(answer(404, {}));
    },
    close: () => undefined,
  };
  return { http, objects, calls };
};

const known = new Map([[ref, digest]]);
const envOf = (http: KubeHttp): ImportEnv => ({
  http,
  now: () => new Date('2026-03-01T12:00:00.500Z'),
  resolve: (r: ImageRef): Promise<Resolution> => {
    const d = known.get(`${r.repository}:${r.tag ?? 'latest'}`);
    return Promise.resolve(
      d === undefined
        ? { kind: 'failed', failure: { reason: 'NotFound', message: 'not pushed', code: 404 } }
        : { kind: 'resolved', digest: d },
    );
  },
});

// The import QBO creates after a build (docs/qbo-compatibility.md#build-import): named after the stream, carrying its resourceVersion.
const qboImport = (resourceVersion: string | undefined, from = ref) => ({
  apiVersion: 'image.openshift.io/v1',
  kind: 'ImageStreamImport',
  metadata: {
    name: 'app',
    namespace: 'team-a',
    ...(resourceVersion === undefined ? {} : { resourceVersion }),
  },
  spec: {
    import: true,
    images: [
      {
        from: { kind: 'DockerImage', name: from },
        to: { name: 'latest' },
        importPolicy: { insecure: false, scheduled: true },
        referencePolicy: { type: 'Source' },
      },
    ],
  },
});

const statusOf = (a: AdmissionAnswer, ...path: (string | number)[]): unknown => {
  if (!a.allowed) throw new Error(`denied: ${a.status.message}`);
  const add = a.patch.find((op) => dig(op, 'path') === '/status');
  return dig(add, 'value', ...path);
};

describe('the stand-in ImageStreamImport webhook (carryOutImport)', () => {
  const withStream = async () => {
    const api = fakeApiServer();
    await api.http.create(isPath, { metadata: { name: 'app', namespace: 'team-a' }, spec: {} });
    api.calls.length = 0;
    return api;
  };

  it('imports into the stream: spec tag at the new generation, status item by digest, result in the status', async () => {
    const api = await withStream();
    const answer = await carryOutImport(envOf(api.http), qboImport('101'), 'team-a', false);
    const stream = api.objects.get(`${isPath}/app`)!;
    expect(stream.metadata.generation).to.equal(2);
    expect(dig(stream, 'spec', 'tags')).to.deep.equal([
      {
        name: 'latest',
        annotations: null,
        from: { kind: 'DockerImage', name: ref },
        generation: 2,
        importPolicy: { insecure: false, scheduled: true },
        referencePolicy: { type: 'Source' },
      },
    ]);
    expect(dig(stream, 'status', 'tags')).to.deep.equal([
      {
        tag: 'latest',
        items: [
          {
            created: '2026-03-01T12:00:00Z',
            dockerImageReference: `quay.example.com/openshift_team-a/app@${digest}`,
            image: digest,
            generation: 2,
          },
        ],
      },
    ]);
    expect(statusOf(answer, 'images')).to.deep.equal([
      {
        status: { status: 'Success' },
        tag: 'latest',
        image: {
          metadata: { name: digest },
          dockerImageReference: `quay.example.com/openshift_team-a/app@${digest}`,
        },
      },
    ]);
    expect(statusOf(answer, 'import')).to.deep.include({
      apiVersion: 'image.openshift.io/v1',
      kind: 'ImageStream',
    });
    expect(statusOf(answer, 'import', 'status', 'tags')).to.deep.equal(dig(stream, 'status', 'tags'));
  });

  it('drops the resourceVersion from the stored object and deletes an earlier stored import of that name', async () => {
    const api = await withStream();
    const answer = await carryOutImport(envOf(api.http), qboImport('101'), 'team-a', false);
    expect(answer.allowed && answer.patch[0]).to.deep.equal({
      op: 'remove',
      path: '/metadata/resourceVersion',
    });
    expect(api.calls).to.include(
      'DELETE /apis/image.openshift.io/v1/namespaces/team-a/imagestreamimports/app',
    );
  });

  it('answers 409 Conflict and writes nothing when the import names an older version of the stream', async () => {
    const api = await withStream();
    const answer = await carryOutImport(envOf(api.http), qboImport('99'), 'team-a', false);
    expect(answer).to.deep.include({ allowed: false });
    expect(!answer.allowed && answer.status.code).to.equal(409);
    expect(api.calls.filter((c) => !c.startsWith('GET'))).to.deep.equal([]);
  });

  it('creates the stream when it does not exist and the import names no version', async () => {
    const api = fakeApiServer();
    const answer = await carryOutImport(envOf(api.http), qboImport(undefined), 'team-a', false);
    expect(statusOf(answer, 'images', 0, 'status')).to.deep.equal({ status: 'Success' });
    expect(dig(api.objects.get(`${isPath}/app`), 'status', 'tags', 0, 'items', 0, 'image')).to.equal(digest);
  });

  it('records a failed import on the stream (spec tag set, ImportSuccess=False) and reports Failure', async () => {
    const api = await withStream();
    const missing = 'quay.example.com/openshift_team-a/app:never-pushed';
    const answer = await carryOutImport(envOf(api.http), qboImport(undefined, missing), 'team-a', false);
    expect(statusOf(answer, 'images', 0, 'status')).to.deep.equal({
      status: 'Failure',
      reason: 'NotFound',
      message: 'not pushed',
      code: 404,
    });
    const stream = api.objects.get(`${isPath}/app`)!;
    expect(dig(stream, 'spec', 'tags', 0, 'from', 'name')).to.equal(missing);
    expect(dig(stream, 'status', 'tags', 0)).to.deep.include({ tag: 'latest', items: [] });
    expect(dig(stream, 'status', 'tags', 0, 'conditions', 0)).to.deep.include({
      type: 'ImportSuccess',
      status: 'False',
    });
  });

  it('on a dry run reports what it would import and writes nothing', async () => {
    const api = await withStream();
    const answer = await carryOutImport(envOf(api.http), qboImport(undefined), 'team-a', true);
    expect(statusOf(answer, 'images', 0, 'status')).to.deep.equal({ status: 'Success' });
    expect(statusOf(answer)).to.not.have.property('import');
    expect(api.calls.filter((c) => !c.startsWith('GET'))).to.deep.equal([]);
  });

  it('refuses an invalid import with 422 Invalid, naming the field', async () => {
    const api = await withStream();
    const bad = qboImport(undefined);
    bad.spec.images[0]!.from.kind = 'ImageStreamTag';
    const answer = await carryOutImport(envOf(api.http), bad, 'team-a', false);
    expect(answer.allowed).to.equal(false);
    if (answer.allowed) return;
    expect(answer.status).to.deep.include({ code: 422, reason: 'Invalid' });
    expect(answer.status.message).to.equal(
      'ImageStreamImport.image.openshift.io "app" is invalid: spec.images[0].from.kind: Unsupported value: "ImageStreamTag": supported values: "DockerImage"',
    );
    expect(api.calls).to.deep.equal([]);
  });
});
