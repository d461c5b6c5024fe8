// ServiceAccount step: decode → re-read the ServiceAccount and its Namespace → plan → apply → answer.
// It also takes events about robot Secrets (by a Reference-mode ApiServerSource on Secrets labelled
// app.kubernetes.io/managed-by=quay-bridge, which carries no Secret data), so that a Secret deleted or edited by
// hand is restored at once rather than at the next resync. The step's own echoes (the events of its link patch and
// of its Secret writes) are answered from its memory, without a call (docs/design.md#own-echoes).
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { badEvent, type SyncError } from '../../shared/errors.js';
import { decodeObjectEvent, type ObjectEvent } from '../../shared/events/envelope.js';
import { KubeObject, Namespace, ServiceAccount } from '../../shared/kube/objects.js';
import { Resources } from '../../shared/kube/resources.js';
import type { StepEnv } from '../../shared/runtime/env.js';
import type { Step, StepResult } from '../../shared/runtime/handler.js';
import { ownerOf, readSinceCreation, reRead } from '../../shared/runtime/observe.js';
import { oneAtATime } from '../../shared/runtime/one-at-a-time.js';
import { ownEchoesPerEnvironment, type Version } from '../../shared/runtime/own-echoes.js';
import type { Configured } from '../../shared/settings/load.js';
import { strongest } from '../../shared/runtime/work.js';
import { reported } from '../../shared/runtime/report.js';
import { reportingNotOurs } from '../../shared/sync/events.js';
import { planServiceAccount } from '../../shared/sync/robot-plan.js';
import { reconcileRobot } from '../../shared/sync/robot.js';
import { readAhead, type KnownSecret } from '../../shared/sync/secret.js';
import { isAllowedNamespace, robotSecretName } from '../../shared/names.js';
import { refusalReports, serviceAccountReports } from './events.js';
import { serviceAccountOfSecret } from './plan.js';

export const decodeServiceAccountEvent = decodeObjectEvent<unknown>([
  { kind: 'ServiceAccount', group: '', codec: ServiceAccount },
  { kind: 'Secret', group: '', codec: KubeObject },
]);

/** The ServiceAccount, its Namespace and its robot Secret as they are now, read side by side. */
const objects = (namespace: string, name: string): RTE.ReaderTaskEither<StepEnv, SyncError, Observed> =>
  pipe(
    RTE.Do,
    RTE.apS('sa', reRead(ServiceAccount, { type: Resources.ServiceAccount, namespace, name })),
    RTE.apS('ns', reRead(Namespace, { type: Resources.Namespace, name: namespace })),
    // Its robot Secret beside them, under the name the last settings give it (reconcileRobot reads it again if the
    // settings it decides by name another).
    RTE.apS('secret', (env: StepEnv): TE.TaskEither<SyncError, KnownSecret | undefined> => {
      const last = env.settings.last();
      if (last === undefined || !last.robotRoles.has(name) || !isAllowedNamespace(namespace, last))
        return TE.right(undefined);
      return TE.fromTask(readAhead(env.kube, namespace, robotSecretName(name, last.clusterID)));
    }),
  );

export const serviceAccountStep: Step<StepEnv> = {
  name: 'service-account',
  run: (ce) =>
    pipe(
      RTE.fromEither(decodeServiceAccountEvent(ce)),
      RTE.flatMap((event) =>
        event.namespace === undefined
          ? RTE.left(badEvent(`a ${event.kind} event without a namespace`))
          : RTE.right({ event, namespace: event.namespace }),
      ),
      RTE.flatMap(({ event, namespace }) =>
        event.kind === 'ServiceAccount'
          ? serviceAccountEvent(event, namespace)
          : secretEvent(event, namespace),
      ),
      reportingNotOurs,
    ),
};

type Effect<A> = RTE.ReaderTaskEither<StepEnv, SyncError, A>;
type Event = ObjectEvent<unknown>;

/** Its robot Secret's event and its link's come back while the ServiceAccount's event is still at work: they wait. */
const perServiceAccount = oneAtATime();
/** What this process finished or wrote (docs/design.md#own-echoes). */
const echoesOf = ownEchoesPerEnvironment();

/** The uid and resourceVersion a ServiceAccount event shows; none for a delete, which is never an echo. */
const shown = (event: Event): Partial<Version> => {
  if (event.action === 'delete' || O.isNone(event.object)) return {};
  const meta = (event.object.value as ServiceAccount).metadata;
  return {
    ...(meta.uid === undefined ? {} : { uid: meta.uid }),
    ...(meta.resourceVersion === undefined ? {} : { resourceVersion: meta.resourceVersion }),
  };
};

/**
 * A ServiceAccount's event names it: its echo is looked for once the events at work on it are done (the echo of a
 * link patch often comes before its reconcile ends), and before anything is read, not even the settings: a change
 * of the QuayIntegration starts a resync that revisits every ServiceAccount (docs/design.md#own-echoes).
 */
