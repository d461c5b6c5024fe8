// The stand-in's own small JSON client for the API server. It is deliberately independent of the bridge's
// Kubernetes client (shared/kube), so that the stand-in stays an outside referee of what the bridge does. Every
// answer comes back as a status and a parsed body; only a failure to talk at all (connection refused, reset,
// timeout) rejects.
import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export type PatchType = 'merge' | 'json' | 'strategic';

const contentTypeOf: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface KubeAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface KubeHttp {
  readonly get: (path: string) => Promise<KubeAnswer>;
  readonly create: (path: string, body: object, query?: string) => Promise<KubeAnswer>;
  readonly patch: (path: string, type: PatchType, body: unknown) => Promise<KubeAnswer>;
  readonly delete: (path: string, body?: object) => Promise<KubeAnswer>;
  /** Closes idle keep-alive connections. */
  readonly close: () => void;
}

/** The `message` of a Kubernetes Status body, or the status code. */
export const describeAnswer = (a: KubeAnswer): string => {
  const b = a.body;
  if (typeof b === 'object' && b !== null && 'message' in b && typeof b.message === 'string')
    return `${a.status} ${b.message}`;
  return `HTTP ${a.status}`;
};

export class KubeRequestFailed extends Error {
  constructor(
    readonly what: string,
    readonly answer: KubeAnswer,
  ) {
    super(`${what}: ${describeAnswer(answer)}`);
    this.name = 'KubeRequestFailed';
  }
}

/** For answers the caller has no branch for: anything but 2xx becomes a KubeRequestFailed. */
export const expectOk = (what: string, a: KubeAnswer): unknown => {
  if (a.status >= 200 && a.status < 300) return a.body;
  throw new KubeRequestFailed(what, a);
};

const requestTimeoutMs = 30_000;

export const kubeHttp = (kc: KubeConfig): KubeHttp => {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new Error('the kubeconfig has no current cluster');
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  const send = async (
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<KubeAnswer> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const opts: RequestOptions = { method, headers };
    await kc.applyToHTTPSOptions(opts);
    opts.agent = agent;
    return new Promise<KubeAnswer>((resolve, reject) => {
      const req = request(new URL(path, server), opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            // not JSON (e.g. a proxy's error page): keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.setTimeout(requestTimeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  };

  return {
    get: (path) => send('GET', path),
    create: (path, body, query) => send('POST', query === undefined ? path : `${path}?${query}`, body),
    patch: (path, type, body) => send('PATCH', path, body, contentTypeOf[type]),
    delete: (path, body) => send('DELETE', path, body),
    close: () => {
      agent.destroy();
    },
  };
};

/** Paths of the resources the stand-in touches. */
export const paths = {
  namespaces: '/api/v1/namespaces',
  namespace: (ns: string) => `/api/v1/namespaces/${ns}`,
  serviceAccounts: (ns?: string) =>
    ns === undefined ? '/api/v1/serviceaccounts' : `/api/v1/namespaces/${ns}/serviceaccounts`,
  serviceAccount: (ns: string, name: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${name}`,
  secrets: (ns: string) => `/api/v1/namespaces/${ns}/secrets`,
  builds: (ns?: string) =>
    ns === undefined
      ? '/apis/build.openshift.io/v1/builds'
      : `/apis/build.openshift.io/v1/namespaces/${ns}/builds`,
  build: (ns: string, name: string) => `/apis/build.openshift.io/v1/namespaces/${ns}/builds/${name}`,
  imageStreams: (ns: string) => `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreams`,
  imageStream: (ns: string, name: string) =>
    `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreams/${name}`,
  imageStreamImports: (ns?: string) =>
    ns === undefined
      ? '/apis/image.openshift.io/v1/imagestreamimports'
      : `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreamimports`,
  imageStreamImport: (ns: string, name: string) =>
    `/apis/image.openshift.io/v1/namespaces/${ns}/imagestreamimports/${name}`,
  mutatingWebhookConfiguration: (name?: string) =>
    name === undefined
      ? '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations'
      : `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${name}`,
} as const;
