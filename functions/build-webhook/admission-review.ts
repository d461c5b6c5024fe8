// admission.k8s.io/v1 AdmissionReview: the request the API server sends and the answer it expects.
// https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#request
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { formatDecodeError } from '../../shared/codec.js';
import type { JsonPatchOp } from '../../shared/kube/client.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

interface NonEmptyBrand {
  readonly NonEmpty: unique symbol;
}
const NonEmptyString = t.brand(t.string, (s): s is t.Branded<string, NonEmptyBrand> => s !== '', 'NonEmpty');

export const GroupVersionKind = t.type({ group: t.string, version: t.string, kind: t.string });

export const AdmissionRequest = t.intersection([
  t.type({ uid: NonEmptyString, kind: GroupVersionKind, operation: t.string }),
  t.partial({
    namespace: t.string,
    name: t.string,
    subResource: t.string,
    dryRun: t.boolean,
    object: t.unknown,
    userInfo: t.partial({ username: t.string }),
  }),
]);
export type AdmissionRequest = t.TypeOf<typeof AdmissionRequest>;

const AdmissionReview = t.type({
  apiVersion: t.literal(ADMISSION_API_VERSION),
  kind: t.literal('AdmissionReview'),
  request: AdmissionRequest,
});

export interface BadReview {
  readonly _tag: 'BadReview';
  readonly message: string;
}
const badReview = (message: string): BadReview => ({ _tag: 'BadReview', message });

/** The request of an admission.k8s.io/v1 AdmissionReview, or one sentence saying why the body is not one. */
export const parseReview = (body: string): E.Either<BadReview, AdmissionRequest> => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    return E.left(badReview(`the body is not JSON: ${e instanceof Error ? e.message : String(e)}`));
  }
  return pipe(
    AdmissionReview.decode(json),
    E.bimap(
      (errors) =>
        badReview(
          `the body is not an ${ADMISSION_API_VERSION} AdmissionReview with a request (this webhook is registered ` +
            `with admissionReviewVersions [v1]): ${formatDecodeError(errors)}`,
        ),
      (review) => review.request,
    ),
  );
};

/** What the webhook decided for one request. */
export type Decision =
  | { readonly _tag: 'Allow'; readonly warnings: readonly string[] }
  | { readonly _tag: 'Mutate'; readonly ops: readonly JsonPatchOp[]; readonly warnings: readonly string[] }
  | { readonly _tag: 'Deny'; readonly code: number; readonly message: string };

const reason = (code: number): string => {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 403:
      return 'Forbidden';
    case 413:
      return 'RequestEntityTooLarge';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'ServiceUnavailable';
    default:
      return 'Invalid';
  }
};

/** The AdmissionReview answered for `uid`. */
export const reviewAnswer = (uid: string, d: Decision): object => {
  const response = ((): object => {
    switch (d._tag) {
      case 'Allow':
        return { uid, allowed: true, ...(d.warnings.length > 0 ? { warnings: d.warnings } : {}) };
      case 'Mutate':
        return {
          uid,
          allowed: true,
          patchType: 'JSONPatch',
          patch: Buffer.from(JSON.stringify(d.ops)).toString('base64'),
          ...(d.warnings.length > 0 ? { warnings: d.warnings } : {}),
        };
      case 'Deny':
        return {
          uid,
          allowed: false,
          status: { status: 'Failure', code: d.code, reason: reason(d.code), message: d.message },
        };
    }
  })();
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
};

/** A metav1.Status body for HTTP answers that are not an AdmissionReview (malformed requests, wrong path). */
export const statusBody = (code: number, message: string): object => ({
  apiVersion: 'v1',
  kind: 'Status',
  status: 'Failure',
  code,
  reason: reason(code),
  message,
});
