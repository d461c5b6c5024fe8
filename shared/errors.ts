// Every way a sync step can fail, as tagged values. They are turned into an HTTP answer for the broker in exactly
// one place (answer.ts); nothing else decides whether an event is retried.
import type { QuayError } from './quay/types.js';
import type { KubeError } from './kube/errors.js';

/** The CloudEvent or its data cannot be understood: retrying the same bytes can never succeed. */
export interface BadEvent {
  readonly _tag: 'BadEvent';
  readonly message: string;
}

/**
 * No usable QuayIntegration (none, several, undecodable, unusable quayHostname), or its credentials are missing or
 * refused. Not the event's fault and not transient: the QuayIntegration's status says why, and the resync step that
 * its next change triggers picks every object up again.
 */
export interface NotConfigured {
  readonly _tag: 'NotConfigured';
  readonly reason: string;
  readonly message: string;
}

/** The object's derived Quay name is invalid (e.g. a namespace too long for an organization name). */
export interface InvalidName {
  readonly _tag: 'InvalidName';
  readonly message: string;
}

/**
 * The organization a namespace maps to is not this cluster's (squatted, another cluster's, or unmarked and not
 * adopted: shared/ownership.ts). Never used, never deleted; reported, and not retried: an adoption or the
 * organization's removal is a person's act, which the next resync picks up.
 */
export interface NotOurs {
  readonly _tag: 'NotOurs';
  readonly org: string;
  readonly namespace: string;
  readonly message: string;
}

export type SyncError = BadEvent | NotConfigured | InvalidName | NotOurs | KubeError | QuayError;

export const badEvent = (message: string): SyncError => ({ _tag: 'BadEvent', message });
export const notConfigured = (reason: string, message: string): SyncError => ({
  _tag: 'NotConfigured',
  reason,
  message,
});
export const invalidName = (message: string): SyncError => ({ _tag: 'InvalidName', message });
export const notOurs = (org: string, namespace: string, message: string): SyncError => ({
  _tag: 'NotOurs',
  org,
  namespace,
  message,
});

/** One line for logs and answer bodies; never contains a token (no error carries one). */
export const describeError = (e: SyncError): string => {
  switch (e._tag) {
    case 'QuayRateLimited':
      return `Quay rate limited the bridge${e.retryAfterSeconds === undefined ? '' : ` (retry after ${e.retryAfterSeconds}s)`}`;
    case 'QuayUnavailable':
    case 'QuayAuthFailed':
    case 'QuayRejected':
    case 'QuayResponseInvalid':
      return `${e._tag} (HTTP ${e.status}): ${e.message}`;
    case 'KubeUnavailable':
    case 'KubeForbidden':
    case 'KubeRejected':
      return `${e._tag}${e.status === undefined ? '' : ` (HTTP ${e.status})`}: ${e.message}`;
    case 'BadEvent':
    case 'NotConfigured':
    case 'InvalidName':
    case 'NotOurs':
    case 'QuayUnreachable':
    case 'KubeConflict':
    case 'KubeNotFound':
    case 'KubeNotServed':
    case 'KubeResponseInvalid':
      return `${e._tag}: ${e.message}`;
  }
};
