// The parts of an OpenShift Build (build.openshift.io/v1) that the webhook and the build step read, as non-exact
// codecs: unknown fields survive decoding and nothing here is ever re-encoded to write (writes are patches).
// Field names from openshift/api build/v1/types.go.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { BUILD_ANNOTATIONS } from './names.js';

const nullable = <C extends t.Mixed>(codec: C) => t.union([codec, t.null]);

/** corev1.ObjectReference as a Build output uses it; every field is optional in the API. */
export const OutputReference = t.partial(
  { kind: t.string, name: t.string, namespace: nullable(t.string) },
  'ObjectReference',
);
export type OutputReference = t.TypeOf<typeof OutputReference>;

export const BuildOutput = t.partial({
  to: nullable(OutputReference),
  pushSecret: nullable(t.partial({ name: t.string })),
});

/** Only presence matters: QBO redirects Docker and Source (S2I) builds, never Custom or JenkinsPipeline ones. */
export const BuildStrategy = t.partial({
  type: t.string,
  dockerStrategy: t.unknown,
  sourceStrategy: t.unknown,
});

export const BuildMetadata = t.partial(
  {
    // Empty at admission time when the Build is created with generateName.
    name: t.string,
    generateName: t.string,
    namespace: t.string,
    uid: t.string,
    resourceVersion: t.string,
    annotations: nullable(t.record(t.string, t.string)),
  },
  'ObjectMeta',
);

export const Build = t.intersection([
  t.type({ metadata: BuildMetadata }),
  t.partial({
    apiVersion: t.string,
    kind: t.string,
    spec: nullable(t.partial({ strategy: nullable(BuildStrategy), output: nullable(BuildOutput) })),
    status: nullable(
      t.partial({
        phase: t.string,
        output: nullable(t.partial({ to: nullable(t.partial({ imageDigest: t.string })) })),
      }),
    ),
  }),
]);
export type Build = t.TypeOf<typeof Build>;

export type BuildPhase = 'New' | 'Pending' | 'Running' | 'Complete' | 'Failed' | 'Error' | 'Cancelled';

export const annotationsOf = (b: Build): Readonly<Record<string, string>> => b.metadata.annotations ?? {};

export const outputOf = (b: Build): OutputReference | undefined => b.spec?.output?.to ?? undefined;

/** QBO's test: the strategy carries a dockerStrategy or a sourceStrategy (whatever `type` says). */
export const isDockerOrSource = (b: Build): boolean => {
  const s = b.spec?.strategy;
  return s != null && (s.dockerStrategy != null || s.sourceStrategy != null);
};

export const digestOf = (b: Build): string | undefined => {
  const d = b.status?.output?.to?.imageDigest;
  return d === undefined || d === '' ? undefined : d;
};

export const describeBuild = (namespace: string, b: Build): string =>
  `Build ${namespace}/${b.metadata.name ?? `${b.metadata.generateName ?? ''}<generated>`}`;

export interface ImageStreamTagName {
  readonly imageStream: string;
  readonly tag: string;
}

/**
 * `<imagestream>[:<tag>]`; the tag defaults to `latest` as OpenShift's does (QBO panicked without one: docs/qbo-compatibility.md#b6).
 * Anything else (empty parts, a second `:`, a digest) is refused with the reason.
 */
export const parseImageStreamTag = (name: string): E.Either<string, ImageStreamTagName> => {
  const colon = name.indexOf(':');
  const imageStream = colon === -1 ? name : name.slice(0, colon);
  const tag = colon === -1 ? 'latest' : name.slice(colon + 1);
  if (imageStream === '') return E.left(`ImageStreamTag name "${name}" has no image stream name`);
  if (tag === '') return E.left(`ImageStreamTag name "${name}" has an empty tag`);
  if (tag.includes(':') || /[@/]/.test(name))
    return E.left(`ImageStreamTag name "${name}" is not of the form <imagestream>:<tag>`);
  return E.right({ imageStream, tag });
};

export interface Destination extends ImageStreamTagName {
  readonly namespace: string;
}

/** The destination annotation's value, `<namespace>/<imagestream>:<tag>`. */
export const formatDestination = (d: Destination): string => `${d.namespace}/${d.imageStream}:${d.tag}`;

/** QBO's reading of the destination annotation: exactly one `/`, then exactly one `:`. */
export const parseDestination = (value: string): E.Either<string, Destination> => {
  const parts = value.split('/');
  const [namespace, rest] = parts;
  if (parts.length !== 2 || namespace === undefined || namespace === '' || rest === undefined)
    return E.left(
      `annotation ${BUILD_ANNOTATIONS.destination}="${value}" is not <namespace>/<imagestream>:<tag>`,
    );
  const nameTag = rest.split(':');
  const [imageStream, tag] = nameTag;
  if (
    nameTag.length !== 2 ||
    imageStream === undefined ||
    imageStream === '' ||
    tag === undefined ||
    tag === ''
  )
    return E.left(
      `annotation ${BUILD_ANNOTATIONS.destination}="${value}" is not <namespace>/<imagestream>:<tag>`,
    );
  return E.right({ namespace, imageStream, tag });
};

/**
 * The repository part of a docker reference: `host[:port]/org/repo:tag` → `host[:port]/org/repo`. A `:` only
 * starts a tag after the last `/` (before it, it is the registry port); a `@digest` is dropped likewise.
 */
export const repositoryOf = (reference: string): string => {
  const at = reference.indexOf('@');
  const noDigest = at === -1 ? reference : reference.slice(0, at);
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
};
