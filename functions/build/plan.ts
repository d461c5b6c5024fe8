// What to do about one Build, as a pure function of its current state: import the image it pushed to Quay into
// the destination ImageStream tag, by digest, once — or nothing. (With scheduledImageStreamImport the import is of
// the pushed tag, as QBO's was: a scheduled import of a digest would re-import the same image forever.) QBO imported on every event of every annotated
// Build, historical, failed and unfinished ones included (docs/qbo-compatibility.md#b5; docs/qbo-compatibility.md#build-import).
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { badEvent, type SyncError } from '../../shared/errors.js';
import { BUILD_ANNOTATIONS } from '../../shared/names.js';
import type { Settings } from '../../shared/settings/quay-integration.js';
import {
  annotationsOf,
  digestOf,
  outputOf,
  parseDestination,
  repositoryOf,
  type Build,
  type Destination,
} from './build.js';

export interface ImportPlan {
  readonly _tag: 'Import';
  readonly build: {
    readonly namespace: string;
    readonly name: string;
    readonly resourceVersion: string | undefined;
  };
  readonly destination: Destination;
  /** `<host>/<org>/<imagestream>@<digest>`: the very image the build pushed, whatever the tag points to now. */
  readonly from: string;
  /** `<host>/<org>/<imagestream>:<tag>`: the tag the build pushed, for imports OpenShift repeats on a schedule. */
  readonly tagged: string;
}

export type BuildPlan = { readonly _tag: 'Ignore'; readonly reason: string } | ImportPlan;

export type ImportSettings = Pick<Settings, 'insecureRegistry' | 'scheduledImageStreamImport'>;

const ignore = (reason: string): E.Either<SyncError, BuildPlan> => E.right({ _tag: 'Ignore', reason });

// OCI image-spec descriptor digest grammar: algorithm ":" encoded.
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Settings are not an input: most events are ignored, and those must not cost a read of the QuayIntegration. */
export const plan = (
  ref: { readonly namespace: string; readonly name: string },
  build: Build,
): E.Either<SyncError, BuildPlan> => {
  const annotations = annotationsOf(build);
  const destination = annotations[BUILD_ANNOTATIONS.destination];
  const what = `Build ${ref.namespace}/${ref.name}`;
  if (destination === undefined) return ignore('not redirected to Quay (no destination annotation)');
  if (BUILD_ANNOTATIONS.imported in annotations) return ignore('already imported');
  const phase = build.status?.phase ?? 'New';
  switch (phase) {
    case 'Complete':
      break;
    case 'New':
    case 'Pending':
    case 'Running':
      return ignore(`phase ${phase}: nothing pushed yet`);
    case 'Failed':
    case 'Error':
    case 'Cancelled':
      return ignore(`phase ${phase}: nothing to import`);
    default:
      return ignore(`phase ${phase}: not a phase that pushed an image`);
  }

  const parsed = parseDestination(destination);
  if (E.isLeft(parsed)) return E.left(badEvent(`${what}: ${parsed.left}`));
  const to = outputOf(build);
  if (to?.kind !== 'DockerImage' || to.name === undefined || to.name === '')
    return E.left(
      badEvent(
        `${what} carries ${BUILD_ANNOTATIONS.destination} but its spec.output.to is not a DockerImage reference`,
      ),
    );
  const digest = digestOf(build);
  if (digest === undefined)
    return E.left(
      badEvent(
        `${what} completed without status.output.to.imageDigest, so the pushed image cannot be imported by digest; ` +
          `import ${to.name} into ${destination} by hand (oc import-image)`,
      ),
    );
  if (!DIGEST.test(digest))
    return E.left(badEvent(`${what}: status.output.to.imageDigest "${digest}" is not a digest`));

  return E.right({
    _tag: 'Import',
    build: { namespace: ref.namespace, name: ref.name, resourceVersion: build.metadata.resourceVersion },
    destination: parsed.right,
    from: `${repositoryOf(to.name)}@${digest}`,
    tagged: to.name,
  });
};

/**
 * The ImageStreamImport (image.openshift.io/v1) that carries out a plan: of the pushed digest, or, when OpenShift is
 * to re-import on a schedule (scheduledImageStreamImport), of the pushed tag, so that later pushes are picked up.
 */
export const imageStreamImport = (p: ImportPlan, s: ImportSettings): object => ({
  apiVersion: 'image.openshift.io/v1',
  kind: 'ImageStreamImport',
  metadata: { name: p.destination.imageStream, namespace: p.destination.namespace },
  spec: {
    import: true,
    images: [
      {
        from: { kind: 'DockerImage', name: s.scheduledImageStreamImport ? p.tagged : p.from },
        to: { name: p.destination.tag },
        importPolicy: { insecure: s.insecureRegistry, scheduled: s.scheduledImageStreamImport },
        referencePolicy: { type: 'Source' },
      },
    ],
  },
});

/** Marks the Build imported, only if nobody changed it since it was read (a duplicate event then re-reads it). */
export const markImported = (p: ImportPlan): object => ({
  metadata: {
    ...(p.build.resourceVersion === undefined ? {} : { resourceVersion: p.build.resourceVersion }),
    annotations: { [BUILD_ANNOTATIONS.imported]: 'true' },
  },
});

const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);

const ImportStatus = t.partial({ status: t.string, reason: t.string, message: t.string, code: t.number });
const ImportAnswer = t.partial({
  status: nullable(
    t.partial({
      images: nullable(
        t.readonlyArray(
          t.partial({
            tag: t.string,
            status: ImportStatus,
            image: nullable(
              t.partial({ metadata: t.partial({ name: t.string }), dockerImageReference: t.string }),
            ),
          }),
        ),
      ),
    }),
  ),
});

/**
 * What the import did, from the ImageStreamImport the API server answered the POST with (on OpenShift the import
 * runs inside the request and the answer carries its status; nothing is stored). A failure is retried: its usual
 * causes (Quay down, the robot Secret not there yet, a replica not having the manifest yet) pass.
 */
export const importOutcome = (
  p: ImportPlan,
  answer: unknown,
): E.Either<SyncError, { readonly image: string }> => {
  const where = `ImageStreamImport ${p.destination.namespace}/${p.destination.imageStream} of ${p.from}`;
  const decoded = ImportAnswer.decode(answer);
  const first = E.isRight(decoded) ? decoded.right.status?.images?.[0] : undefined;
  if (first?.status?.status === undefined)
    return E.left({
      _tag: 'KubeResponseInvalid',
      message: `${where}: the answer reports no status for the image`,
    });
  if (first.status.status !== 'Success')
    return E.left({
      _tag: 'KubeUnavailable',
      status: undefined,
      message: `${where} failed: ${first.status.reason ?? first.status.status}: ${first.status.message ?? 'no message'}`,
    });
  return E.right({ image: first.image?.dockerImageReference ?? p.from });
};
