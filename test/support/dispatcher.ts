// A stand-in for ApiServerSource → Broker → Trigger, enough for fault-injection tests: list+watch the kinds the
// source watches, turn each change into the CloudEvent the adapter would emit (the step engineer's fixture), route
// it by kind to its step if the project's Trigger for that step lets it through (eventing/), and deliver it with the
// broker's retry semantics. Every event is recorded (the scenario's event log, for replays) with what became of its
// delivery.
import { join } from 'node:path';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { CloudEvent } from 'cloudevents';
import type { StepName } from '../../functions/index.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../shared/names.js';
import { lookupIn } from '../event-path/broker.js';
import { compileTriggerFilter } from '../event-path/filters.js';
import { kustomize } from '../event-path/kustomize.js';
import { readTrigger } from '../event-path/manifests.js';
import { repoRoot } from '../harness/control-plane.js';
import { apiServerEvent, type Action } from '../unit/shared/fakes/events.js';
import {
  deliver,
  TEST_DELIVERY,
  type DeliveryPolicy,
  type DeliveryResult,
  type Transport,
} from './delivery.js';

export interface Routed {
  readonly step: StepName;
  readonly event: CloudEvent<unknown>;
}

interface Source {
  readonly path: string;
  readonly labelSelector?: string;
  readonly step: StepName;
  readonly mode: 'resource' | 'ref';
}

const SOURCES: readonly Source[] = [
  { path: '/api/v1/namespaces', step: 'namespace', mode: 'resource' },
  { path: '/api/v1/serviceaccounts', step: 'service-account', mode: 'resource' },
  { path: '/apis/image.openshift.io/v1/imagestreams', step: 'image-stream', mode: 'resource' },
  // Robot Secrets, by a Reference-mode source selecting our label (no Secret data in events).
  {
    path: '/api/v1/secrets',
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
    step: 'service-account',
    mode: 'ref',
  },
];

const actions: Record<string, Action | undefined> = { ADDED: 'add', MODIFIED: 'update', DELETED: 'delete' };

/** Whether the Triggers of the install and of the robot-Secret overlay let an event through to a step's Service. */
const triggersOf = (): ((step: StepName, event: CloudEvent<unknown>) => boolean) => {
  const triggers = [join(repoRoot, 'eventing'), join(repoRoot, 'eventing', 'robot-secrets')]
    .flatMap((dir) => kustomize(dir))
    .filter((o) => o.kind === 'Trigger')
    .map(readTrigger)
    .map((t) => ({
      service: 'ref' in t.subscriber ? t.subscriber.ref.name : undefined,
      filter: compileTriggerFilter(t.filters),
    }));
  return (step, event) =>
    triggers.some((t) => t.service === `quay-bridge-${step}` && t.filter(lookupIn(event)) !== 'fail');
};

interface Meta {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

export interface Dispatcher {
  /** Every event routed so far, in the order the watches produced them. */
  readonly log: readonly Routed[];
  readonly results: readonly DeliveryResult[];
  /** Resolves when no delivery is in flight. */
  readonly idle: () => Promise<void>;
  readonly stop: () => Promise<void>;
}

export interface DispatcherOptions {
  readonly kubeConfig: KubeConfig;
  readonly transport: Transport;
  /** Which namespaces' objects are routed (the namespace's own name for Namespaces). */
  readonly namespaces: (name: string) => boolean;
  readonly policy?: DeliveryPolicy;
}

export const startDispatcher = async (o: DispatcherOptions): Promise<Dispatcher> => {
  const log: Routed[] = [];
  const results: DeliveryResult[] = [];
  const inFlight = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();
  let stopped = false;
  const watch = new Watch(o.kubeConfig);
  const passes = triggersOf();

  const route = (source: Source, type: string, obj: Meta): void => {
    const action = actions[type];
    if (action === undefined || stopped) return;
    const ns = obj.metadata.namespace ?? obj.metadata.name;
    if (!o.namespaces(ns)) return;
    const event = apiServerEvent(action, obj, { mode: source.mode });
    if (!passes(source.step, event)) return;
    log.push({ step: source.step, event });
    const p = deliver(o.transport, source.step, event, o.policy ?? TEST_DELIVERY).then((r) => {
      results.push(r);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const start = async (source: Source): Promise<void> => {
    if (stopped) return;
    const run: { controller?: AbortController; ended: boolean } = { ended: false };
    const restart = (): void => {
      run.ended = true;
      if (run.controller !== undefined) controllers.delete(run.controller);
      // Like the adapter after a watch ends: start again (a fresh list: duplicates, never gaps).
      if (!stopped) setTimeout(() => void start(source).catch(restart), 200);
    };
    const controller = await watch.watch(
      source.path,
      source.labelSelector === undefined ? {} : { labelSelector: source.labelSelector },
      (type, obj: Meta) => {
        route(source, type, obj);
      },
      restart,
    );
    run.controller = controller;
    // The watch may have failed (e.g. 429 while a CRD's storage starts) before it returned its controller.
    if (run.ended) controller.abort();
    else controllers.add(controller);
  };

  await Promise.all(SOURCES.map(start));

  const idle = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return {
    log,
    results,
    idle,
    stop: async () => {
      stopped = true;
      for (const c of controllers) c.abort();
      controllers.clear();
      await idle();
    },
  };
};
