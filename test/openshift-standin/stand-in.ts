// OpenShiftStandIn: what OpenShift's controllers do that quay-bridge relies on, for a plain kube-apiserver with the
// OpenShift CRDs of test/crds installed. Level-triggered: watches only say which object to look at again.
import type { Server } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { reconcileBuild } from './builds.js';
import type { Resolution } from './image-import.js';
import { parseImageRef, taggedName, type ImageRef } from './image-ref.js';
import type { Build } from './objects.js';
import { buildImage, credentialsFor, pushImage } from './registry-push.js';
import {
  carryOutImport,
  registerImportWebhook,
  serveImportWebhook,
  unregisterImportWebhook,
  type WebhookTls,
} from './import-webhook.js';
import { kubeHttp, paths, type KubeHttp } from './kube-http.js';
import { projectServiceAccounts, reconcileNamespace } from './service-accounts.js';
import { WatchLoop, type WatchEventType } from './watch-loop.js';
import { WorkQueue } from './work-queue.js';

export interface OpenShiftStandInOptions {
  /** Serving certificate for the ImageStreamImport webhook; see `webhookTlsFor`. */
  readonly webhookTls: WebhookTls;
  /** Pause before each Build phase change. Default 20 ms. */
  readonly stepDelayMs?: number;
  /** Called when a Build "pushes" its image, before it turns Complete; a rejection fails the Build. */
  readonly onPush?: (ref: string, digest: string) => Promise<void> | void;
  /**
   * Push for real: each completing Build pushes a small image of its own to the registry its output names, through
   * the v2 API with its push secret (spec.output.pushSecret), and reports the digest the registry answered.
   * `scheme` says whether a registry host speaks http or https. Without it, a Build "pushes" a made-up digest.
   */
  readonly registry?: { readonly scheme: (host: string) => 'http' | 'https' };
  /**
   * Finds the digest an import of `ref` (a tag reference) gets; undefined means not found. Default: the images
   * Builds pushed through this stand-in. Pass a lookup into the Quay emulator to make Quay the authority.
   */
  readonly resolveImage?: (ref: string) => Promise<string | undefined>;
  /** Link a `<sa>-dockercfg-*` Secret to each project ServiceAccount, as OpenShift's registry does. Default true. */
  readonly linkRegistryPullSecrets?: boolean;
  /** How long a stored ImageStreamImport is kept before the stand-in deletes it. Default 0. */
  readonly importRetentionMs?: number;
  /** Told about every failure the stand-in retries or answers with; default: one JSON line on stderr. */
  readonly onError?: (where: string, error: unknown) => void;
}

interface Running {
  readonly http: KubeHttp;
  readonly server: Server;
  readonly loops: readonly WatchLoop[];
  readonly queues: readonly WorkQueue[];
}

