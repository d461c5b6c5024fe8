// A StepEnv of plain objects: the fake API server holding a QuayIntegration and its token Secret, the fake Quay.
import { memoryLogger } from '../../../../shared/log.js';
import { memoryEvents } from '../../../../shared/kube/events.js';
import { Resources } from '../../../../shared/kube/resources.js';
import type { StepEnv } from '../../../../shared/runtime/env.js';
import { createSettingsSource, type QuayClientParams } from '../../../../shared/settings/load.js';
import { fakeKube, type FakeKube } from './kube.js';
import { fakeQuay, type FakeQuay } from './quay.js';
import { organizationEmail, type ClusterIdentity } from '../../../../shared/ownership.js';

export const TOKEN = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCD';

/** The fake cluster's identity: kube-system's UID, and the clusterID of quayIntegration() below. */
export const KUBE_SYSTEM_UID = 'uid-kube-system';
export const IDENTITY: ClusterIdentity = { uid: KUBE_SYSTEM_UID, clusterID: 'openshift' };
/** The e-mail that marks an organization as the fake cluster's. */
export const ourEmail = (org: string): string => organizationEmail(IDENTITY, org);

export const quayIntegration = (
  spec: Record<string, unknown> = {},
  name = 'quay',
  annotations?: Record<string, string>,
): Record<string, unknown> => ({
  apiVersion: 'quay.redhat.com/v1',
  kind: 'QuayIntegration',
  metadata: { name, generation: 1, ...(annotations === undefined ? {} : { annotations }) },
  spec: {
    clusterID: 'openshift',
    credentialsSecret: { namespace: 'quay-bridge', name: 'quay-token' },
    quayHostname: 'https://quay.example.com',
    ...spec,
  },
});

export const tokenSecret = (
  data: Record<string, string> = { token: TOKEN },
  name = 'quay-token',
): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'quay-bridge' },
  type: 'Opaque',
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

export interface TestWorld {
  readonly kube: FakeKube;
  readonly quay: FakeQuay;
  readonly env: StepEnv;
  readonly log: ReturnType<typeof memoryLogger>;
  readonly events: ReturnType<typeof memoryEvents>;
  /** The parameters of every Quay client the settings built (to check which token was used). */
  readonly clients: QuayClientParams[];
}

/** What delivering `event` cost: its answer's status, the kube and Quay calls it made, and its log line. */
export const costOfDelivery = async (
  w: TestWorld,
  deliver: (w: TestWorld, event: unknown) => Promise<{ readonly statusCode: number }>,
  event: unknown,
) => {
  w.kube.calls.length = 0;
  w.quay.calls.length = 0;
  const answer = await deliver(w, event);
  return {
    status: answer.statusCode,
    calls: [...w.kube.calls, ...w.quay.calls],
    line: w.log.lines[w.log.lines.length - 1],
  };
};

export const world = (
  options: {
    readonly spec?: Record<string, unknown>;
    readonly annotations?: Record<string, string>;
    readonly integration?: boolean;
    readonly secret?: boolean;
  } = {},
): TestWorld => {
  const kube = fakeKube();
  const quay = fakeQuay('bridge', ourEmail);
  kube.put(Resources.Namespace, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'kube-system', uid: KUBE_SYSTEM_UID },
  });
  const log = memoryLogger();
  const events = memoryEvents();
  const clients: QuayClientParams[] = [];
  if (options.integration !== false)
    kube.put(Resources.QuayIntegration, quayIntegration(options.spec, 'quay', options.annotations));
  if (options.secret !== false) kube.put(Resources.Secret, tokenSecret());
  kube.calls.length = 0;
  const settings = createSettingsSource({
    kube,
    ttlMs: 0,
    makeQuay: (p) => {
      clients.push(p);
      return quay;
    },
  });
  return {
    kube,
    quay,
    log,
    events,
    clients,
    env: { kube, settings, log, events, now: () => new Date('2026-11-25T10:00:00Z'), resyncConcurrency: 2 },
  };
};

export const namespace = (
  name: string,
  extra: { finalizers?: string[]; deletionTimestamp?: string } = {},
) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, ...extra },
  spec: { finalizers: ['kubernetes'] },
});

export const serviceAccount = (ns: string, name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace: ns },
  ...extra,
});

export const imageStream = (ns: string, name: string) => ({
  apiVersion: 'image.openshift.io/v1',
  kind: 'ImageStream',
  metadata: { name, namespace: ns },
  spec: {},
});