const serviceAccountEvent = (event: Event, namespace: string): Effect<StepResult> =>
  perServiceAccount(`${namespace}/${event.name}`, () => (env: StepEnv) => {
    const seen = shown(event);
    if (echoesOf(env).isEcho(`${namespace}/${event.name}`, seen))
      return RTE.right<StepEnv, SyncError, StepResult>({
        outcome: 'unchanged',
        reason: `ServiceAccount ${namespace}/${event.name} at resourceVersion ${seen.resourceVersion ?? ''}: reconciled at that version already (its own echo)`,
      })(env);
    return pipe(
      RTE.Do,
      // It and its namespace are read beside the settings (one round trip).
      RTE.apS('configured', (e: StepEnv) => e.settings.configured(readSinceCreation(event.object))),
      RTE.apS('observed', objects(namespace, event.name)),
      RTE.flatMap(({ configured, observed }) => reconcile(namespace, event.name, configured, observed)),
    )(env);
  });

/**
 * A robot Secret's event names its ServiceAccount only through the settings' clusterID. The echo of the step's own
 * write was expected when the write was sent (shared/sync/secret.ts ensureSecret): it is used up here, at no cost.
 */
const secretEvent = (event: Event, namespace: string): Effect<StepResult> =>
  pipe(
    RTE.asks(echoesOf),
    RTE.flatMap((echoes) =>
      echoes.consume(`${namespace}/${event.name}`, event.action)
        ? RTE.right<StepEnv, SyncError, StepResult>({
            outcome: 'unchanged',
            reason: `Secret ${namespace}/${event.name}: the ${event.action} event of its own write (its own echo)`,
          })
        : pipe(
            (env: StepEnv) => env.settings.configured(readSinceCreation(event.object)),
            RTE.flatMap((configured) => {
              const name = serviceAccountOfSecret(event.name, configured.settings);
              if (name === undefined)
                return RTE.right<StepEnv, SyncError, StepResult>({
                  outcome: 'ignored',
                  reason: `Secret ${namespace}/${event.name} is not a robot Secret`,
                });
              return perServiceAccount(`${namespace}/${name}`, () =>
                pipe(
                  objects(namespace, name),
                  RTE.flatMap((observed) => reconcile(namespace, name, configured, observed)),
                ),
              );
            }),
          ),
    ),
  );

interface Observed {
  readonly sa: O.Option<ServiceAccount>;
  readonly ns: O.Option<Namespace>;
  readonly secret: KnownSecret | undefined;
}

/** What one handling did, and where it left the ServiceAccount when it fully reconciled it. */
interface Handled {
  readonly result: StepResult;
  readonly reconciledAt: Version | undefined;
}

/**
 * Plan and apply for one ServiceAccount, then remember where a full reconcile left it, or forget what was
 * remembered: a handling that failed, refused or ignored it leaves nothing to skip.
 */
const reconcile = (
  namespace: string,
  name: string,
  configured: Configured,
  observed: Observed,
): Effect<StepResult> => {
  const key = `${namespace}/${name}`;
  return (env) =>
    pipe(
      handleObserved(namespace, name, configured, observed)(env),
      TE.tapIO((handled) => () => {
        if (handled.reconciledAt === undefined) echoesOf(env).forget(key);
        else echoesOf(env).record(key, handled.reconciledAt);
      }),
      TE.tapError(() =>
        TE.fromIO(() => {
          echoesOf(env).forget(key);
        }),
      ),
      TE.map((handled) => handled.result),
    );
};

const handleObserved = (
  namespace: string,
  name: string,
  configured: Configured,
  { sa, ns, secret }: Observed,
): Effect<Handled> =>
  pipe(
    ownerOf(configured.settings),
    RTE.flatMap((owner) => (env: StepEnv) => {
      const plan = planServiceAccount(
        { namespaceName: namespace, name, serviceAccount: sa, namespace: ns },
        configured.settings,
      );
      const work = { kube: env.kube, quay: O.some(configured.quay), owner, echoes: echoesOf(env) };
      switch (plan._tag) {
        case 'Ignore':
          return RTE.right<StepEnv, SyncError, Handled>({
            result: { outcome: 'ignored', reason: plan.reason },
            reconciledAt: undefined,
          })(env);
        case 'Refuse':
          return pipe(
            RTE.left<StepEnv, SyncError, Handled>({ _tag: 'InvalidName', message: plan.message }),
            reported<StepEnv, Handled>(env.events, refusalReports(namespace, name, sa)),
          )(env);
        case 'Reconcile':
          return pipe(
            reconcileRobot(plan.target, undefined, secret),
            reported(env.events, serviceAccountReports(plan.target)),
            RTE.map((r): Handled => ({
              result: {
                outcome: strongest([
                  r.changes.robot,
                  r.changes.secret,
                  r.changes.defaultPermission,
                  r.changes.link,
                  r.namespace,
                ]),
                reason: `robot ${plan.target.robotName}, Secret ${plan.target.secretName}`,
                details: { organization: r.namespace, ...r.changes },
              },
              reconciledAt: versionOf(plan.target.serviceAccount.metadata.uid, r.serviceAccountVersion),
            })),
          )(work);
      }
    }),
  );

const versionOf = (uid: string | undefined, resourceVersion: string | undefined): Version | undefined =>
  uid === undefined || resourceVersion === undefined ? undefined : { uid, resourceVersion };
