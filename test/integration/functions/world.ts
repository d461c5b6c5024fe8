// The world of the sync-step integration tests: the shared control plane (real kube-apiserver and
// kube-controller-manager), the OpenShift stand-in (project ServiceAccounts with their dockercfg Secrets), the Quay
// emulator over real HTTP, one QuayIntegration pointing at it, and the four sync steps each served by
// faas-js-runtime on its own port, with the production wiring (shared/wiring.ts). Events are CloudEvents in the
// ApiServerSource format built from the API server's real objects, POSTed over HTTP in binary or structured mode.
import type { Server } from 'node:http';
import { HTTP, type CloudEvent } from 'cloudevents';
import faas from 'faas-js-runtime';
import * as E from 'fp-ts/lib/Either.js';
import got from 'got';
import { freePort, sharedControlPlane, type ControlPlane } from '../../harness/index.js';
import { OpenShiftStandIn, webhookTlsFor } from '../../openshift-standin/index.js';
import { startQuayEmulator, type QuayEmulator } from '../../quay-emulator/index.js';
import { namespaceStep } from '../../../functions/namespace/handle.js';
import { serviceAccountStep } from '../../../functions/service-account/handle.js';
import { imageStreamStep } from '../../../functions/image-stream/handle.js';
import { resyncStep } from '../../../functions/resync/handle.js';
import type { KubeClient } from '../../../shared/kube/client.js';
import { createKubeClient } from '../../../shared/kube/http.js';
import { Resources, type ObjectRef, type ResourceType } from '../../../shared/kube/resources.js';
import { jsonLogger } from '../../../shared/log.js';
import { makeHandler, type Step } from '../../../shared/runtime/handler.js';
import type { StepEnv } from '../../../shared/runtime/env.js';
import { productionEnv } from '../../../shared/wiring.js';

export const CLUSTER_ID = 'itfn';
export const BRIDGE_NS = 'quay-bridge';
export const QI_NAME = 'quay';

export type StepName = 'namespace' | 'service-account' | 'image-stream' | 'resync';
const STEPS: Record<StepName, Step<StepEnv>> = {
  namespace: namespaceStep,
  'service-account': serviceAccountStep,
  'image-stream': imageStreamStep,
  resync: resyncStep,
};

export interface Delivery {
  readonly status: number;
  readonly body: string;
}

export interface World {
  readonly cp: ControlPlane;
  readonly kube: KubeClient;
  readonly quay: QuayEmulator;
  readonly logs: Record<string, unknown>[];
  /** POSTs the event to the step over HTTP, as the broker does. */
  deliver(step: StepName, event: CloudEvent<unknown>, mode?: 'binary' | 'structured'): Promise<Delivery>;
  /** Delivers again while the answer says "retry" (5xx, 404, 409, 429), as the broker would; at most `tries`. */
  deliverUntilDone(step: StepName, event: CloudEvent<unknown>, tries?: number): Promise<Delivery>;
  get(type: ResourceType, name: string, namespace?: string): Promise<Record<string, unknown> | undefined>;
  mustGet(type: ResourceType, name: string, namespace?: string): Promise<Record<string, unknown>>;
  /** Polls (bounded by count, not by time) until `check` holds. */
  until<A>(what: string, check: () => Promise<A | undefined>): Promise<A>;
  stop(): Promise<void>;
}

const run = async <A>(
  te: () => Promise<E.Either<{ readonly message: string }, A>>,
  what: string,
): Promise<A> => {
  const r = await te();
  if (E.isLeft(r)) throw new Error(`${what}: ${r.left.message}`);
  return r.right;
};

/** faas-js-runtime traps SIGINT/SIGTERM/SIGQUIT and uncaught exceptions to exit(0): not inside a test run. */
export const withoutDeathTraps = async <A>(f: () => Promise<A>): Promise<A> => {
  type Listener = (...args: unknown[]) => void;
  const events: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'uncaughtException'];
  const listeners = (e: string): Listener[] => process.listeners(e as 'SIGINT') as Listener[];
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  const result = await f();
  for (const e of events)
    for (const l of listeners(e)) if (before.get(e)?.has(l) !== true) process.removeListener(e, l);
  return result;
};

