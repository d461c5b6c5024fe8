// Robot accounts of an organization (docs/quay-api.md#robots). Quay's answers are not idempotent: a second PUT
// is 400 "Existing robot with name", a missing robot is 400 (not 404) "Could not find robot with specified username".
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as O from 'fp-ts/lib/Option.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import { decodeBody, RobotList, RobotView } from './codecs.js';
import { answered, failureOf } from './errors.js';
import { unlessOrganizationMissing } from './organizations.js';
import { paths } from './paths.js';
import { del, get, post, put, send, type QuayOp } from './request.js';
import type { Change, QuayError, Robot } from './types.js';

const ROBOT_NOT_FOUND = /could not find robot/i;
const ROBOT_EXISTS = /existing robot with name/i;

const toRobot = (view: { name: string; description: string | null; token: string }): Robot => ({
  name: view.name,
  token: view.token,
  description: view.description ?? '',
});

export const getRobot = (org: string, shortname: string): QuayOp<O.Option<Robot>> =>
  pipe(
    send(get(paths.robot(org, shortname))),
    RTE.flatMapEither((res) => {
      if (res.status === 200)
        return pipe(
          decodeBody(RobotView)(res),
          E.map((view) => O.some(toRobot(view))),
        );
      if (answered(res, 400, ROBOT_NOT_FOUND)) return E.right(O.none);
      return E.left(failureOf(res));
    }),
  );

type Ensured = { readonly robot: Robot; readonly change: Change };

/**
 * PUT first: for a new robot its 201 carries the token, so provisioning costs one call per robot. A robot that
 * exists costs a GET for its token. If the robot vanished between the two (deleted concurrently), the PUT is tried
 * once more.
 */
export const ensureRobot = (org: string, shortname: string, description: string): QuayOp<Ensured> =>
  createOrFetch(org, shortname, description, 1);

const createOrFetch = (
  org: string,
  shortname: string,
  description: string,
  retries: number,
): QuayOp<Ensured> =>
  pipe(
    send(put(paths.robot(org, shortname), { description })),
    RTE.flatMap((res): QuayOp<Ensured> => {
      if (res.status === 201)
        return RTE.fromEither(
          pipe(
            decodeBody(RobotView)(res),
            E.map((view) => ({ robot: toRobot(view), change: 'created' as const })),
          ),
        );
      if (answered(res, 400, ROBOT_EXISTS))
        return pipe(
          getRobot(org, shortname),
          RTE.flatMap(
            O.match(
              (): QuayOp<Ensured> =>
                retries > 0
                  ? createOrFetch(org, shortname, description, retries - 1)
                  : RTE.left({
                      _tag: 'QuayRejected',
                      status: 409,
                      message: `robot ${org}+${shortname} exists and then does not, repeatedly: something else is deleting it`,
                    }),
              (robot) => RTE.right({ robot, change: 'unchanged' }),
            ),
          ),
        );
      return RTE.left(failureOf(res));
    }),
  );

/** A robot already gone (400 "Could not find robot") or in an organization already gone (403) is `unchanged`. */
export const deleteRobot = (org: string, shortname: string): QuayOp<Change> =>
  pipe(
    send(del(paths.robot(org, shortname))),
    RTE.flatMap((res): QuayOp<Change> => {
      if (res.status === 204) return RTE.right('deleted');
      if (answered(res, 400, ROBOT_NOT_FOUND)) return RTE.right('unchanged');
      if (res.status === 403) return pipe(unlessOrganizationMissing(org)(res), RTE.as<Change>('unchanged'));
      return RTE.left(failureOf(res));
    }),
  );

/** A new token; the old one stops working at once. Quay answers 200 (not 201). */
export const regenerateRobot = (org: string, shortname: string): QuayOp<Robot> =>
  pipe(
    send(post(paths.robotRegenerate(org, shortname))),
    RTE.flatMapEither((res) =>
      res.status === 200 ? pipe(decodeBody(RobotView)(res), E.map(toRobot)) : E.left(failureOf(res)),
    ),
  );

/**
 * Quay selects an organization's robots with `username ILIKE '<org>+%'` without escaping the pattern
 * (data/model/user.py `_list_entity_robots`), so "_" matches any one character: the list for `c1_ns` also holds
 * the robots of `c1-ns` and `c1.ns`. Only robots named exactly `<org>+…` are the organization's.
 */
export const isRobotOf = (org: string, robotName: string): boolean => robotName.startsWith(`${org}+`);

/**
 * Every robot with its token in one call, the cheap way to check a namespace's robots on resync; robots of
 * look-alike organizations that Quay lists too are left out (isRobotOf). Quay has no paging here (`limit` only
 * truncates). It leaves the tokens out for a member who is not an admin: then the bridge's token lacks org:admin on
 * this organization, which is reported rather than returned as robots without tokens.
 */
export const listRobots = (org: string): QuayOp<O.Option<readonly Robot[]>> =>
  pipe(
    send(get(paths.robots(org), { token: 'true' })),
    RTE.flatMap((res): QuayOp<O.Option<readonly Robot[]>> => {
      if (res.status === 200)
        return RTE.fromEither(
          pipe(
            decodeBody(RobotList)(res),
            E.flatMap((list) =>
              pipe(
                list.robots.filter((r) => isRobotOf(org, r.name)),
                RA.traverse(E.Applicative)(({ name, description, token }) =>
                  token !== undefined
                    ? E.right(toRobot({ name, description, token }))
                    : E.left<QuayError, Robot>({
                        _tag: 'QuayResponseInvalid',
                        status: res.status,
                        message: `GET ${res.path} listed robot ${name} without its token: the token's user is not an administrator of ${org}`,
                      }),
                ),
              ),
            ),
            E.map(O.some),
          ),
        );
      if (res.status === 403)
        return pipe(unlessOrganizationMissing(org)(res), RTE.as(O.none as O.Option<readonly Robot[]>));
      return RTE.left(failureOf(res));
    }),
  );
