// The webhook's decision for one AdmissionRequest, as a pure function of the request and the settings the process
// holds (docs/qbo-compatibility.md#webhook for QBO's behaviour, docs/qbo-compatibility.md#improvements for what we do better). Whether the builder robot's
// Secret exists is the one fact read elsewhere: a Build to redirect comes back as `Redirect`, and `decide` finishes
// it once that fact is known.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { JsonPatchOp } from '../../shared/kube/client.js';
import { formatDecodeError } from '../../shared/codec.js';
import {
  BUILD_ANNOTATIONS,
  isAllowedNamespace,
  organizationName,
  robotSecretName,
} from '../../shared/names.js';
import type { Settings } from '../../shared/settings/quay-integration.js';
import {
  annotationsOf,
  Build,
  describeBuild,
  formatDestination,
  isDockerOrSource,
  outputOf,
  parseImageStreamTag,
} from '../../shared/build.js';
import type { AdmissionRequest, Decision } from './admission-review.js';

/** QBO's exact text (docs/qbo-compatibility.md#identical); scripts may match on it, so it starts every such denial. */
export const NOT_PROVISIONED = 'The builder service account has not been provisioned with secrets yet';

export interface NamespaceLists {
  readonly allowlistNamespaces: readonly string[];
  readonly denylistNamespaces: readonly string[];
}

/** What the process knows of the QuayIntegration. */
export type SettingsView =
  /** Nothing listed yet: the pod is not ready, so the API server should not be calling. */
  | { readonly _tag: 'Loading' }
  /** No QuayIntegration, or several: QBO lets every Build through unchanged. */
  | { readonly _tag: 'Unconfigured'; readonly reason: string }
  /** A QuayIntegration that cannot be used (bad quayHostname, clusterID …); lists when its spec decoded. */
  | { readonly _tag: 'Invalid'; readonly message: string; readonly lists: NamespaceLists | undefined }
  | { readonly _tag: 'Ready'; readonly settings: Settings };

export type Plan =
  | { readonly _tag: 'Final'; readonly decision: Decision; readonly reason: string }
  /** Redirect to Quay, provided the builder robot's Secret exists (`decide`). */
  | {
      readonly _tag: 'Redirect';
      readonly ops: readonly JsonPatchOp[];
      readonly secret: { readonly namespace: string; readonly name: string };
      readonly destination: string;
      readonly image: string;
    };

const allow = (reason: string, warnings: readonly string[] = []): Plan => ({
  _tag: 'Final',
  decision: { _tag: 'Allow', warnings },
  reason,
});
const deny = (code: number, message: string, reason: string): Plan => ({
  _tag: 'Final',
  decision: { _tag: 'Deny', code, message },
  reason,
});

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
export const pointerSegment = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');
const annotationPath = (key: string): string => `/metadata/annotations/${pointerSegment(key)}`;

/**
 * A Build created from another (`oc start-build --from-build`) copies its annotations, the "imported" mark
 * included, and would then never be imported. A new Build is never imported yet.
 */
const dropImportedMark = (b: Build): readonly JsonPatchOp[] =>
  BUILD_ANNOTATIONS.imported in annotationsOf(b)
    ? [{ op: 'remove', path: annotationPath(BUILD_ANNOTATIONS.imported) }]
    : [];

const allowOrDropMark = (b: Build, reason: string, warnings: readonly string[] = []): Plan => {
  const ops = dropImportedMark(b);
  return ops.length === 0
    ? allow(reason, warnings)
    : { _tag: 'Final', decision: { _tag: 'Mutate', ops, warnings }, reason };
};

const isBuildKind = (r: AdmissionRequest): boolean =>
  r.kind.group === 'build.openshift.io' && r.kind.kind === 'Build';

export const plan = (request: AdmissionRequest, view: SettingsView): Plan => {
  // Only CREATE is registered; an UPDATE can no longer change a Build's spec, so it is never mutated or denied.
  if (request.operation !== 'CREATE') return allow(`${request.operation} is never mutated`);
  if (!isBuildKind(request) || request.subResource !== undefined)
    return allow(`not a Build (${request.kind.group}/${request.kind.kind})`);
  const decoded = Build.decode(request.object);
  if (E.isLeft(decoded))
    return deny(
      400,
      `the AdmissionReview's object is not a Build: ${formatDecodeError(decoded.left)}`,
      'undecodable',
    );
  const build = decoded.right;
  const namespace = request.namespace ?? build.metadata.namespace ?? '';
  if (namespace === '')
    return deny(400, 'the AdmissionReview names no namespace for the Build', 'no namespace');

  switch (view._tag) {
    case 'Loading':
      return deny(
        503,
        'quay-bridge has not read the QuayIntegration yet; retry in a moment',
        'settings loading',
      );
    case 'Unconfigured':
      return allow(view.reason);
    case 'Invalid':
      if (view.lists !== undefined && !isAllowedNamespace(namespace, view.lists))
        return allow('namespace not managed');
      return allow('QuayIntegration unusable', [
        `quay-bridge: ${view.message}; ${describeBuild(namespace, build)} was not redirected to Quay`,
      ]);
    case 'Ready':
      return planWithSettings(namespace, build, view.settings);
  }
};

