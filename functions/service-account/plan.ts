// Which ServiceAccount an event is about: its own, or the one a robot Secret belongs to (the plan of the robot itself
// is shared with the resync: shared/sync/robot-plan.ts).
import { robotSecretName } from '../../shared/names.js';
import type { Settings } from '../../shared/settings/quay-integration.js';

/** The ServiceAccount a robot Secret belongs to, from its name `<sa>-quay-<clusterID>`; undefined if not ours. */
export const serviceAccountOfSecret = (secretName: string, settings: Settings): string | undefined => {
  const suffix = robotSecretName('', settings.clusterID);
  if (!secretName.endsWith(suffix)) return undefined;
  const sa = secretName.slice(0, -suffix.length);
  return sa !== '' && settings.robotRoles.has(sa) ? sa : undefined;
};
