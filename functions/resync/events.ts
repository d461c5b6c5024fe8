// The Kubernetes Events of the resync, on the QuayIntegration: a pass that changed or failed something (with its
// counts), and the settings problems that stop every step (token rejected, Quay unreachable, …). A pass that found
// everything in sync reports nothing.
import { describeError } from '../../shared/errors.js';
import { normal, regardingOf, warning, type Report } from '../../shared/runtime/report.js';
import type { SettingsReport } from '../../shared/settings/load.js';
import type { Tally } from './plan.js';

const counts = (t: Tally): string =>
  `${t.namespaces} namespaces, ${t.serviceAccounts} ServiceAccounts, ${t.imageStreams} ImageStreams: ` +
  `${t.changed} changed, ${t.failed} failed, ${t.refused} refused, ${t.swept} orphaned organizations deleted`;

export const resyncReports = (report: SettingsReport, tally: Tally | undefined): readonly Report[] => {
  const only = report.integrations.length === 1 ? report.integrations[0] : undefined;
  if (only === undefined) return [];
  const qi = regardingOf('quay.redhat.com/v1', 'QuayIntegration', only);
  const s = report.state;
  switch (s._tag) {
    case 'NoIntegration':
    case 'SeveralIntegrations':
      return [];
    case 'InvalidSpec':
      return [warning(qi, 'InvalidSpec', 'ReadSettings', s.message)];
    case 'CredentialsMissing':
      return [warning(qi, s.reason, 'ReadSettings', s.message)];
    case 'TokenRejected':
      return [warning(qi, 'TokenRejected', 'CheckToken', s.message)];
    case 'QuayUnreachable':
      return [
        warning(qi, 'QuayUnreachable', 'CheckToken', `${s.settings.quay.apiUrl}: ${describeError(s.error)}`),
      ];
    case 'Ready':
      if (tally === undefined) return [];
      if (tally.failed > 0)
        return [warning(qi, 'ResyncFailed', 'Resync', `${counts(tally)}; ${tally.failures.join('; ')}`)];
      return tally.changed + tally.swept > 0 ? [normal(qi, 'Resynced', 'Resync', counts(tally))] : [];
  }
};

/** The last pass's objects, for the resync's metrics. */
export const totals = (t: Tally) => ({
  total: t.namespaces + t.serviceAccounts + t.imageStreams,
  changed: t.changed,
  failed: t.failed,
  refused: t.refused,
});
