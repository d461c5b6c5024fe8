// What the webhook knows of the cluster, kept in memory so that an admission never waits on anything but, rarely, one
// GET from the API server (and never on Quay):
// - the QuayIntegration, through an informer (its credentials Secret is not needed: the webhook never calls Quay);
// - which namespaces hold the builder robot's Secret, through an informer on Secrets selected by name
//   (`metadata.name=builder-quay-<clusterID>`). A name selector, not the managed-by label: QBO's Secrets carry no
//   label and must count on a cluster switching from QBO, and RBAC can narrow list/watch to that one resourceName,
//   which no label selector allows. Only the metadata of those Secrets is kept.
// A Secret the informer has not seen (not listed yet, or created a moment ago) is looked up once with a short
// timeout; if that fails too the admission redirects anyway (see plan.ts `decide`).
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { KubeClient } from '../../shared/kube/client.js';
import { describeError } from '../../shared/errors.js';
import { Resources } from '../../shared/kube/resources.js';
import type { Logger } from '../../shared/log.js';
import { robotSecretName } from '../../shared/names.js';
import { decodeQuayIntegration, resolveSettings } from '../../shared/settings/quay-integration.js';
import { startInformer, type Informer, type KubeObjectLike } from './list-watch.js';
import type { SecretPresence, SettingsView } from './plan.js';

/** The view of whatever QuayIntegrations exist (QBO: exactly one, or the webhook lets everything through). */
export const viewOf = (integrations: readonly unknown[]): SettingsView => {
  const [only] = integrations;
  if (only === undefined) return { _tag: 'Unconfigured', reason: 'no QuayIntegration exists' };
  if (integrations.length > 1)
    return {
      _tag: 'Unconfigured',
      reason: `${integrations.length} QuayIntegrations exist; exactly one is supported`,
    };
  const decoded = decodeQuayIntegration(only);
  if (E.isLeft(decoded)) return { _tag: 'Invalid', message: decoded.left.message, lists: undefined };
  return pipe(
    resolveSettings(decoded.right),
    E.match(
      (invalid): SettingsView => ({
        _tag: 'Invalid',
        message: `QuayIntegration ${decoded.right.metadata.name}: ${invalid.message}`,
        lists: {
          allowlistNamespaces: decoded.right.spec.allowlistNamespaces ?? [],
          denylistNamespaces: decoded.right.spec.denylistNamespaces ?? [],
        },
      }),
      (settings): SettingsView => ({ _tag: 'Ready', settings }),
    ),
  );
};

export interface SettingsCacheOptions {
  readonly kubeConfig: KubeConfig;
  /** For the one-off Secret lookups: give it a short timeout (2 s): the API server allows the webhook 5 s. */
  readonly kube: KubeClient;
  readonly log: Logger;
}

export interface SettingsCache {
  readonly view: () => SettingsView;
  readonly builderSecret: (namespace: string, name: string) => Promise<SecretPresence>;
  /** Ready to answer: the QuayIntegrations have been listed once. */
  readonly ready: () => boolean;
  readonly firstSync: Promise<void>;
  readonly stop: () => void;
}

const metadataOnly = (raw: unknown): KubeObjectLike => {
  const m = (raw as { metadata?: { name?: unknown; namespace?: unknown; resourceVersion?: unknown } } | null)
    ?.metadata;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    metadata: {
      ...(str(m?.name) === undefined ? {} : { name: str(m?.name) }),
      ...(str(m?.namespace) === undefined ? {} : { namespace: str(m?.namespace) }),
      ...(str(m?.resourceVersion) === undefined ? {} : { resourceVersion: str(m?.resourceVersion) }),
    },
  } as KubeObjectLike;
};

export const startSettingsCache = (o: SettingsCacheOptions): SettingsCache => {
  const custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  let view: SettingsView = { _tag: 'Loading' };
  let secrets: { readonly name: string; readonly informer: Informer<KubeObjectLike> } | undefined;

  const watchSecrets = (name: string | undefined): void => {
    if (secrets?.name === name) return;
    secrets?.informer.stop();
    secrets = undefined;
    if (name === undefined) return;
    const fieldSelector = `metadata.name=${name}`;
    secrets = {
      name,
      informer: startInformer({
        kubeConfig: o.kubeConfig,
        path: '/api/v1/secrets',
        query: { fieldSelector },
        list: async () => {
          const l = await core.listSecretForAllNamespaces({ fieldSelector });
          return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
        },
        keep: metadataOnly,
        onChange: () => undefined,
        log: o.log,
        what: `Secrets ${name}`,
      }),
    };
  };

  const integrations: Informer<KubeObjectLike> = startInformer({
    kubeConfig: o.kubeConfig,
    path: '/apis/quay.redhat.com/v1/quayintegrations',
    query: {},
    list: async () => {
      const l = (await custom.listClusterCustomObject({
        group: 'quay.redhat.com',
        version: 'v1',
        plural: 'quayintegrations',
      })) as { items?: unknown[]; metadata?: { resourceVersion?: string } };
      return { items: l.items ?? [], resourceVersion: l.metadata?.resourceVersion ?? '' };
    },
    keep: (raw) => raw as KubeObjectLike,
    onChange: () => {
      const next = viewOf(integrations.items());
      if (JSON.stringify(describe(next)) !== JSON.stringify(describe(view)))
        o.log.info('settings', { settings: describe(next) });
      view = next;
      watchSecrets(next._tag === 'Ready' ? robotSecretName('builder', next.settings.clusterID) : undefined);
    },
    log: o.log,
    what: 'QuayIntegrations',
  });

  const builderSecret = async (namespace: string, name: string): Promise<SecretPresence> => {
    const informer = secrets?.name === name ? secrets.informer : undefined;
    if (informer?.get(namespace, name) !== undefined) return { _tag: 'Present' };
    const found = await o.kube.get({ type: Resources.Secret, namespace, name })();
    if (E.isRight(found)) return { _tag: 'Present' };
    if (found.left._tag === 'KubeNotFound') return { _tag: 'Absent' };
    o.log.warn('builder Secret check failed', { namespace, name, error: describeError(found.left) });
    return { _tag: 'Unknown', message: describeError(found.left) };
  };

  return {
    view: () => view,
    builderSecret,
    ready: integrations.synced,
    firstSync: integrations.firstSync,
    stop: () => {
      integrations.stop();
      secrets?.informer.stop();
    },
  };
};

/** The view for logs: what the webhook acts on, no more. */
const describe = (v: SettingsView): Record<string, unknown> => {
  switch (v._tag) {
    case 'Loading':
      return { state: 'Loading' };
    case 'Unconfigured':
      return { state: 'Unconfigured', reason: v.reason };
    case 'Invalid':
      return { state: 'Invalid', message: v.message };
    case 'Ready':
      return {
        state: 'Ready',
        quayIntegration: v.settings.name,
        generation: v.settings.generation,
        registryHost: v.settings.quay.registryHost,
        organizationPrefix: v.settings.organizationPrefix,
        builderSecret: robotSecretName('builder', v.settings.clusterID),
      };
  }
};
