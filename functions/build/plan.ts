// What to do about one Build, as pure functions of its current state: import the image it pushed to Quay into
// the destination ImageStream tag, by digest, once — or nothing. (With scheduledImageStreamImport the import is of
// the pushed tag, as QBO's was: a scheduled import of a digest would re-import the same image forever.) QBO imported on every event of every annotated
// Build, historical, failed and unfinished ones included (docs/qbo-compatibility.md#b5; docs/qbo-compatibility.md#build-import).
//
// Everything on a Build (annotations, spec.output, status) can be written by an editor of its namespace, while the
// bridge may import into every namespace: so nothing the Build says is trusted for where the image comes from or goes
// to (a confused deputy otherwise). Three steps: `plan` (the Build alone, no settings: most events stop here),
// `confine` (the settings: the Build's own namespace, in scope, from that namespace's own Quay repository) and
// `verifyDigest` (one Quay read: the digest was pushed to that tag). Anything else is refused, never imported.
import * as E from 'fp-ts/lib/Either.js';
import * as O from 'fp-ts/lib/Option.js';
import * as t from 'io-ts';
import type { SyncError } from '../../shared/errors.js';
import { BUILD_ANNOTATIONS, isAllowedNamespace, organizationName } from '../../shared/names.js';
import type { TagVersion } from '../../shared/quay/types.js';
import type { Settings } from '../../shared/settings/quay-integration.js';
import {
  annotationsOf,
  digestOf,
  outputOf,
  parseDestination,
  repositoryOf,
  type Build,
  type Destination,
} from '../../shared/build.js';

export interface BuildRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly resourceVersion: string | undefined;
}

/** Why a Build is not imported; each is also the reason of the Warning Event recorded on the Build. */
export type RefusalReason =
  | 'InvalidDestination'
  | 'InvalidOutput'
  | 'MissingDigest'
  | 'InvalidDigest'
  | 'CrossNamespaceImport'
  | 'NamespaceNotManaged'
  | 'InvalidOrganization'
  | 'ForeignRepository'
  | 'RepositoryNotFound'
  | 'UnknownDigest';

export interface Refusal {
  readonly _tag: 'Refuse';
  readonly reason: RefusalReason;
  readonly message: string;
  /**
   * The same Build can never be imported (a forged or broken Build: poison input, answered 422 and dead-lettered).
   * False only for a namespace out of scope, which every step leaves alone (204).
   */
  readonly poison: boolean;
}

/** A completed, redirected Build, as it describes itself: nothing here is trusted yet. */
export interface Candidate {
  readonly _tag: 'Candidate';
  readonly build: BuildRef;
  /** The destination annotation, as written on the Build. */
  readonly destination: Destination;
  /** spec.output.to.name: where the Build says it pushed. */
  readonly output: string;
  readonly digest: string;
}

/** Where the digest is looked up in Quay. */
export interface QuayTag {
  readonly org: string;
  readonly repository: string;
  readonly tag: string;
}

export interface ImportPlan {
  readonly _tag: 'Import';
  readonly build: BuildRef;
  readonly destination: Destination;
  /** `<host>/<org>/<imagestream>@<digest>`: the very image the build pushed, whatever the tag points to now. */
  readonly from: string;
  /** `<host>/<org>/<imagestream>:<tag>`: the tag the build pushed, for imports OpenShift repeats on a schedule. */
  readonly tagged: string;
  readonly digest: string;
  /** Undefined only when the source is no Quay repository the bridge can name (possible only unconfined). */
  readonly quay: QuayTag | undefined;
}

export type BuildPlan = { readonly _tag: 'Ignore'; readonly reason: string } | Refusal | Candidate;

/**
 * Which checks run. Production runs all of them (ALL_CHECKS); the hostile-tenant tests switch one off to show the
 * attack it stops succeeding without it. Off, `confine` trusts the Build as the bridge once did.
 */
export interface Checks {
  readonly confine: boolean;
  readonly verifyDigest: boolean;
}
export const ALL_CHECKS: Checks = { confine: true, verifyDigest: true };

export type ImportSettings = Pick<Settings, 'insecureRegistry' | 'scheduledImageStreamImport'>;

const ignore = (reason: string): BuildPlan => ({ _tag: 'Ignore', reason });
const refuse = (reason: RefusalReason, message: string, poison = true): Refusal => ({
  _tag: 'Refuse',
  reason,
  message,
  poison,
});

