// What can go wrong talking to the Kubernetes API server, as tagged values (see ../errors.ts for the answers).

/** Network error, timeout, 5xx or 429: transient. */
export interface KubeUnavailable {
  readonly _tag: 'KubeUnavailable';
  readonly status: number | undefined;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}
/** 409: a precondition (resourceVersion, uid) failed or the object already exists. */
export interface KubeConflict {
  readonly _tag: 'KubeConflict';
  readonly message: string;
}
/** 404 for an object: the API exists, the object does not. */
export interface KubeNotFound {
  readonly _tag: 'KubeNotFound';
  readonly message: string;
}
/**
 * 404 for the path itself: the cluster does not serve this API (no ImageStream or Build off OpenShift, a CRD not
 * installed). Not an error of the event or the bridge: there is nothing to do for that kind.
 */
export interface KubeNotServed {
  readonly _tag: 'KubeNotServed';
  readonly message: string;
}
/** 401 or 403: the bridge's own RBAC or credentials are wrong. */
export interface KubeForbidden {
  readonly _tag: 'KubeForbidden';
  readonly status: number | undefined;
  readonly message: string;
}
/** Any other 4xx (400, 410, 415, 422 …): the request itself was refused. */
export interface KubeRejected {
  readonly _tag: 'KubeRejected';
  readonly status: number | undefined;
  readonly message: string;
}
/** The API server answered, but not with the object the bridge can read. */
export interface KubeResponseInvalid {
  readonly _tag: 'KubeResponseInvalid';
  readonly message: string;
}

export type KubeError =
  | KubeUnavailable
  | KubeConflict
  | KubeNotFound
  | KubeNotServed
  | KubeForbidden
  | KubeRejected
  | KubeResponseInvalid;

/**
 * A 404 whose body is not a metav1.Status: the API server's answer for a path no API serves ("404 page not found",
 * text/plain, from its NotFoundHandler). An object that does not exist in a served API is a Status with reason
 * NotFound.
 */
export const isNotServed = (status: number, body: string): boolean => {
  if (status !== 404) return false;
  try {
    const parsed = JSON.parse(body) as { kind?: unknown } | null;
    return parsed?.kind !== 'Status';
  } catch {
    return true;
  }
};

export const kubeErrorOfStatus = (status: number, message: string, retryAfterSeconds?: number): KubeError => {
  if (status === 404) return { _tag: 'KubeNotFound', message };
  if (status === 409) return { _tag: 'KubeConflict', message };
  if (status === 401 || status === 403) return { _tag: 'KubeForbidden', status, message };
  if (status === 429 || status >= 500)
    return retryAfterSeconds === undefined
      ? { _tag: 'KubeUnavailable', status, message }
      : { _tag: 'KubeUnavailable', status, message, retryAfterSeconds };
  return { _tag: 'KubeRejected', status, message };
};

export const isKubeError = (e: { readonly _tag: string }): e is KubeError => e._tag.startsWith('Kube');
