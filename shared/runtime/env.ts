// The capabilities every sync step receives, as one plain object (tests pass their own).
import type { KubeEnv } from '../kube/client.js';
import type { EventsEnv } from '../kube/events.js';
import type { LogEnv } from '../log.js';
import type { Judge } from '../ownership.js';
import type { SettingsEnv } from '../settings/load.js';

export interface StepEnv extends KubeEnv, SettingsEnv, LogEnv, EventsEnv {
  readonly now: () => Date;
  /** How many namespaces the resync reconciles at once. */
  readonly resyncConcurrency: number;
  /** How ownership in Quay is judged; strictJudge unless a test weakens it to show an attack (shared/ownership.ts). */
  readonly judge?: Judge;
}