const planWithSettings = (namespace: string, build: Build, s: Settings): Plan => {
  if (!isAllowedNamespace(namespace, s)) return allow('namespace not managed');
  const to = outputOf(build);
  // QBO's scope: Docker and Source strategies pushing to an ImageStreamTag. Everything else (Custom, Pipeline,
  // DockerImage outputs, no output) passes unchanged, and is never held up by the provisioning check either.
  if (!isDockerOrSource(build)) return allowOrDropMark(build, 'neither a Docker nor a Source strategy');
  if (to?.kind !== 'ImageStreamTag') return allowOrDropMark(build, `output is ${to?.kind ?? 'absent'}`);

  const parsed = parseImageStreamTag(to.name ?? '');
  if (E.isLeft(parsed)) return deny(400, `spec.output.to: ${parsed.left}`, 'invalid ImageStreamTag');
  const { imageStream, tag } = parsed.right;
  const destNamespace = to.namespace != null && to.namespace !== '' ? to.namespace : namespace;

  if (destNamespace !== namespace) {
    // A Build pod can only mount Secrets of its own namespace, and this namespace's builder robot has no rights in
    // another namespace's organization (QBO redirected anyway, and the push failed after the whole build ran).
    if (!isAllowedNamespace(destNamespace, s))
      return allowOrDropMark(build, 'cross-namespace output to an unmanaged namespace', [
        `quay-bridge: ${describeBuild(namespace, build)} outputs to namespace ${destNamespace}, which quay-bridge ` +
          'does not manage; it was not redirected to Quay',
      ]);
    return deny(
      403,
      `quay-bridge cannot push ${describeBuild(namespace, build)} to ImageStreamTag ${destNamespace}/${imageStream}:${tag}: ` +
        `the builder robot of namespace ${namespace} has no rights in the Quay organization of namespace ` +
        `${destNamespace}. Output to an ImageStreamTag of ${namespace}, or to a DockerImage with a pushSecret of your own`,
      'cross-namespace output',
    );
  }

  return pipe(
    organizationName(s.organizationPrefix, namespace),
    E.match(
      (invalid) =>
        deny(
          403,
          `quay-bridge cannot redirect this Build to Quay: ${invalid.message}`,
          'invalid organization',
        ),
      (org): Plan => {
        const image = `${s.quay.registryHost}/${org}/${imageStream}:${tag}`;
        const destination = formatDestination({ namespace, imageStream, tag });
        const secret = { namespace, name: robotSecretName('builder', s.clusterID) };
        return {
          _tag: 'Redirect',
          ops: redirectOps(build, to, image, destination, secret.name),
          secret,
          destination,
          image,
        };
      },
    ),
  );
};

/** QBO's patch order, plus the pushSecret (docs/qbo-compatibility.md#improvements) and an annotations map when the Build has none (docs/qbo-compatibility.md#b6). */
const redirectOps = (
  build: Build,
  to: NonNullable<ReturnType<typeof outputOf>>,
  image: string,
  destination: string,
  pushSecret: string,
): JsonPatchOp[] => {
  const ops: JsonPatchOp[] = [
    { op: 'replace', path: '/spec/output/to/kind', value: 'DockerImage' },
    { op: 'replace', path: '/spec/output/to/name', value: image },
  ];
  // The API server refuses a namespace on a DockerImage output (QBO #39 / PROJQUAY-2898).
  if ('namespace' in to) ops.push({ op: 'remove', path: '/spec/output/to/namespace' });
  // Explicit, so that a pushSecret the BuildConfig generator resolved for the internal registry is not used.
  ops.push({ op: 'add', path: '/spec/output/pushSecret', value: { name: pushSecret } });
  if (build.metadata.annotations == null) {
    ops.push({
      op: 'add',
      path: '/metadata/annotations',
      value: { [BUILD_ANNOTATIONS.managed]: 'true', [BUILD_ANNOTATIONS.destination]: destination },
    });
  } else {
    ops.push(
      { op: 'add', path: annotationPath(BUILD_ANNOTATIONS.managed), value: 'true' },
      { op: 'add', path: annotationPath(BUILD_ANNOTATIONS.destination), value: destination },
      ...dropImportedMark(build),
    );
  }
  return ops;
};

/** Whether the builder robot's Secret exists; `unknown` when the check itself failed. */
export type SecretPresence =
  | { readonly _tag: 'Present' }
  | { readonly _tag: 'Absent' }
  | { readonly _tag: 'Unknown'; readonly message: string };

export const decide = (p: Plan, secret: SecretPresence): Decision => {
  if (p._tag === 'Final') return p.decision;
  switch (secret._tag) {
    case 'Present':
      return { _tag: 'Mutate', ops: p.ops, warnings: [] };
    case 'Absent':
      return {
        _tag: 'Deny',
        code: 403,
        message: `${NOT_PROVISIONED}: Secret ${p.secret.namespace}/${p.secret.name} does not exist; retry once quay-bridge has provisioned the namespace`,
      };
    // The check could not be made (API server slow or down). Redirect anyway: the build pod waits for the Secret
    // to mount rather than the user being refused for the bridge's own trouble.
    case 'Unknown':
      return {
        _tag: 'Mutate',
        ops: p.ops,
        warnings: [
          `quay-bridge could not check that Secret ${p.secret.namespace}/${p.secret.name} exists (${secret.message}); ` +
            'the build waits for it',
        ],
      };
  }
};
