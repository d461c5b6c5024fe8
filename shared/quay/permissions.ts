// Direct user and robot permissions on a repository (docs/quay-api.md#repository-permissions).
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import type { RobotRole } from '../names.js';
import { decodeBody, UserPermissions, UserPermissionView } from './codecs.js';
import { answered, failureOf } from './errors.js';
import { paths } from './paths.js';
import { del, get, put, send, type QuayOp } from './request.js';
import type { Change, QuayError } from './types.js';

export const listRepositoryPermissions = (
  org: string,
  repo: string,
): QuayOp<ReadonlyMap<string, RobotRole>> =>
  pipe(
    send(get(paths.userPermissions(org, repo))),
    RTE.flatMapEither((res) =>
      res.status === 200
        ? pipe(
            decodeBody(UserPermissions)(res),
            E.map(
              (list) =>
                new Map(Object.entries(list.permissions).map(([name, p]) => [name, p.role])) as ReadonlyMap<
                  string,
                  RobotRole
                >,
            ),
          )
        : E.left(failureOf(res)),
    ),
  );

/**
 * Quay's PUT is an upsert that answers 200 with the new permission whatever was there before, so it cannot say
 * whether anything changed: this reports `updated`. Compare with listRepositoryPermissions first to skip the call.
 * Quay answers a PUT on a repository that does not exist with a 500 HTML page (docs/quay-api.md#repository-permissions).
 */
export const setRepositoryPermission = (
  org: string,
  repo: string,
  robotName: string,
  role: RobotRole,
): QuayOp<Change> =>
  pipe(
    send(put(paths.userPermission(org, repo, robotName), { role })),
    RTE.flatMapEither((res) =>
      res.status === 200
        ? pipe(decodeBody(UserPermissionView)(res), E.as<Change>('updated'))
        : E.left(failureOf(res)),
    ),
  );

/** A permission already gone is 400 "User does not have permission for repo." in Quay: `unchanged`. */
export const deleteRepositoryPermission = (org: string, repo: string, robotName: string): QuayOp<Change> =>
  pipe(
    send(del(paths.userPermission(org, repo, robotName))),
    RTE.flatMapEither((res) => {
      if (res.status === 204) return E.right<QuayError, Change>('deleted');
      if (answered(res, 400, /does not have permission/i)) return E.right<QuayError, Change>('unchanged');
      return E.left(failureOf(res));
    }),
  );
