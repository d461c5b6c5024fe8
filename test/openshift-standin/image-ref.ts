// Container image references (`[registry/]path[:tag][@digest]`) and the digests the stand-in makes up for builds.
import { createHash } from 'node:crypto';

export interface ImageRef {
  /** Registry and path, e.g. `quay.example.com:8443/openshift_team-a/app`. */
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

const digestPattern = /^sha256:[0-9a-f]{64}$/;

/** Splits a reference; `undefined` when it has no repository or a malformed digest. */
export const parseImageRef = (ref: string): ImageRef | undefined => {
  const at = ref.indexOf('@');
  const named = at < 0 ? ref : ref.slice(0, at);
  const digest = at < 0 ? undefined : ref.slice(at + 1);
  if (digest !== undefined && !digestPattern.test(digest)) return undefined;
  // A colon after the last slash separates the tag; one before it belongs to a registry port.
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const repository = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : undefined;
  if (repository === '' || /\s/.test(ref) || tag === '') return undefined;
  return { repository, tag, digest };
};

/** `repository:tag` (tag `latest` when there is none): the key under which a pushed image is found again. */
export const taggedName = (ref: ImageRef): string => `${ref.repository}:${ref.tag ?? 'latest'}`;

export const byDigest = (repository: string, digest: string): string => `${repository}@${digest}`;

/**
 * The digest the stand-in reports for the image a Build pushed: deterministic, derived from the output reference
 * and the Build's namespace/name, so two builds of the same tag yield different digests (as real builds do) and a
 * test can compute what to expect.
 */
export const buildImageDigest = (outputRef: string, build: { namespace: string; name: string }): string =>
  `sha256:${createHash('sha256').update(`${outputRef}\n${build.namespace}/${build.name}`).digest('hex')}`;
