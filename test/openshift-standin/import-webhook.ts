// ImageStreamImport, carried out synchronously inside the CREATE request, as on OpenShift: a mutating admission
// webhook performs the import (writes the ImageStream's spec and status tags) and patches the result into `status`
// of the object being created, so the POST response carries it. See README.md for why and what differs.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as t from 'io-ts';
import type { ImageRef } from './image-ref.js';
import {
  importStatuses,
  readImportRequest,
  specTagsAfterImport,
  statusTagsAfterImport,
  type ImportResult,
  type ImportTarget,
  type Resolution,
} from './image-import.js';
import { describeAnswer, expectOk, paths, type KubeHttp } from './kube-http.js';
import { kubeTime } from './build-phases.js';
import { decodeOrThrow, ImageStream, ImageStreamImport } from './objects.js';

export interface WebhookTls {
  /** PEM of the serving certificate (valid for IP 127.0.0.1) and its key. */
  readonly cert: string;
  readonly key: string;
  /** PEM of the CA the API server should trust for it. */
  readonly caBundle: string;
}

export interface ImportEnv {
  readonly http: KubeHttp;
  readonly resolve: (ref: ImageRef) => Promise<Resolution>;
  readonly now: () => Date;
}

interface StatusDetails {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  readonly details?: object;
}

export type AdmissionAnswer =
  | { readonly allowed: true; readonly patch: readonly object[] }
  | { readonly allowed: false; readonly status: StatusDetails };

const AdmissionReview = t.type({
  request: t.intersection([
    t.type({ uid: t.string, object: t.unknown }),
    t.partial({ dryRun: t.boolean, namespace: t.string }),
  ]),
});

const retries = 5;

const conflict = (name: string): AdmissionAnswer => ({
  allowed: false,
  status: {
    code: 409,
    reason: 'Conflict',
    message: `Operation cannot be fulfilled on imagestreams.image.openshift.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  },
});

const readStream = decodeOrThrow(ImageStream, 'an ImageStream');

/** Writes the import into the ImageStream (creating it if needed); `conflict` when the caller's RV is stale. */
const writeImport = async (
  env: ImportEnv,
  namespace: string,
  name: string,
  expectedResourceVersion: string | undefined,
  results: readonly ImportResult[],
): Promise<{ kind: 'conflict' } | { kind: 'written'; stream: Record<string, unknown> }> => {
  const targets: ImportTarget[] = results.map((r) => r.target);
  for (let attempt = 0; attempt < retries; attempt++) {
    let got = await env.http.get(paths.imageStream(namespace, name));
    if (got.status === 404) {
      if (expectedResourceVersion !== undefined) return { kind: 'conflict' };
      got = await env.http.create(paths.imageStreams(namespace), {
        apiVersion: 'image.openshift.io/v1',
        kind: 'ImageStream',
        metadata: { name, namespace },
        spec: { lookupPolicy: { local: false } },
      });
      if (got.status === 409) continue;
    }
    const stream = readStream(expectOk(`read ImageStream ${namespace}/${name}`, got));
    const rv = stream.metadata.resourceVersion;
    if (expectedResourceVersion !== undefined && expectedResourceVersion !== rv) return { kind: 'conflict' };
    const generation = (stream.metadata.generation ?? 1) + 1;
    const specWrite = await env.http.patch(paths.imageStream(namespace, name), 'merge', {
      metadata: { resourceVersion: rv },
      spec: { tags: specTagsAfterImport(stream.spec?.tags ?? [], targets, generation) },
    });
    if (specWrite.status === 409) continue;
    let current = readStream(expectOk(`write spec tags of ImageStream ${namespace}/${name}`, specWrite));
    for (let statusAttempt = 0; statusAttempt < retries; statusAttempt++) {
      const statusWrite = await env.http.patch(`${paths.imageStream(namespace, name)}/status`, 'merge', {
        metadata: { resourceVersion: current.metadata.resourceVersion },
        status: {
          tags: statusTagsAfterImport(
            current.status?.tags ?? [],
            results,
            current.metadata.generation ?? generation,
            kubeTime(env.now()),
          ),
        },
      });
      if (statusWrite.status === 409) {
        current = readStream(
          expectOk('re-read ImageStream', await env.http.get(paths.imageStream(namespace, name))),
        );
        continue;
      }
      const written = expectOk(`write status tags of ImageStream ${namespace}/${name}`, statusWrite);
      return { kind: 'written', stream: written as Record<string, unknown> };
    }
  }
  throw new Error(`ImageStream ${namespace}/${name} kept changing under the import`);
};

const withoutManagedFields = (stream: Record<string, unknown>): Record<string, unknown> => {
  const { managedFields: _m, ...metadata } = (stream.metadata ?? {}) as Record<string, unknown>;
  return { ...stream, apiVersion: 'image.openshift.io/v1', kind: 'ImageStream', metadata };
};

/** The webhook's decision for one CREATE of an ImageStreamImport. */
export const carryOutImport = async (
  env: ImportEnv,
  object: unknown,
  namespace: string,
  dryRun: boolean,
): Promise<AdmissionAnswer> => {
  const isi = decodeOrThrow(ImageStreamImport, 'an ImageStreamImport')(object);
  const name = isi.metadata.name;
  const request = readImportRequest(isi);
  if (request.kind === 'invalid') {
    return {
      allowed: false,
      status: {
        code: 422,
        reason: 'Invalid',
        message: `ImageStreamImport.image.openshift.io "${name}" is invalid: ${request.causes
          .map((c) => `${c.field}: ${c.message}`)
          .join(', ')}`,
        details: {
          name,
          group: 'image.openshift.io',
          kind: 'ImageStreamImport',
          causes: request.causes.map((c) => ({
            reason: 'FieldValueInvalid',
            field: c.field,
            message: c.message,
          })),
        },
      },
    };
  }
  const results: ImportResult[] = await Promise.all(
    request.targets.map(async (target) => ({ target, resolution: await env.resolve(target.ref) })),
  );
  const status: Record<string, unknown> = { images: importStatuses(results) };
  if (request.import && !dryRun) {
    const written = await writeImport(env, namespace, name, isi.metadata.resourceVersion, results);
    if (written.kind === 'conflict') return conflict(name);
    status.import = withoutManagedFields(written.stream);
  }
  if (!dryRun) {
    // OpenShift never stores an import, so the same name can be imported again at once; a stored stand-in object
    // of an earlier import would make this create fail with AlreadyExists.
    const gone = await env.http.delete(paths.imageStreamImport(namespace, name));
    if (gone.status !== 404) expectOk(`delete the earlier ImageStreamImport ${namespace}/${name}`, gone);
  }
  return {
    allowed: true,
    patch: [
      // On OpenShift the resourceVersion of an import names the ImageStream's version (checked above); a stored
      // object must not carry one on create.
      ...(isi.metadata.resourceVersion !== undefined
        ? [{ op: 'remove', path: '/metadata/resourceVersion' }]
        : []),
      { op: 'add', path: '/status', value: status },
    ],
  };
};

const readBody = (req: NodeJS.ReadableStream): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      resolve(body);
    });
    req.on('error', reject);
  });

export const webhookPath = '/imagestreamimports';

/** Serves the webhook on 127.0.0.1 (an ephemeral port); resolves once listening. */
export const serveImportWebhook = async (
  tls: WebhookTls,
  decide: (object: unknown, namespace: string, dryRun: boolean) => Promise<AdmissionAnswer>,
  onError: (e: unknown) => void,
): Promise<{ server: Server; url: string }> => {
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const respond = (code: number, body: object): void => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url?.split('?')[0] !== webhookPath) {
      respond(404, { message: 'not found' });
      return;
    }
    void (async () => {
      let uid = '';
      try {
        const review = decodeOrThrow(AdmissionReview, 'an AdmissionReview')(JSON.parse(await readBody(req)));
        uid = review.request.uid;
        const answer = await decide(
          review.request.object,
          review.request.namespace ?? '',
          review.request.dryRun === true,
        );
        respond(200, {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: answer.allowed
            ? {
                uid,
                allowed: true,
                patchType: 'JSONPatch',
                patch: Buffer.from(JSON.stringify(answer.patch)).toString('base64'),
              }
            : { uid, allowed: false, status: answer.status },
        });
      } catch (e) {
        onError(e);
        respond(200, {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: {
            uid,
            allowed: false,
            status: {
              code: 500,
              reason: 'InternalError',
              message: `the OpenShift stand-in failed: ${String(e)}`,
            },
          },
        });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `https://127.0.0.1:${port}${webhookPath}` };
};

export const webhookConfigurationName = 'openshift-standin.quay-bridge.test';

export const webhookConfiguration = (url: string, caBundle: string): object => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  metadata: { name: webhookConfigurationName },
  webhooks: [
    {
      name: `imagestreamimports.${webhookConfigurationName}`,
      clientConfig: { url, caBundle: Buffer.from(caBundle).toString('base64') },
      rules: [
        {
          operations: ['CREATE'],
          apiGroups: ['image.openshift.io'],
          apiVersions: ['v1'],
          resources: ['imagestreamimports'],
          scope: 'Namespaced',
        },
      ],
      failurePolicy: 'Fail',
      // The import writes ImageStreams, but never on a dry run.
      sideEffects: 'NoneOnDryRun',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 10,
    },
  ],
});

