// What the stand-in reads of the objects it drives: non-exact io-ts codecs (unknown fields pass through and are
// never written back; writes are explicit patches).
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';

const nullableString = t.union([t.string, t.null]);

export const ObjectMeta = t.intersection([
  t.type({ name: t.string }),
  t.partial({
    namespace: t.string,
    uid: t.string,
    resourceVersion: t.string,
    generation: t.number,
    creationTimestamp: nullableString,
    deletionTimestamp: nullableString,
    annotations: t.record(t.string, t.string),
  }),
]);
export type ObjectMeta = t.TypeOf<typeof ObjectMeta>;

export const ObjectReference = t.partial({ kind: t.string, name: t.string, namespace: t.string });
export type ObjectReference = t.TypeOf<typeof ObjectReference>;

export const Namespace = t.intersection([
  t.type({ metadata: ObjectMeta }),
  t.partial({ status: t.partial({ phase: t.string }) }),
]);
export type Namespace = t.TypeOf<typeof Namespace>;

const LocalObjectReference = t.type({ name: t.string });

export const ServiceAccount = t.intersection([
  t.type({ metadata: ObjectMeta }),
  t.partial({
    secrets: t.array(t.partial({ name: t.string })),
    imagePullSecrets: t.array(LocalObjectReference),
  }),
]);
export type ServiceAccount = t.TypeOf<typeof ServiceAccount>;

export const Build = t.intersection([
  t.type({ metadata: ObjectMeta }),
  t.partial({
    spec: t.partial({
      output: t.partial({
        to: t.union([ObjectReference, t.null]),
        pushSecret: t.union([LocalObjectReference, t.null]),
      }),
    }),
    status: t.partial({
      phase: t.string,
      cancelled: t.boolean,
      reason: t.string,
      message: t.string,
      startTimestamp: nullableString,
      outputDockerImageReference: t.string,
    }),
  }),
]);
export type Build = t.TypeOf<typeof Build>;

export const TagImportPolicy = t.partial({ insecure: t.boolean, scheduled: t.boolean, importMode: t.string });
export type TagImportPolicy = t.TypeOf<typeof TagImportPolicy>;
export const TagReferencePolicy = t.type({ type: t.string });
export type TagReferencePolicy = t.TypeOf<typeof TagReferencePolicy>;

export const TagReference = t.intersection([
  t.type({ name: t.string }),
  t.partial({
    annotations: t.union([t.record(t.string, t.string), t.null]),
    from: ObjectReference,
    reference: t.boolean,
    generation: t.union([t.number, t.null]),
    importPolicy: TagImportPolicy,
    referencePolicy: TagReferencePolicy,
  }),
]);
export type TagReference = t.TypeOf<typeof TagReference>;

export const TagEvent = t.partial({
  created: t.string,
  dockerImageReference: t.string,
  image: t.string,
  generation: t.number,
});
export type TagEvent = t.TypeOf<typeof TagEvent>;

export const TagEventCondition = t.intersection([
  t.type({ type: t.string, status: t.string }),
  t.partial({ lastTransitionTime: t.string, reason: t.string, message: t.string, generation: t.number }),
]);
export type TagEventCondition = t.TypeOf<typeof TagEventCondition>;

export const NamedTagEventList = t.intersection([
  t.type({ tag: t.string }),
  t.partial({ items: t.union([t.array(TagEvent), t.null]), conditions: t.array(TagEventCondition) }),
]);
export type NamedTagEventList = t.TypeOf<typeof NamedTagEventList>;

export const ImageStream = t.intersection([
  t.type({ metadata: ObjectMeta }),
  t.partial({
    spec: t.partial({ tags: t.array(TagReference) }),
    status: t.partial({ tags: t.array(NamedTagEventList) }),
  }),
]);
export type ImageStream = t.TypeOf<typeof ImageStream>;

export const ImageImportSpec = t.intersection([
  t.type({ from: ObjectReference }),
  t.partial({
    to: t.partial({ name: t.string }),
    importPolicy: TagImportPolicy,
    referencePolicy: TagReferencePolicy,
  }),
]);
export type ImageImportSpec = t.TypeOf<typeof ImageImportSpec>;

export const ImageStreamImport = t.intersection([
  t.type({ metadata: ObjectMeta }),
  t.partial({
    spec: t.partial({
      import: t.boolean,
      repository: t.unknown,
      images: t.array(ImageImportSpec),
    }),
  }),
]);
export type ImageStreamImport = t.TypeOf<typeof ImageStreamImport>;

/** Decodes or throws: the API server handed over something its own schema should have refused (a bug). */
export const decodeOrThrow =
  <A>(codec: t.Decoder<unknown, A>, what: string) =>
  (u: unknown): A => {
    const r = codec.decode(u);
    if (r._tag === 'Right') return r.right;
    throw new Error(`${what} does not decode: ${PathReporter.report(r).slice(0, 3).join('; ')}`);
  };