export const startWorld = async (spec: Record<string, unknown> = {}): Promise<World> => {
  const cp = await sharedControlPlane();
  const kube = createKubeClient(cp.kubeConfig, { fieldManager: 'functions-tests' });
  const quay = await startQuayEmulator();
  const standIn = new OpenShiftStandIn({ webhookTls: webhookTlsFor(cp.pki) });
  await standIn.start(cp.kubeConfig);
  const servers: Server[] = [];
  const ports = new Map<StepName, number>();
  const logs: Record<string, unknown>[] = [];
  const cleanUp = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await standIn.stop();
    await kube.delete({ type: Resources.QuayIntegration, name: QI_NAME })();
    await quay.close();
  };
  try {
    const leftover = await run(kube.list(Resources.QuayIntegration), 'list QuayIntegrations');
    if (leftover.length > 0)
      throw new Error('a QuayIntegration is left from another test: the steps would refuse to work');
    await run(
      kube.create(Resources.Namespace, undefined, { metadata: { name: BRIDGE_NS } }),
      'create namespace',
    ).catch((e: unknown) => {
      if (!String(e).includes('already exists')) throw e;
    });
    await run(
      kube.patch(
        { type: Resources.Secret, namespace: BRIDGE_NS, name: 'quay-token' },
        {
          type: 'apply',
          force: true,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'quay-token', namespace: BRIDGE_NS },
            stringData: { token: quay.adminToken },
          },
        },
      ),
      'token Secret',
    );
    await run(
      kube.create(Resources.QuayIntegration, undefined, {
        apiVersion: 'quay.redhat.com/v1',
        kind: 'QuayIntegration',
        metadata: { name: QI_NAME },
        spec: {
          clusterID: CLUSTER_ID,
          credentialsSecret: { namespace: BRIDGE_NS, name: 'quay-token' },
          quayHostname: quay.url,
          ...spec,
        },
      }),
      'QuayIntegration',
    );

    const log = jsonLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    for (const [name, step] of Object.entries(STEPS) as [StepName, Step<StepEnv>][]) {
      const env = await productionEnv(
        { QUAY_BRIDGE_SETTINGS_TTL_SECONDS: '0', QUAY_BRIDGE_STEP: name },
        { kubeConfig: cp.kubeConfig, log },
      );
      const port = await freePort();
      servers.push(
        await withoutDeathTraps(() =>
          faas.start(
            makeHandler(step, () => Promise.resolve(env)),
            { port },
          ),
        ),
      );
      ports.set(name, port);
    }
  } catch (e) {
    await cleanUp();
    throw e;
  }

  const deliver: World['deliver'] = async (step, event, mode = 'binary') => {
    const message = mode === 'binary' ? HTTP.binary(event) : HTTP.structured(event);
    const res = await got.post(`http://127.0.0.1:${String(ports.get(step))}/`, {
      headers: message.headers,
      body: typeof message.body === 'string' ? message.body : JSON.stringify(message.body),
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: 60_000 },
    });
    return { status: res.statusCode, body: res.body };
  };
  const retryable = (s: number) => s >= 500 || [404, 408, 409, 429].includes(s);
  const get: World['get'] = async (type, name, namespace) => {
    const ref: ObjectRef = namespace === undefined ? { type, name } : { type, name, namespace };
    const r = await kube.get(ref)();
    if (E.isRight(r)) return r.right as Record<string, unknown>;
    if (r.left._tag === 'KubeNotFound') return undefined;
    throw new Error(r.left.message);
  };
  return {
    cp,
    kube,
    quay,
    logs,
    deliver,
    deliverUntilDone: async (step, event, tries = 20) => {
      let last: Delivery = { status: 0, body: '' };
      for (let i = 0; i < tries; i++) {
        last = await deliver(step, event);
        if (!retryable(last.status)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      return last;
    },
    get,
    mustGet: async (type, name, namespace) => {
      const o = await get(type, name, namespace);
      if (o === undefined) throw new Error(`${type.kind} ${namespace ?? ''}/${name} not found`);
      return o;
    },
    until: async (what, check) => {
      for (let i = 0; i < 600; i++) {
        const v = await check();
        if (v !== undefined) return v;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`gave up waiting for ${what}`);
    },
    stop: cleanUp,
  };
};
