// The QuayIntegration's status conditions (Ready, CredentialsValid, QuayReachable, with observedGeneration), which
// QBO declared and never wrote, and status.parts (parts.ts). Computed purely from the settings report and the last
// resync's tally, and written with server-side apply to the status subresource only when something differs, so
// that a status write (which itself triggers a QuayIntegration event, and so a resync) cannot loop.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import * as t from 'io-ts';
import { describeError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import type { KubeError } from '../kube/errors.js';
import { Resources } from '../kube/resources.js';
import type { IntegrationRef, SettingsReport } from './load.js';
import type { Part } from './parts.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  readonly type: 'Ready' | 'CredentialsValid' | 'QuayReachable' | 'OrganizationsOwned';
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
}

/** How the last reconcile pass went, for Ready. */
export interface SyncTally {
  readonly objects: number;
  readonly failed: number;
  /** A few failures, for the message. */
  readonly failures: readonly string[];
  /** Organizations of in-scope namespaces that are not this cluster's (shared/ownership.ts). */
  readonly notOurs?: readonly string[];
}

const c = (
  type: Condition['type'],
  status: ConditionStatus,
  reason: string,
  message: string,
  observedGeneration: number,
): Condition => ({ type, status, reason, message, observedGeneration });

/** The conditions one QuayIntegration should carry. */
export const conditionsFor = (
  report: SettingsReport,
  integration: IntegrationRef,
  tally: SyncTally | undefined,
): readonly Condition[] => {
  const g = integration.generation;
  const s = report.state;
  switch (s._tag) {
    case 'NoIntegration':
      return [];
    case 'SeveralIntegrations': {
      const message = `${s.names.length} QuayIntegrations exist (${s.names.join(', ')}); quay-bridge works with exactly one and does nothing until the others are deleted`;
      return [
        c('Ready', 'False', 'SeveralQuayIntegrations', message, g),
        c('CredentialsValid', 'Unknown', 'SeveralQuayIntegrations', message, g),
        c('QuayReachable', 'Unknown', 'SeveralQuayIntegrations', message, g),
      ];
    }
    case 'InvalidSpec':
      return [
        c('Ready', 'False', 'InvalidSpec', s.message, g),
        c('CredentialsValid', 'Unknown', 'InvalidSpec', s.message, g),
        c('QuayReachable', 'Unknown', 'InvalidSpec', s.message, g),
      ];
    case 'CredentialsMissing':
      return [
        c('Ready', 'False', s.reason, s.message, g),
        c('CredentialsValid', 'False', s.reason, s.message, g),
        c('QuayReachable', 'Unknown', s.reason, 'no token to ask Quay with', g),
      ];
    case 'TokenRejected':
      return [
        c('Ready', 'False', 'TokenRejected', s.message, g),
        c('CredentialsValid', 'False', 'TokenRejected', s.message, g),
        c('QuayReachable', 'True', 'Answered', `${s.settings.quay.apiUrl} answered`, g),
      ];
    case 'QuayUnreachable': {
      const message = `${s.settings.quay.apiUrl}: ${describeError(s.error)}`;
      return [
        c('Ready', 'False', 'QuayUnreachable', message, g),
        c('CredentialsValid', 'Unknown', 'QuayUnreachable', message, g),
        c('QuayReachable', 'False', s.error._tag, message, g),
      ];
    }
    case 'Ready': {
      const { settings, user } = s.configured;
      const ready =
        tally === undefined
          ? c('Ready', 'Unknown', 'Reconciling', 'the first reconcile pass has not finished', g)
          : tally.failed === 0
            ? c('Ready', 'True', 'Synced', `${tally.objects} objects in sync with ${settings.quay.apiUrl}`, g)
            : c(
                'Ready',
                'False',
                'SyncFailed',
                `${tally.failed} of ${tally.objects} objects failed to sync: ${tally.failures.join('; ')}`,
                g,
              );
      const notOurs = tally?.notOurs ?? [];
      return [
        ready,
        c('CredentialsValid', 'True', 'TokenAccepted', `the token belongs to Quay user ${user.username}`, g),
        c('QuayReachable', 'True', 'Answered', `${settings.quay.apiUrl} answered`, g),
        ...(tally === undefined
          ? []
          : [
              notOurs.length === 0
                ? c(
                    'OrganizationsOwned',
                    'True',
                    'AllMarked',
                    "every organization in use carries this cluster's mark",
                    g,
                  )
                : c(
                    'OrganizationsOwned',
                    'False',
                    'OrganizationsNotOurs',
                    `${notOurs.length} organization(s) of namespaces in scope are not this cluster's and are left alone (see the Namespaces' Events; adopt with the quay.redhat.com/adopt-organizations annotation): ${notOurs.join(', ')}`,
                    g,
                  ),
            ]),
      ];
    }
  }
};