const keyOf = (o: unknown): { namespace: string; name: string } | undefined => {
  const m = (o as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
  return typeof m?.name === 'string'
    ? { namespace: typeof m.namespace === 'string' ? m.namespace : '', name: m.name }
    : undefined;
};

const splitKey = (key: string): [string, string] => {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
};

const defaultOnError = (where: string, error: unknown): void => {
  process.stderr.write(
    `${JSON.stringify({ component: 'openshift-standin', where, error: error instanceof Error ? error.message : String(error) })}\n`,
  );
};

export class OpenShiftStandIn {
  private running: Running | undefined;
  private readonly abort = new AbortController();
  private readonly pushes = new Map<string, string>();

  constructor(private readonly opts: OpenShiftStandInOptions) {}

  /** The digest a Build of this stand-in pushed as `ref` (tag `latest` if none), if any. */
  pushedDigest(ref: string): string | undefined {
    const parsed = parseImageRef(ref);
    return parsed === undefined ? undefined : this.pushes.get(taggedName(parsed));
  }

  async start(kubeConfig: KubeConfig): Promise<void> {
    if (this.running !== undefined || this.abort.signal.aborted)
      throw new Error('an OpenShiftStandIn starts once');
    const http = kubeHttp(kubeConfig);
    const onError = this.opts.onError ?? defaultOnError;
    const { server, url } = await serveImportWebhook(
      this.opts.webhookTls,
      (object, namespace, dryRun) =>
        carryOutImport(
          { http, resolve: (ref) => this.resolve(ref), now: () => new Date() },
          object,
          namespace,
          dryRun,
        ),
      (e) => {
        onError('imagestreamimport webhook', e);
      },
    );
    const queues: WorkQueue[] = [];
    const loops: WatchLoop[] = [];
    this.running = { http, server, loops, queues };
    const queue = (where: string, reconcile: (key: string) => Promise<void>): WorkQueue => {
      const q = new WorkQueue(reconcile, {
        onError: (key, e) => {
          // Stopping aborts the step delays; that is not a failure worth telling.
          if (!this.abort.signal.aborted) onError(`${where} ${key}`, e);
        },
      });
      queues.push(q);
      return q;
    };
    const watch = (path: string, onObject: (type: WatchEventType, o: unknown) => void): void => {
      loops.push(
        new WatchLoop({
          kubeConfig,
          http,
          path,
          onObject,
          onError: (e) => {
            onError(`watch ${path}`, e);
          },
        }),
      );
    };

    const linkPullSecrets = this.opts.linkRegistryPullSecrets ?? true;
    const namespaces = queue('namespace', (ns) => reconcileNamespace(http, ns, linkPullSecrets));
    watch(paths.namespaces, (type, o) => {
      const k = keyOf(o);
      if (k !== undefined && type !== 'DELETED') namespaces.add(k.name);
    });
    watch(paths.serviceAccounts(), (_type, o) => {
      const k = keyOf(o);
      if (k !== undefined && (projectServiceAccounts as readonly string[]).includes(k.name))
        namespaces.add(k.namespace);
    });

    const builds = queue('build', (key) => {
      const [namespace, name] = splitKey(key);
      return reconcileBuild(
        {
          http,
          stepDelayMs: this.opts.stepDelayMs ?? 20,
          signal: this.abort.signal,
          now: () => new Date(),
          push: async (ref, madeUp, build) => {
            const digest =
              this.opts.registry === undefined ? madeUp : await this.pushToRegistry(http, ref, build);
            await this.opts.onPush?.(ref, digest);
            const parsed = parseImageRef(ref);
            if (parsed !== undefined) this.pushes.set(taggedName(parsed), digest);
            return digest;
          },
          onPushError: (ref, e) => {
            onError(`push ${ref}`, e);
          },
        },
        namespace,
        name,
      );
    });
    watch(paths.builds(), (type, o) => {
      const k = keyOf(o);
      if (k !== undefined && type !== 'DELETED') builds.add(`${k.namespace}/${k.name}`);
    });

    const imports = queue('imagestreamimport', async (key) => {
      const [namespace, name] = splitKey(key);
      const retention = this.opts.importRetentionMs ?? 0;
      if (retention > 0) await sleep(retention, undefined, { signal: this.abort.signal });
      const gone = await http.delete(paths.imageStreamImport(namespace, name));
      if (gone.status >= 300 && gone.status !== 404)
        throw new Error(`delete ImageStreamImport ${key}: HTTP ${gone.status}`);
    });
    watch(paths.imageStreamImports(), (type, o) => {
      const k = keyOf(o);
      if (k !== undefined && type !== 'DELETED') imports.add(`${k.namespace}/${k.name}`);
    });

    try {
      await Promise.all(loops.map((l) => l.start()));
      await registerImportWebhook(http, url, this.opts.webhookTls.caBundle);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Unregisters the webhook, stops watching and waits for work in progress; idempotent. */
  async stop(): Promise<void> {
    const running = this.running;
    this.abort.abort();
    if (running === undefined) return;
    this.running = undefined;
    const errors: unknown[] = [];
    await unregisterImportWebhook(running.http).catch((e: unknown) => errors.push(e));
    await Promise.all(running.loops.map((l) => l.stop()));
    await Promise.all(running.queues.map((q) => q.stop()));
    await new Promise<void>((resolve) => {
      running.server.close(() => {
        resolve();
      });
      running.server.closeAllConnections();
    });
    running.http.close();
    if (errors.length > 0) throw errors[0];
  }

  /** A real push of the Build's image, with its push secret's credentials for the registry host. */
  private async pushToRegistry(http: KubeHttp, ref: string, build: Build): Promise<string> {
    const namespace = build.metadata.namespace ?? '';
    const secretName = build.spec?.output?.pushSecret?.name;
    const host = parseImageRef(ref)?.repository.split('/')[0] ?? '';
    let credentials;
    if (secretName !== undefined) {
      const got = await http.get(`${paths.secrets(namespace)}/${secretName}`);
      const data = (got.body as { data?: Record<string, string> } | undefined)?.data?.['.dockerconfigjson'];
      if (got.status !== 200 || data === undefined)
        throw new Error(`push secret ${namespace}/${secretName}: ${String(got.status)}`);
      credentials = credentialsFor(Buffer.from(data, 'base64').toString('utf8'), host);
    }
    return pushImage(ref, buildImage({ namespace, name: build.metadata.name }, new Date()), {
      scheme: this.opts.registry?.scheme ?? (() => 'https'),
      credentials,
    });
  }

  private async resolve(ref: ImageRef): Promise<Resolution> {
    if (ref.digest !== undefined) return { kind: 'resolved', digest: ref.digest };
    const name = taggedName(ref);
    const digest =
      this.opts.resolveImage !== undefined ? await this.opts.resolveImage(name) : this.pushes.get(name);
    return digest === undefined
      ? {
          kind: 'failed',
          failure: {
            reason: 'NotFound',
            code: 404,
            message: `the OpenShift stand-in found no image ${name} (nothing was pushed there)`,
          },
        }
      : { kind: 'resolved', digest };
  }
}
