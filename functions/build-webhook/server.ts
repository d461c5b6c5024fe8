// The webhook's two listeners: plain HTTP on the Knative port for health (what the queue-proxy and the kubelet
// probe) and /metrics, and HTTPS on a second port for admissions, reached by the API server through a plain ClusterIP Service
// (a Knative Service's own Service is an ExternalName the API server cannot call: docs/design.md#packaging).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { admissionListener, type AdmissionHttpEnv, type Timing } from './handle.js';
import type { Registry } from 'prom-client';
import { observeAdmission, webhookRegistry } from '../../shared/runtime/metrics.js';
import type { TlsMaterial } from './tls-files.js';

export interface ServersOptions {
  /** Health port (Knative's PORT); 0 picks a free one; undefined: no health server (the function runtime has one). */
  readonly port: number | undefined;
  /** Admission port; 0 picks a free one. */
  readonly tlsPort: number;
  /** Listen address; default all interfaces. */
  readonly host?: string;
  readonly tls: TlsMaterial;
  readonly admission: AdmissionHttpEnv;
  readonly ready: () => boolean;
  readonly onTiming?: (t: Timing) => void;
}

export interface Servers {
  readonly port: number | undefined;
  readonly tlsPort: number;
  /** New serving certificate and key for connections from now on. */
  readonly setTls: (m: TlsMaterial) => void;
  readonly close: () => Promise<void>;
}

/** What the health port answers: /healthz while the process runs, /readyz once the settings have been read. */
export const healthAnswer = (path: string, ready: boolean): { status: number; body: string } => {
  if (path === '/healthz') return { status: 200, body: 'ok\n' };
  if (path === '/readyz')
    return ready
      ? { status: 200, body: 'ok\n' }
      : { status: 503, body: 'the QuayIntegration has not been read yet\n' };
  return { status: 404, body: 'not found\n' };
};

const healthListener =
  (ready: () => boolean, registry: Registry) =>
  (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/metrics') {
      void registry.metrics().then(
        (text) => {
          res.writeHead(200, {
            'content-type': registry.contentType,
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        },
        () => {
          res.writeHead(500).end();
        },
      );
      return;
    }
    const a = healthAnswer(path, ready());
    res.writeHead(a.status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(a.body),
    });
    res.end(a.body);
  };

const listen = (server: http.Server, port: number, host: string | undefined): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

const closeServer = (server: http.Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
    server.closeAllConnections();
  });

export const startServers = async (o: ServersOptions): Promise<Servers> => {
  const health =
    o.port === undefined ? undefined : http.createServer(healthListener(o.ready, webhookRegistry()));
  const admission = https.createServer(
    {
      cert: o.tls.cert,
      key: o.tls.key,
      minVersion: 'TLSv1.2',
      // The API server gives a webhook at most 30 s (5 s as registered): nothing legitimate takes longer.
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      keepAliveTimeout: 60_000,
    },
    admissionListener(o.admission, (t) => {
      observeAdmission(t.outcome, t.ms / 1000);
      o.onTiming?.(t);
    }),
  );
  const port =
    health === undefined || o.port === undefined ? undefined : await listen(health, o.port, o.host);
  let tlsPort: number;
  try {
    tlsPort = await listen(admission, o.tlsPort, o.host);
  } catch (e) {
    if (health !== undefined) await closeServer(health);
    throw e;
  }
  return {
    port,
    tlsPort,
    setTls: (m) => {
      admission.setSecureContext({ cert: m.cert, key: m.key, minVersion: 'TLSv1.2' });
    },
    close: async () => {
      await Promise.all([...(health === undefined ? [] : [closeServer(health)]), closeServer(admission)]);
    },
  };
};
