// The webhook process: production wiring from the environment, and `startWebhook` for tests and the bench. Run it
// alone (`node dist/functions/build-webhook/main.js`), or under the function runtime through runtime.ts.
//   PORT            health port (Knative's), default 8080
//   TLS_PORT        admission port, default 8443
//   TLS_CERT_FILE   default /var/run/secrets/quay-bridge-webhook/tls.crt (OpenShift service CA Secret)
//   TLS_KEY_FILE    default /var/run/secrets/quay-bridge-webhook/tls.key
//   KUBECONFIG      optional; in the cluster the pod's ServiceAccount is used
import { pathToFileURL } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import * as E from 'fp-ts/lib/Either.js';
import { createKubeClient } from '../../shared/kube/http.js';
import { stdoutLogger, type Logger } from '../../shared/log.js';
import { admit, DEFAULT_MAX_BODY_BYTES, type Timing } from './handle.js';
import type { SettingsView } from './plan.js';
import { startServers } from './server.js';
import { startSettingsCache } from './settings-cache.js';
import { watchTls, type TlsFiles } from './tls-files.js';

export interface WebhookOptions {
  readonly kubeConfig: KubeConfig;
  /** Health port; undefined when the function runtime serves health (runtime.ts). */
  readonly port: number | undefined;
  readonly tlsPort: number;
  readonly host?: string;
  readonly tls: TlsFiles;
  readonly log: Logger;
  /** How often the certificate files are re-read besides fs.watch. Default 30 s. */
  readonly tlsPollMs?: number;
  readonly onTiming?: (t: Timing) => void;
}

export interface Webhook {
  readonly port: number | undefined;
  readonly tlsPort: number;
  readonly ready: () => boolean;
  /** The settings admissions are decided with now. */
  readonly view: () => SettingsView;
  /** Resolves once the QuayIntegrations have been listed. */
  readonly firstSync: Promise<void>;
  /** Re-reads the certificate files now (tests; production relies on fs.watch and the poll). */
  readonly checkTls: () => void;
  readonly stop: () => Promise<void>;
}

export const startWebhook = async (o: WebhookOptions): Promise<Webhook> => {
  let setTls: ((m: { cert: string; key: string }) => void) | undefined;
  const tls = watchTls(o.tls, {
    ...(o.tlsPollMs === undefined ? {} : { pollMs: o.tlsPollMs }),
    onChange: (m) => {
      setTls?.(m);
      o.log.info('serving certificate reloaded', { certFile: o.tls.certFile });
    },
    onInvalid: (message) => {
      o.log.warn('serving certificate not reloaded', { message });
    },
  });
  if (E.isLeft(tls)) throw new Error(tls.left);
  const cache = startSettingsCache({
    kubeConfig: o.kubeConfig,
    kube: createKubeClient(o.kubeConfig, { fieldManager: 'quay-bridge-webhook', timeoutMs: 2000 }),
    log: o.log,
  });
  try {
    const servers = await startServers({
      port: o.port,
      tlsPort: o.tlsPort,
      ...(o.host === undefined ? {} : { host: o.host }),
      tls: tls.right.current(),
      admission: { admit: admit(cache), log: o.log, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
      ready: cache.ready,
      ...(o.onTiming === undefined ? {} : { onTiming: o.onTiming }),
    });
    setTls = servers.setTls;
    return {
      port: servers.port,
      tlsPort: servers.tlsPort,
      ready: cache.ready,
      view: cache.view,
      firstSync: cache.firstSync,
      checkTls: () => {
        tls.right.check();
      },
      stop: async () => {
        tls.right.stop();
        cache.stop();
        await servers.close();
      },
    };
  } catch (e) {
    tls.right.stop();
    cache.stop();
    throw e;
  }
};

/** The production options, from the environment; `withHealth` false when the function runtime serves health. */
export const optionsFromEnvironment = (
  env: NodeJS.ProcessEnv,
  withHealth: boolean,
  log: Logger = stdoutLogger(),
): WebhookOptions => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return {
    kubeConfig,
    port: withHealth ? Number(env.PORT ?? '8080') : undefined,
    tlsPort: Number(env.TLS_PORT ?? '8443'),
    tls: {
      certFile: env.TLS_CERT_FILE ?? '/var/run/secrets/quay-bridge-webhook/tls.crt',
      keyFile: env.TLS_KEY_FILE ?? '/var/run/secrets/quay-bridge-webhook/tls.key',
    },
    log,
  };
};

const fromEnvironment = async (): Promise<void> => {
  const log = stdoutLogger();
  const webhook = await startWebhook(optionsFromEnvironment(process.env, true, log));
  log.info('webhook listening', { port: webhook.port, tlsPort: webhook.tlsPort });
  const shutdown = (signal: string): void => {
    log.info('webhook stopping', { signal });
    void webhook.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  fromEnvironment().catch((e: unknown) => {
    process.stderr.write(`quay-bridge webhook: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