/**
 * Registers the webhook, failing if another stand-in already did (one stand-in per cluster), and waits until the
 * API server calls it: a dry-run import comes back with a status only once the webhook is in the loop.
 */
export const registerImportWebhook = async (
  http: KubeHttp,
  url: string,
  caBundle: string,
  timeoutMs = 20_000,
): Promise<void> => {
  const created = await http.create(
    paths.mutatingWebhookConfiguration(),
    webhookConfiguration(url, caBundle),
  );
  if (created.status === 409) {
    throw new Error(
      `MutatingWebhookConfiguration ${webhookConfigurationName} exists: another OpenShiftStandIn runs against this cluster (stop it first)`,
    );
  }
  expectOk(`register MutatingWebhookConfiguration ${webhookConfigurationName}`, created);
  const probe = {
    apiVersion: 'image.openshift.io/v1',
    kind: 'ImageStreamImport',
    metadata: { name: 'openshift-standin-probe' },
    spec: { import: false, images: [{ from: { kind: 'DockerImage', name: 'probe.invalid/probe:latest' } }] },
  };
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const answer = await http.create(paths.imageStreamImports('default'), probe, 'dryRun=All');
    if (
      answer.status === 201 &&
      typeof answer.body === 'object' &&
      answer.body !== null &&
      'status' in answer.body
    )
      return;
    last = describeAnswer(answer);
    if (Date.now() > deadline)
      throw new Error(`the ImageStreamImport webhook never took effect (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

export const unregisterImportWebhook = async (http: KubeHttp): Promise<void> => {
  const gone = await http.delete(paths.mutatingWebhookConfiguration(webhookConfigurationName));
  if (gone.status !== 404) expectOk(`delete MutatingWebhookConfiguration ${webhookConfigurationName}`, gone);
};