const StoredCondition = t.intersection([
  t.type({ type: t.string, status: t.string }),
  t.partial({
    reason: t.string,
    message: t.string,
    observedGeneration: t.number,
    lastTransitionTime: t.string,
  }),
]);
type StoredCondition = t.TypeOf<typeof StoredCondition>;

const stored = (u: unknown): readonly StoredCondition[] =>
  pipe(
    t.readonlyArray(StoredCondition).decode(u),
    E.getOrElse((): readonly StoredCondition[] => []),
  );

const MAX_MESSAGE = 32_768;

/**
 * The status.conditions to apply, or undefined when the stored ones already say the same. lastTransitionTime moves
 * only when a condition's status changes (metav1.Condition's rule).
 */
export const conditionsPatch = (
  current: unknown,
  wanted: readonly Condition[],
  now: Date,
): readonly (Condition & { readonly lastTransitionTime: string })[] | undefined => {
  const before = stored(current);
  const same = (w: Condition, s: StoredCondition | undefined): boolean =>
    s !== undefined &&
    s.status === w.status &&
    s.reason === w.reason &&
    s.message === w.message.slice(0, MAX_MESSAGE) &&
    s.observedGeneration === w.observedGeneration;
  if (
    wanted.every((w) =>
      same(
        w,
        before.find((s) => s.type === w.type),
      ),
    )
  )
    return undefined;
  return withTransitionTimes(before, wanted, now);
};

const withTransitionTimes = (
  before: readonly StoredCondition[],
  wanted: readonly Condition[],
  now: Date,
): readonly (Condition & { readonly lastTransitionTime: string })[] =>
  wanted.map((w) => {
    const previous = before.find((s) => s.type === w.type);
    const moved = previous?.status !== w.status || previous.lastTransitionTime === undefined;
    return {
      ...w,
      message: w.message.slice(0, MAX_MESSAGE),
      lastTransitionTime: moved
        ? now.toISOString().replace(/\.\d+Z$/, 'Z')
        : (previous.lastTransitionTime ?? ''),
    };
  });

/** status.parts as stored says the same as `wanted` (none wanted: none stored). */
export const sameParts = (current: unknown, wanted: readonly Part[] | undefined): boolean => {
  const stored = pipe(
    t.readonlyArray(t.type({ name: t.string, active: t.boolean, message: t.string })).decode(current ?? []),
    E.map((ps) => ps.map((p) => ({ name: p.name, active: p.active, message: p.message }))),
    E.getOrElseW(() => undefined),
  );
  return JSON.stringify(stored) === JSON.stringify(wanted ?? []);
};

/**
 * Applies the conditions (and `parts`: which parts of the bridge have work on this cluster, none when unknown) of
 * every QuayIntegration whose status says otherwise; returns how many were written. Every apply carries all the
 * conditions: server-side apply drops the fields of this manager that an apply leaves out.
 */
export const writeConditions = (
  kube: KubeClient,
  report: SettingsReport,
  tally: SyncTally | undefined,
  now: Date,
  parts?: readonly Part[],
): TE.TaskEither<KubeError, number> =>
  pipe(
    report.integrations,
    RA.filterMap((integration) => {
      const wanted = conditionsFor(report, integration, tally);
      const changed = conditionsPatch(integration.conditions, wanted, now);
      if (changed === undefined && sameParts(integration.parts, parts)) return O.none;
      const patch = changed ?? withTransitionTimes(stored(integration.conditions), wanted, now);
      return patch.length === 0 ? O.none : O.some({ integration, patch });
    }),
    RA.traverse(TE.ApplicativeSeq)(({ integration, patch }) =>
      kube.patch(
        { type: Resources.QuayIntegration, name: integration.name },
        {
          type: 'apply',
          force: true,
          body: {
            apiVersion: Resources.QuayIntegration.apiVersion,
            kind: Resources.QuayIntegration.kind,
            metadata: { name: integration.name },
            // QBO's only status field, kept meaningful: when the bridge last changed this status.
            status: {
              conditions: patch,
              lastUpdate: now.toISOString(),
              ...(parts === undefined ? {} : { parts }),
            },
          },
        },
        'status',
      ),
    ),
    TE.map((written) => written.length),
  );
