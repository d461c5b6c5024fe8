// Organizations (docs/quay-api.md#organizations).
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { decodeBody, OrganizationOwnerView, OrganizationView } from './codecs.js';
import { answered, failureOf } from './errors.js';
import { paths } from './paths.js';
import { del, get, post, put, send, type QuayOp, type QuayResponse } from './request.js';
import type { Change, QuayError } from './types.js';

export const getOrganization = (org: string): QuayOp<O.Option<{ readonly name: string }>> =>
  pipe(
    send(get(paths.organization(org))),
    RTE.flatMapEither((res) => {
      switch (res.status) {
        case 200:
          return pipe(
            decodeBody(OrganizationView)(res),
            E.map((view) => O.some({ name: view.name })),
          );
        // GET has no permission check (docs/quay-api.md#organizations), so 404 really means "no such organization".
        case 404:
          return E.right(O.none);
        default:
          return E.left(failureOf(res));
      }
    }),
  );

/** The organization's e-mail (where quay-bridge keeps its mark: shared/ownership.ts) and whether the token's user
 *  administers it; none when there is no such organization. */
export const getOrganizationOwner = (
  org: string,
): QuayOp<O.Option<{ readonly email: string; readonly isAdmin: boolean }>> =>
  pipe(
    send(get(paths.organization(org))),
    RTE.flatMapEither((res) => {
      switch (res.status) {
        case 200:
          return pipe(
            decodeBody(OrganizationOwnerView)(res),
            E.map((view) => O.some({ email: view.email ?? '', isAdmin: view.is_admin ?? false })),
          );
        case 404:
          return E.right(O.none);
        default:
          return E.left(failureOf(res));
      }
    }),
  );

/** Sets the organization's e-mail (an adoption writes the mark there); 200 is done. */
export const setOrganizationEmail = (org: string, email: string): QuayOp<Change> =>
  pipe(
    send(put(paths.organization(org), { email })),
    RTE.flatMapEither((res) =>
      res.status === 200 ? E.right<QuayError, Change>('updated') : E.left(failureOf(res)),
    ),
  );

/**
 * Quay answers 403, not 404, to most calls about an organization that does not exist, because the permission check
 * runs first (docs/quay-api.md#organizations, docs/quay-api.md#robots). After such a 403 this asks the one call that tells: left(the 403) when the organization
 * exists (a real refusal), right(undefined) when it does not.
 */
export const unlessOrganizationMissing =
  (org: string) =>
  (forbidden: QuayResponse): QuayOp<undefined> =>
    pipe(
      getOrganization(org),
      RTE.flatMapEither(
        O.match(
          () => E.right(undefined),
          () => E.left<QuayError, undefined>(failureOf(forbidden)),
        ),
      ),
    );

/**
 * POST straight away, without a GET first: the answer tells whether it was created. An organization that exists is
 * `unchanged`. The name of a deleted organization stays taken until Quay's namespace GC ran and gives
 * 400 "Username is not available" (docs/quay-api.md#lifecycle), which is left to the caller as QuayRejected.
 */
export const ensureOrganization = (org: string, email?: string): QuayOp<Change> =>
  pipe(
    // QBO's email; Quay stores a random one if none is given, but QBO-made organizations all carry this one.
    send(post(paths.organizations(), { name: org, email: email ?? `${org}@redhat.com` })),
    RTE.flatMapEither((res) => {
      if (res.status === 201) return E.right<QuayError, Change>('created');
      if (answered(res, 400, /already exists/i)) return E.right<QuayError, Change>('unchanged');
      return E.left(failureOf(res));
    }),
  );

/**
 * 204 is deleted; the 403 Quay gives for an organization that is already gone is `unchanged` (checked, see above).
 * Quay deletes the organization's robots with the same unescaped `ILIKE '<org>+%'` it lists them with (robots.ts):
 * deleting `c1_ns` also deletes the robots of an organization `c1-ns`. No call of the API avoids that; bridge
 * organizations never collide this way (prefix and namespace have no "_"), other organizations can.
 */
export const deleteOrganization = (org: string): QuayOp<Change> =>
  pipe(
    send(del(paths.organization(org))),
    RTE.flatMap((res): QuayOp<Change> => {
      if (res.status === 204) return RTE.right('deleted');
      // Superusers with FEATURE_SUPERUSERS_FULL_ACCESS pass the permission check and get the 404 (docs/quay-api.md#superusers).
      if (res.status === 404) return RTE.right('unchanged');
      if (res.status === 403) return pipe(unlessOrganizationMissing(org)(res), RTE.as<Change>('unchanged'));
      return RTE.left(failureOf(res));
    }),
  );
