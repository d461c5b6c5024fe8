// What OpenShift's build controller does to a Build next, as a pure function of the Build and the time. The
// stand-in runs no pod: a build "runs" by stepping through the phases, and "pushes" by reporting a made-up digest.
import { buildImageDigest } from './image-ref.js';
import type { Build } from './objects.js';

export type BuildPhase = 'New' | 'Pending' | 'Running' | 'Complete' | 'Failed' | 'Error' | 'Cancelled';

const terminalPhases: ReadonlySet<string> = new Set(['Complete', 'Failed', 'Error', 'Cancelled']);

/**
 * A test knob on the Build: how it ends. `Complete` (the default), `Failed` or `Error`; `Running` holds the build
 * in phase Running until the annotation changes.
 */
export const outcomeAnnotation = 'openshift-standin.quay-bridge.test/outcome';

/** A JSON merge patch of `status` (null removes a field). */
export type StatusPatch = Readonly<Record<string, unknown>>;

export type BuildStep =
  /** Finished, or waiting for something only a user can change: nothing to write. */
  | { readonly kind: 'none' }
  /** Stays in its phase but records why. */
  | { readonly kind: 'note'; readonly status: StatusPatch }
  /** The next phase. With `push`, the image is pushed first, and `ifPushFails` is written instead on failure. */
  | {
      readonly kind: 'advance';
      readonly to: BuildPhase;
      readonly status: StatusPatch;
      readonly push?: { readonly ref: string; readonly digest: string };
      readonly ifPushFails?: StatusPatch;
    };

/** metav1.Time: RFC 3339 in UTC with whole seconds. */
export const kubeTime = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

const finished = (build: Build, now: Date): StatusPatch => {
  const start = build.status?.startTimestamp;
  const end = kubeTime(now);
  return start === undefined || start === null
    ? { completionTimestamp: end }
    : // time.Duration is nanoseconds.
      { completionTimestamp: end, duration: (Date.parse(end) - Date.parse(start)) * 1_000_000 };
};

export const nextBuildStep = (build: Build, now: Date): BuildStep => {
  const status = build.status ?? {};
  const phase = status.phase ?? 'New';
  if (terminalPhases.has(phase)) return { kind: 'none' };
  if (status.cancelled === true) {
    return {
      kind: 'advance',
      to: 'Cancelled',
      status: {
        phase: 'Cancelled',
        reason: 'CancelledBuild',
        message: 'The build was cancelled by the user.',
        ...finished(build, now),
      },
    };
  }
  switch (phase) {
    case 'New': {
      const to = build.spec?.output?.to ?? undefined;
      if (to === undefined) return { kind: 'advance', to: 'Pending', status: { phase: 'Pending' } };
      if (to.kind === 'DockerImage' && to.name !== undefined && to.name !== '') {
        return {
          kind: 'advance',
          to: 'Pending',
          status: { phase: 'Pending', outputDockerImageReference: to.name, reason: null, message: null },
        };
      }
      // The stand-in has no integrated registry, so an ImageStreamTag output cannot be resolved to a pull spec.
      const reason = 'InvalidOutputReference';
      return status.reason === reason
        ? { kind: 'none' }
        : { kind: 'note', status: { reason, message: 'Output image could not be resolved.' } };
    }
    case 'Pending':
      return { kind: 'advance', to: 'Running', status: { phase: 'Running', startTimestamp: kubeTime(now) } };
    case 'Running':
      return runningStep(build, now);
    default:
      return {
        kind: 'note',
        status: { reason: 'StandInUnknownPhase', message: `the stand-in does not know phase ${phase}` },
      };
  }
};

const runningStep = (build: Build, now: Date): BuildStep => {
  const outcome = build.metadata.annotations?.[outcomeAnnotation] ?? 'Complete';
  switch (outcome) {
    case 'Running':
      return { kind: 'none' };
    case 'Failed':
      return {
        kind: 'advance',
        to: 'Failed',
        status: {
          phase: 'Failed',
          reason: 'GenericBuildFailed',
          message: 'Generic Build failure - check logs for details.',
          ...finished(build, now),
        },
      };
    case 'Error':
      return {
        kind: 'advance',
        to: 'Error',
        status: {
          phase: 'Error',
          reason: 'BuildPodDeleted',
          message: 'The pod for this build was deleted before the build completed.',
          ...finished(build, now),
        },
      };
    case 'Complete': {
      const ref = build.status?.outputDockerImageReference;
      const done = { phase: 'Complete', reason: null, message: null, ...finished(build, now) };
      if (ref === undefined || ref === '') return { kind: 'advance', to: 'Complete', status: done };
      const digest = buildImageDigest(ref, {
        namespace: build.metadata.namespace ?? '',
        name: build.metadata.name,
      });
      return {
        kind: 'advance',
        to: 'Complete',
        status: { ...done, output: { to: { imageDigest: digest } } },
        push: { ref, digest },
        ifPushFails: {
          phase: 'Failed',
          reason: 'PushImageToRegistryFailed',
          message: 'Failed to push the image to the registry.',
          ...finished(build, now),
        },
      };
    }
    default:
      return {
        kind: 'advance',
        to: 'Error',
        status: {
          phase: 'Error',
          reason: 'StandInUnknownOutcome',
          message: `annotation ${outcomeAnnotation} must be Complete, Failed, Error or Running, not "${outcome}"`,
          ...finished(build, now),
        },
      };
  }
};
