// The token's own user (docs/quay-api.md#current-user): the one call that validates a token without side effects.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { decodeBody, UserView } from './codecs.js';
import { failureOf } from './errors.js';
import { paths } from './paths.js';
import { get, send, type QuayOp } from './request.js';
import type { CurrentUser } from './types.js';

/** Without user:read Quay answers 401 invalid_token even for a valid token (docs/quay-api.md#scopes): it surfaces as QuayAuthFailed. */
export const currentUser = (): QuayOp<CurrentUser> =>
  pipe(
    send(get(paths.currentUser())),
    RTE.flatMapEither((res) =>
      res.status === 200
        ? pipe(
            decodeBody(UserView)(res),
            E.map((view) => ({
              username: view.username,
              superUser: view.super_user === true,
              organizations: (view.organizations ?? []).map((o) => o.name),
            })),
          )
        : E.left(failureOf(res)),
    ),
  );
