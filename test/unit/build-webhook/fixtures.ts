// AdmissionReview fixtures and a way to run one through the webhook's HTTP answer without a socket.
import { Readable } from 'node:stream';
import * as E from 'fp-ts/lib/Either.js';
import { memoryLogger } from '../../../shared/log.js';
import { resolveSettings, type Settings } from '../../../shared/settings/quay-integration.js';
import {
  admit,
  answerAdmission,
  DEFAULT_MAX_BODY_BYTES,
  type HttpAnswer,
} from '../../../functions/build-webhook/handle.js';
import type { SecretPresence, SettingsView } from '../../../functions/build-webhook/plan.js';

export const settingsOf = (spec: Record<string, unknown> = {}): Settings => {
  const r = resolveSettings({
    apiVersion: 'quay.redhat.com/v1',
    kind: 'QuayIntegration',
    metadata: { name: 'quay' },
    spec: {
      clusterID: 'openshift',
      quayHostname: 'https://quay.example.com:8443',
      credentialsSecret: { namespace: 'quay-bridge', name: 'quay-token' },
      ...spec,
    },
  });
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

export const ready = (spec: Record<string, unknown> = {}): SettingsView => ({
  _tag: 'Ready',
  settings: settingsOf(spec),
});

export interface BuildFixture {
  readonly to?: Record<string, unknown> | null;
  readonly annotations?: Record<string, string> | null;
  readonly strategy?: Record<string, unknown>;
  readonly pushSecret?: { name: string };
}

export const build = (f: BuildFixture = {}): Record<string, unknown> => ({
  apiVersion: 'build.openshift.io/v1',
  kind: 'Build',
  metadata: {
    name: 'app-1',
    namespace: 'team-a',
    ...(f.annotations === undefined ? {} : { annotations: f.annotations }),
  },
  spec: {
    serviceAccount: 'builder',
    source: { type: 'Git', git: { uri: 'https://example.com/app.git' } },
    strategy: f.strategy ?? { type: 'Docker', dockerStrategy: {} },
    output: {
      ...(f.to === undefined
        ? { to: { kind: 'ImageStreamTag', name: 'app:v1' } }
        : f.to === null
          ? {}
          : { to: f.to }),
      ...(f.pushSecret === undefined ? {} : { pushSecret: f.pushSecret }),
    },
  },
  status: { phase: 'New' },
});

export const review = (
  object: unknown,
  o: { operation?: string; namespace?: string; uid?: string; kind?: Record<string, string> } = {},
): Record<string, unknown> => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: o.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
    kind: o.kind ?? { group: 'build.openshift.io', version: 'v1', kind: 'Build' },
    resource: { group: 'build.openshift.io', version: 'v1', resource: 'builds' },
    requestKind: { group: 'build.openshift.io', version: 'v1', kind: 'Build' },
    name: 'app-1',
    namespace: o.namespace ?? 'team-a',
    operation: o.operation ?? 'CREATE',
    userInfo: { username: 'alice' },
    object,
    oldObject: null,
    dryRun: false,
    options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
  },
});

export const present: SecretPresence = { _tag: 'Present' };
export const absent: SecretPresence = { _tag: 'Absent' };

export interface Answered extends HttpAnswer {
  /** The JSON patch, decoded from base64, when the answer carries one. */
  readonly patch: unknown;
  readonly response: Record<string, unknown> | undefined;
  readonly secretChecks: readonly string[];
  readonly log: ReturnType<typeof memoryLogger>;
}

export const send = async (
  body: string | Buffer,
  o: {
    view?: SettingsView;
    secret?: SecretPresence;
    method?: string;
    url?: string;
    declaredLength?: number;
    maxBodyBytes?: number;
  } = {},
): Promise<Answered> => {
  const log = memoryLogger();
  const secretChecks: string[] = [];
  const env = {
    admit: admit({
      view: () => o.view ?? ready(),
      builderSecret: (namespace: string, name: string) => {
        secretChecks.push(`${namespace}/${name}`);
        return Promise.resolve(o.secret ?? present);
      },
    }),
    log,
    maxBodyBytes: o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  };
  const a = await answerAdmission(
    env,
    o.method ?? 'POST',
    o.url ?? '/admissionwebhook',
    Readable.from([body]),
    o.declaredLength,
  );
  const response = (a.body as { response?: Record<string, unknown> }).response;
  const patch =
    typeof response?.patch === 'string'
      ? (JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as unknown)
      : undefined;
  return { ...a, patch, response, secretChecks, log };
};

export const sendReview = (r: unknown, o: Parameters<typeof send>[1] = {}): Promise<Answered> =>
  send(JSON.stringify(r), o);
