// One io-ts codec per Quay response body the client reads, shaped on the recorded answers of a real Quay
// (test/fixtures/quay/golden-exchanges.json). They are not exact: Quay adds fields with feature flags and
// versions (avatars, quotas, immutable, …), and a field we do not read must never make a response fail.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { formatDecodeError } from '../codec.js';
import { RobotRoleCodec } from '../settings/quay-integration.js';
import { describeBody, invalidBody } from './errors.js';
import type { QuayResponse } from './request.js';
import type { QuayError } from './types.js';

/** GET /api/v1/user/. `super_user` is only sent for superusers, `organizations` only with user:read. */
export const UserView = t.intersection([
  t.type({ username: t.string }),
  t.partial({ super_user: t.boolean, organizations: t.readonlyArray(t.type({ name: t.string })) }),
]);
export type UserView = t.TypeOf<typeof UserView>;

/** GET /api/v1/organization/{org}; everyone, even anonymous, gets at least these fields. */
export const OrganizationView = t.type({ name: t.string });
export type OrganizationView = t.TypeOf<typeof OrganizationView>;

/** The same, with what ownership needs: `email` is "" unless the caller is an admin (docs/quay-api.md#organizations). */
export const OrganizationOwnerView = t.intersection([
  t.type({ name: t.string }),
  t.partial({ email: t.string, is_admin: t.boolean }),
]);

// Quay stores no description as "", but its robot model allows NULL.
const Description = t.union([t.string, t.null]);

/** A robot with its token: robot PUT (201), GET and regenerate, which Quay answers only to org admins. */
export const RobotView = t.type({ name: t.string, description: Description, token: t.string });
export type RobotView = t.TypeOf<typeof RobotView>;

/** GET …/robots: the token is left out for callers who are members but not admins of the organization (docs/quay-api.md#scopes). */
export const RobotList = t.type({
  robots: t.readonlyArray(
    t.intersection([t.type({ name: t.string, description: Description }), t.partial({ token: t.string })]),
  ),
});
export type RobotList = t.TypeOf<typeof RobotList>;

const UserDelegate = t.type({ kind: t.literal('user'), name: t.string, is_robot: t.boolean });
const TeamDelegate = t.type({ kind: t.literal('team'), name: t.string });

/** A default permission; `activating_user` null means it applies whoever creates the repository. */
export const PrototypeView = t.intersection([
  t.type({ id: t.string, role: RobotRoleCodec, delegate: t.union([UserDelegate, TeamDelegate]) }),
  t.partial({ activating_user: t.union([t.null, t.type({ name: t.string })]) }),
]);
export type PrototypeView = t.TypeOf<typeof PrototypeView>;

export const PrototypeList = t.type({ prototypes: t.readonlyArray(PrototypeView) });
export type PrototypeList = t.TypeOf<typeof PrototypeList>;

/** GET /api/v1/repository/{repo}. */
export const RepositoryView = t.intersection([
  t.type({ namespace: t.string, name: t.string, is_public: t.boolean }),
  t.partial({ description: t.union([t.string, t.null]) }),
]);
export type RepositoryView = t.TypeOf<typeof RepositoryView>;

/** POST /api/v1/repository answers 201 {"namespace","name","kind"}. */
export const CreatedRepository = t.type({ namespace: t.string, name: t.string });
export type CreatedRepository = t.TypeOf<typeof CreatedRepository>;

/** GET /api/v1/repository?namespace=…; `next_page` is present while more pages exist (100 per page). */
export const RepositoryList = t.intersection([
  t.type({ repositories: t.readonlyArray(t.type({ namespace: t.string, name: t.string })) }),
  t.partial({ next_page: t.string }),
]);
export type RepositoryList = t.TypeOf<typeof RepositoryList>;

/** One user or robot permission on a repository (PUT …/permissions/user/{name}, and the values of the list). */
export const UserPermissionView = t.type({ role: RobotRoleCodec, name: t.string });
export type UserPermissionView = t.TypeOf<typeof UserPermissionView>;

/** GET …/permissions/user/: keyed by user or robot name. */
export const UserPermissions = t.type({ permissions: t.record(t.string, UserPermissionView) });
export type UserPermissions = t.TypeOf<typeof UserPermissions>;

/** GET …/tag/?page=N: page numbers plus has_additional, no token (docs/quay-api.md#tags). */
export const TagList = t.type({
  tags: t.readonlyArray(t.type({ name: t.string, manifest_digest: t.string })),
  page: t.number,
  has_additional: t.boolean,
});
export type TagList = t.TypeOf<typeof TagList>;

/** A tag's history (`specificTag`): ended versions carry `end_ts`. */
export const TagHistory = t.type({
  tags: t.readonlyArray(
    t.intersection([t.type({ name: t.string, manifest_digest: t.string }), t.partial({ end_ts: t.number })]),
  ),
});

/** The response's JSON body as A, or QuayResponseInvalid naming each field that failed (never echoing a value). */
export const decodeBody =
  <A>(codec: t.Decoder<unknown, A>) =>
  (res: QuayResponse): E.Either<QuayError, A> =>
    res.body === undefined
      ? E.left(invalidBody(res, `it is not JSON but ${describeBody(res)}`))
      : pipe(
          codec.decode(res.body),
          E.mapLeft((errors) => invalidBody(res, formatDecodeError(errors))),
        );
