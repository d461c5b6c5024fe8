// Plain REST calls to the API server for the event-path tooling: discovery (kind → resource, as the API server
// itself maps it), server-side apply with strict field validation (what `kubectl apply --server-side` does), and
// the other few calls the stack needs. Answers are returned, never thrown, except for transport failures.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './kustomize.js';

export interface RestAnswer {
  readonly status: number;
  readonly body: string;
  /** The body parsed as JSON, or undefined. */
  readonly json: unknown;
  readonly warnings: readonly string[];
}

export interface KubeRest {
  readonly request: (
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ) => Promise<RestAnswer>;
  /** The REST collection path of a kind (namespaced kinds in `namespace`), from discovery. */
  readonly collectionPath: (apiVersion: string, kind: string, namespace?: string) => Promise<string>;
  /** The REST path of an object. */
  readonly objectPath: (o: KubeObject) => Promise<string>;
  /**
   * `kubectl create`, or `kubectl replace` if the object exists (then with its current resourceVersion), with strict
   * field validation: an unknown or duplicate field is an error. `dryRun` validates and admits without persisting.
   */
  readonly createOrReplace: (
    o: KubeObject,
    options?: { readonly fieldManager?: string; readonly dryRun?: boolean },
  ) => Promise<RestAnswer>;
  /** Server-side apply of one object; `dryRun` validates and admits without persisting. */
  readonly apply: (
    o: KubeObject,
    options?: { readonly fieldManager?: string; readonly dryRun?: boolean; readonly strict?: boolean },
  ) => Promise<RestAnswer>;
}

interface ApiResource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

const parse = (body: string): unknown => {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
};

export const kubeRest = async (kc: KubeConfig): Promise<KubeRest> => {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const server = cluster.server;
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const agent = new https.Agent({
    keepAlive: false,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
    // the kubeconfig's insecure-skip-tls-verify
    ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  });
  const baseHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) if (typeof v === 'string') baseHeaders[k] = v;

  const request = (method: string, path: string, body?: unknown, contentType = 'application/json') =>
    new Promise<RestAnswer>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        new URL(path, server),
        {
          method,
          agent,
          headers: {
            ...baseHeaders,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': contentType }),
          },
          timeout: 30_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            const warning = res.headers.warning;
            resolve({
              status: res.statusCode ?? 0,
              body: text,
              json: parse(text),
              warnings: warning === undefined ? [] : Array.isArray(warning) ? warning : [warning],
            });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });

  const discovered = new Map<string, Promise<readonly ApiResource[]>>();
  const resourcesOf = (apiVersion: string): Promise<readonly ApiResource[]> => {
    let found = discovered.get(apiVersion);
    if (found === undefined) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      found = request('GET', path).then((a) => {
        if (a.status !== 200)
          throw new Error(`discovery of ${apiVersion}: HTTP ${a.status} ${a.body.slice(0, 200)}`);
        return (a.json as { resources: ApiResource[] }).resources.filter((r) => !r.name.includes('/'));
      });
      discovered.set(apiVersion, found);
    }
    return found;
  };

  const collectionPath = async (apiVersion: string, kind: string, namespace?: string): Promise<string> => {
    const resource = (await resourcesOf(apiVersion)).find((r) => r.kind === kind);
    if (resource === undefined) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    if (!resource.namespaced) return `${base}/${resource.name}`;
    if (namespace === undefined) throw new Error(`${kind} is namespaced: a namespace is needed`);
    return `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.name}`;
  };

  const objectPath = async (o: KubeObject): Promise<string> =>
    `${await collectionPath(o.apiVersion, o.kind, o.metadata.namespace)}/${encodeURIComponent(o.metadata.name)}`;

  const createOrReplace: KubeRest['createOrReplace'] = async (o, opts = {}) => {
    const query = new URLSearchParams({
      fieldManager: opts.fieldManager ?? 'quay-bridge-tests',
      fieldValidation: 'Strict',
    });
    if (opts.dryRun === true) query.set('dryRun', 'All');
    const created = await request(
      'POST',
      `${await collectionPath(o.apiVersion, o.kind, o.metadata.namespace)}?${query.toString()}`,
      o,
    );
    if (created.status !== 409) return created;
    const path = await objectPath(o);
    const current = await request('GET', path);
    const resourceVersion = (current.json as { metadata?: { resourceVersion?: string } } | undefined)
      ?.metadata?.resourceVersion;
    if (current.status !== 200 || resourceVersion === undefined) return current;
    return request('PUT', `${path}?${query.toString()}`, {
      ...o,
      metadata: { ...o.metadata, resourceVersion },
    });
  };

  return {
    request,
    collectionPath,
    objectPath,
    createOrReplace,
    apply: async (o, opts = {}) => {
      const query = new URLSearchParams({
        fieldManager: opts.fieldManager ?? 'quay-bridge-tests',
        force: 'true',
        fieldValidation: opts.strict === false ? 'Warn' : 'Strict',
      });
      if (opts.dryRun === true) query.set('dryRun', 'All');
      return request(
        'PATCH',
        `${await objectPath(o)}?${query.toString()}`,
        o,
        'application/apply-patch+yaml',
      );
    },
  };
};

/** The object, in the order kubectl would apply it: namespaces and CRDs, then identities and RBAC, then the rest. */
export const applyOrder = (objects: readonly KubeObject[]): KubeObject[] => {
  const rank = (o: KubeObject): number =>
    [
      'Namespace',
      'CustomResourceDefinition',
      'ServiceAccount',
      'ClusterRole',
      'Role',
      'ClusterRoleBinding',
      'RoleBinding',
    ].indexOf(o.kind);
  const ranked = objects.map((o, i) => ({ o, i, r: rank(o) < 0 ? 100 : rank(o) }));
  return ranked.sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.o);
};
