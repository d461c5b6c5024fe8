import { expect } from 'chai';
import {
  kubeTime,
  nextBuildStep,
  outcomeAnnotation,
  type BuildStep,
} from '../../openshift-standin/build-phases.js';
import { buildImageDigest } from '../../openshift-standin/image-ref.js';
import type { Build } from '../../openshift-standin/objects.js';

const now = new Date('2026-03-01T12:00:07.250Z');
const ref = 'quay.example.com/openshift_team-a/app:latest';

const build = (
  status: NonNullable<Build['status']> | undefined,
  opts: { to?: { kind?: string; name?: string } | null; outcome?: string } = {},
): Build => ({
  metadata: {
    name: 'app-1',
    namespace: 'team-a',
    resourceVersion: '7',
    ...(opts.outcome === undefined ? {} : { annotations: { [outcomeAnnotation]: opts.outcome } }),
  },
  spec: { output: { to: opts.to === undefined ? { kind: 'DockerImage', name: ref } : opts.to } },
  ...(status === undefined ? {} : { status }),
});

const running = { phase: 'Running', startTimestamp: '2026-03-01T12:00:02Z', outputDockerImageReference: ref };

describe('the stand-in build controller (nextBuildStep)', () => {
  const table: readonly [string, Build, BuildStep][] = [
    [
      'takes a Build without status as New and makes it Pending with its output reference',
      build(undefined),
      {
        kind: 'advance',
        to: 'Pending',
        status: { phase: 'Pending', outputDockerImageReference: ref, reason: null, message: null },
      },
    ],
    [
      'makes a New Build without output Pending with no output reference',
      build({ phase: 'New' }, { to: null }),
      { kind: 'advance', to: 'Pending', status: { phase: 'Pending' } },
    ],
    [
      'holds a New Build whose output is an ImageStreamTag (no integrated registry) and says why',
      build({ phase: 'New' }, { to: { kind: 'ImageStreamTag', name: 'app:latest' } }),
      {
        kind: 'note',
        status: { reason: 'InvalidOutputReference', message: 'Output image could not be resolved.' },
      },
    ],
    [
      'writes nothing more once the unresolvable output is recorded',
      build(
        { phase: 'New', reason: 'InvalidOutputReference' },
        { to: { kind: 'ImageStreamTag', name: 'app:latest' } },
      ),
      { kind: 'none' },
    ],
    [
      'starts a Pending Build with a start timestamp in whole seconds',
      build({ phase: 'Pending', outputDockerImageReference: ref }),
      {
        kind: 'advance',
        to: 'Running',
        status: { phase: 'Running', startTimestamp: '2026-03-01T12:00:07Z' },
      },
    ],
    [
      'completes a Running Build with the digest it pushes, its completion time and duration in nanoseconds',
      build(running),
      {
        kind: 'advance',
        to: 'Complete',
        status: {
          phase: 'Complete',
          reason: null,
          message: null,
          completionTimestamp: '2026-03-01T12:00:07Z',
          duration: 5_000_000_000,
          output: { to: { imageDigest: buildImageDigest(ref, { namespace: 'team-a', name: 'app-1' }) } },
        },
        push: { ref, digest: buildImageDigest(ref, { namespace: 'team-a', name: 'app-1' }) },
        ifPushFails: {
          phase: 'Failed',
          reason: 'PushImageToRegistryFailed',
          message: 'Failed to push the image to the registry.',
          completionTimestamp: '2026-03-01T12:00:07Z',
          duration: 5_000_000_000,
        },
      },
    ],
    [
      'completes a Running Build without output without pushing',
      build({ phase: 'Running', startTimestamp: '2026-03-01T12:00:02Z' }, { to: null }),
      {
        kind: 'advance',
        to: 'Complete',
        status: {
          phase: 'Complete',
          reason: null,
          message: null,
          completionTimestamp: '2026-03-01T12:00:07Z',
          duration: 5_000_000_000,
        },
      },
    ],
    [
      'fails a Running Build whose outcome annotation says Failed',
      build(running, { outcome: 'Failed' }),
      {
        kind: 'advance',
        to: 'Failed',
        status: {
          phase: 'Failed',
          reason: 'GenericBuildFailed',
          message: 'Generic Build failure - check logs for details.',
          completionTimestamp: '2026-03-01T12:00:07Z',
          duration: 5_000_000_000,
        },
      },
    ],
    [
      'ends a Running Build in Error when the annotation says Error',
      build(running, { outcome: 'Error' }),
      {
        kind: 'advance',
        to: 'Error',
        status: {
          phase: 'Error',
          reason: 'BuildPodDeleted',
          message: 'The pod for this build was deleted before the build completed.',
          completionTimestamp: '2026-03-01T12:00:07Z',
          duration: 5_000_000_000,
        },
      },
    ],
    [
      'holds a Running Build while the annotation says Running',
      build(running, { outcome: 'Running' }),
      { kind: 'none' },
    ],
    [
      'cancels a Pending Build marked cancelled, without a duration as it never started',
      build({ phase: 'Pending', cancelled: true }),
      {
        kind: 'advance',
        to: 'Cancelled',
        status: {
          phase: 'Cancelled',
          reason: 'CancelledBuild',
          message: 'The build was cancelled by the user.',
          completionTimestamp: '2026-03-01T12:00:07Z',
        },
      },
    ],
    ...(['Complete', 'Failed', 'Error', 'Cancelled'] as const).map((phase): [string, Build, BuildStep] => [
      `leaves a ${phase} Build alone`,
      build({ ...running, phase, cancelled: true }),
      { kind: 'none' },
    ]),
  ];
  for (const [name, input, expected] of table) {
    it(name, () => {
      expect(nextBuildStep(input, now)).to.deep.equal(expected);
    });
  }

  it('ends a Build in Error naming the annotation when the outcome is not one it knows', () => {
    const step = nextBuildStep(build(running, { outcome: 'Succeeded' }), now);
    expect(step).to.include({ kind: 'advance', to: 'Error' });
    expect(step.kind === 'advance' && step.status.message).to.equal(
      `annotation ${outcomeAnnotation} must be Complete, Failed, Error or Running, not "Succeeded"`,
    );
  });

  it('walks a Build from no status through Pending and Running to Complete, then stops', () => {
    let current = build(undefined);
    const phases: string[] = [];
    for (let i = 0; i < 10; i++) {
      const step = nextBuildStep(current, now);
      if (step.kind !== 'advance') break;
      phases.push(step.to);
      current = {
        ...current,
        status: { ...current.status, ...(step.status as NonNullable<Build['status']>) },
      };
    }
    expect(phases).to.deep.equal(['Pending', 'Running', 'Complete']);
    expect(nextBuildStep(current, now)).to.deep.equal({ kind: 'none' });
  });

  it('formats Kubernetes times in UTC with whole seconds', () => {
    expect(kubeTime(new Date('2026-01-02T03:04:05.999Z'))).to.equal('2026-01-02T03:04:05Z');
  });
});
