// What an ImageStreamImport does, as pure functions: which tags it imports, how the ImageStream's spec and status
// tags change, and what the import reports back per image. The effects live in import-webhook.ts.
import { byDigest, parseImageRef, type ImageRef } from './image-ref.js';
import type {
  ImageImportSpec,
  ImageStreamImport,
  NamedTagEventList,
  TagEvent,
  TagEventCondition,
  TagReference,
} from './objects.js';

export interface ImportTarget {
  readonly tag: string;
  readonly spec: ImageImportSpec;
  readonly ref: ImageRef;
}

export interface FieldCause {
  readonly field: string;
  readonly message: string;
}

export type ImportRequest =
  | { readonly kind: 'invalid'; readonly causes: readonly FieldCause[] }
  | { readonly kind: 'valid'; readonly import: boolean; readonly targets: readonly ImportTarget[] };

export interface ImportFailure {
  readonly reason: string;
  readonly message: string;
  readonly code: number;
}

export type Resolution =
  | { readonly kind: 'resolved'; readonly digest: string }
  | { readonly kind: 'failed'; readonly failure: ImportFailure };

export interface ImportResult {
  readonly target: ImportTarget;
  readonly resolution: Resolution;
}

/** Validates an import the way OpenShift's API server would refuse it (422), and names its targets. */
export const readImportRequest = (isi: ImageStreamImport): ImportRequest => {
  const spec = isi.spec ?? {};
  const causes: FieldCause[] = [];
  const targets: ImportTarget[] = [];
  if (spec.repository !== undefined && spec.repository !== null) {
    causes.push({
      field: 'spec.repository',
      message: 'the OpenShift stand-in does not import whole repositories; list spec.images instead',
    });
  }
  const images = spec.images ?? [];
  if (images.length === 0 && causes.length === 0)
    causes.push({ field: 'spec.images', message: 'Required value: at least one image to import' });
  images.forEach((image, i) => {
    const field = `spec.images[${i}].from`;
    if (image.from.kind !== 'DockerImage') {
      causes.push({
        field: `${field}.kind`,
        message: `Unsupported value: ${JSON.stringify(image.from.kind ?? '')}: supported values: "DockerImage"`,
      });
      return;
    }
    const ref = parseImageRef(image.from.name ?? '');
    if (ref === undefined) {
      causes.push({
        field: `${field}.name`,
        message: `Invalid value: ${JSON.stringify(image.from.name ?? '')}: not an image reference`,
      });
      return;
    }
    targets.push({ tag: image.to?.name ?? ref.tag ?? 'latest', spec: image, ref });
  });
  return causes.length > 0
    ? { kind: 'invalid', causes }
    : { kind: 'valid', import: spec.import === true, targets };
};

/** The spec tags after an import: each imported tag now tracks its source, at the given stream generation. */
export const specTagsAfterImport = (
  tags: readonly TagReference[],
  targets: readonly ImportTarget[],
  generation: number,
): TagReference[] => {
  const next = [...tags];
  for (const target of targets) {
    const at = next.findIndex((t) => t.name === target.tag);
    const entry: TagReference = {
      name: target.tag,
      annotations: at >= 0 ? (next[at]?.annotations ?? null) : null,
      from: { kind: 'DockerImage', name: target.spec.from.name ?? '' },
      generation,
      importPolicy: target.spec.importPolicy ?? {},
      referencePolicy: target.spec.referencePolicy ?? { type: 'Source' },
    };
    if (at >= 0) next[at] = entry;
    else next.push(entry);
  }
  return next;
};

const importSuccess = 'ImportSuccess';

/**
 * The status tags after an import: a success puts the image (by digest) at the head of the tag's history; a
 * failure keeps the history and records an ImportSuccess=False condition.
 */
export const statusTagsAfterImport = (
  tags: readonly NamedTagEventList[],
  results: readonly ImportResult[],
  generation: number,
  now: string,
): NamedTagEventList[] => {
  const next = [...tags];
  for (const { target, resolution } of results) {
    const at = next.findIndex((t) => t.tag === target.tag);
    const current: NamedTagEventList = at >= 0 ? (next[at] ?? { tag: target.tag }) : { tag: target.tag };
    const items: readonly TagEvent[] = current.items ?? [];
    const others: TagEventCondition[] = (current.conditions ?? []).filter((c) => c.type !== importSuccess);
    let entry: NamedTagEventList;
    if (resolution.kind === 'resolved') {
      const event: TagEvent = {
        created: now,
        dockerImageReference: byDigest(target.ref.repository, resolution.digest),
        image: resolution.digest,
        generation,
      };
      const head = items[0];
      const sameImage =
        head !== undefined &&
        head.image === event.image &&
        head.dockerImageReference === event.dockerImageReference;
      const { conditions: _dropped, ...rest } = current;
      entry = {
        ...rest,
        items: sameImage ? [{ ...head, generation }, ...items.slice(1)] : [event, ...items],
        ...(others.length > 0 ? { conditions: others } : {}),
      };
    } else {
      entry = {
        ...current,
        items: [...items],
        conditions: [
          ...others,
          {
            type: importSuccess,
            status: 'False',
            reason: resolution.failure.reason,
            message: resolution.failure.message,
            generation,
            lastTransitionTime: now,
          },
        ],
      };
    }
    if (at >= 0) next[at] = entry;
    else next.push(entry);
  }
  return next;
};

/** `status.images[]` of the ImageStreamImport, one per requested image, in order. */
export const importStatuses = (results: readonly ImportResult[]): object[] =>
  results.map(({ target, resolution }) =>
    resolution.kind === 'resolved'
      ? {
          status: { status: 'Success' },
          tag: target.tag,
          image: {
            metadata: { name: resolution.digest },
            dockerImageReference: byDigest(target.ref.repository, resolution.digest),
          },
        }
      : {
          status: {
            status: 'Failure',
            reason: resolution.failure.reason,
            message: resolution.failure.message,
            code: resolution.failure.code,
          },
          tag: target.tag,
        },
  );