// OCI image-spec descriptor digest grammar: algorithm ":" encoded.
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Settings are not an input: most events are ignored, and those must not cost a read of the QuayIntegration. */
export const plan = (ref: { readonly namespace: string; readonly name: string }, build: Build): BuildPlan => {
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
  if (E.isLeft(parsed)) return refuse('InvalidDestination', `${what}: ${parsed.left}`);
  const to = outputOf(build);
  if (to?.kind !== 'DockerImage' || to.name === undefined || to.name === '')
    return refuse(
      'InvalidOutput',
      `${what} carries ${BUILD_ANNOTATIONS.destination} but its spec.output.to is not a DockerImage reference`,
    );
  const digest = digestOf(build);
  if (digest === undefined)
    return refuse(
      'MissingDigest',
      `${what} completed without status.output.to.imageDigest, so the pushed image cannot be imported by digest; ` +
        `import ${to.name} into ${destination} by hand (oc import-image)`,
    );
  if (!DIGEST.test(digest))
    return refuse('InvalidDigest', `${what}: status.output.to.imageDigest "${digest}" is not a digest`);

  return {
    _tag: 'Candidate',
    build: {
      namespace: ref.namespace,
      name: ref.name,
      uid: build.metadata.uid,
      resourceVersion: build.metadata.resourceVersion,
    },
    destination: parsed.right,
    output: to.name,
    digest,
  };
};

/** `host[:port]/org/repo[/more]:tag` → its Quay coordinates; undefined when it has no organization part. */
export const quayTagOf = (reference: string): QuayTag | undefined => {
  const repository = repositoryOf(reference);
  const tag = reference.length > repository.length + 1 ? reference.slice(repository.length + 1) : 'latest';
  const [, org, ...rest] = repository.split('/');
  return org === undefined || org === '' || rest.length === 0 || reference.includes('@')
    ? undefined
    : { org, repository: rest.join('/'), tag };
};

/**
 * Where the image may come from and go to, from the settings alone: the Build's own namespace, only if it is in
 * scope, from `<registry host>/<org of that namespace>/<imagestream>:<tag>`, which is exactly what the webhook wrote
 * into spec.output.to. The import's source is built from the settings, never copied from the Build.
 */
export const confine = (c: Candidate, s: Settings, checks: Checks = ALL_CHECKS): Refusal | ImportPlan => {
  const what = `Build ${c.build.namespace}/${c.build.name}`;
  if (!checks.confine)
    return {
      _tag: 'Import',
      build: c.build,
      destination: c.destination,
      from: `${repositoryOf(c.output)}@${c.digest}`,
      tagged: c.output,
      digest: c.digest,
      quay: quayTagOf(c.output),
    };
  const { namespace } = c.build;
  if (c.destination.namespace !== namespace)
    return refuse(
      'CrossNamespaceImport',
      `${what} asks for an import into namespace ${c.destination.namespace} (annotation ` +
        `${BUILD_ANNOTATIONS.destination}); quay-bridge imports only into the Build's own namespace`,
    );
  if (!isAllowedNamespace(namespace, s))
    return refuse(
      'NamespaceNotManaged',
      `${what}: namespace ${namespace} is not managed by quay-bridge (allowlistNamespaces/denylistNamespaces ` +
        `of QuayIntegration ${s.name}); nothing is imported`,
      false,
    );
  const org = organizationName(s.organizationPrefix, namespace);
  if (E.isLeft(org)) return refuse('InvalidOrganization', `${what}: ${org.left.message}`);
  const { imageStream, tag } = c.destination;
  const tagged = `${s.quay.registryHost}/${org.right}/${imageStream}:${tag}`;
  if (c.output !== tagged)
    return refuse(
      'ForeignRepository',
      `${what}: spec.output.to is ${c.output}, not ${tagged}, the Quay repository of namespace ${namespace} for ` +
        `ImageStreamTag ${imageStream}:${tag}; quay-bridge imports only from the namespace's own organization`,
    );
  return {
    _tag: 'Import',
    build: c.build,
    destination: { namespace, imageStream, tag },
    from: `${s.quay.registryHost}/${org.right}/${imageStream}@${c.digest}`,
    tagged,
    digest: c.digest,
    quay: { org: org.right, repository: imageStream, tag },
  };
};

/**
 * Quay's word on the digest: it must be one of the versions of the tag the Build pushed (a Build edited to Complete
 * with a digest from elsewhere is refused here rather than imported or retried).
 */
export const verifyDigest = (
  p: ImportPlan,
  versions: O.Option<readonly TagVersion[]>,
  limit: number,
): Refusal | ImportPlan => {
  const what = `Build ${p.build.namespace}/${p.build.name}`;
  if (p.quay === undefined)
    return refuse('ForeignRepository', `${what}: spec.output.to names no Quay repository (${p.tagged})`);
  const where = `${p.quay.org}/${p.quay.repository}`;
  if (O.isNone(versions))
    return refuse(
      'RepositoryNotFound',
      `${what}: Quay has no repository ${where} (or refuses to show it), so status.output.to.imageDigest ` +
        `${p.digest} cannot have been pushed there; nothing is imported`,
    );
  if (!versions.value.some((v) => v.manifestDigest === p.digest))
    return refuse(
      'UnknownDigest',
      `${what}: Quay has no version of ${where}:${p.quay.tag} with digest ${p.digest} ` +
        `(${versions.value.length === limit ? `the newest ${limit} versions` : 'every version'} checked), so the ` +
        'Build did not push it; nothing is imported',
    );
  return p;
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
