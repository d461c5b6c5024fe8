// Default permissions ("prototypes") of an organization (../shared/quay-api.md §4.6): what each robot gets on every
// repository created later. Quay accepts duplicates (two POSTs make two prototypes) and QBO never removed them, nor
// fixed a wrong role (qbo-compat.md B9), so ensuring one converges to exactly one prototype per robot.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as RA from 'fp-ts/lib/ReadonlyArray.js';
import * as RTE from 'fp-ts/lib/ReaderTaskEither.js';
import type { RobotRole } from '../names.js';
import { decodeBody, PrototypeList, PrototypeView } from './codecs.js';
import { failureOf } from './errors.js';
import { paths } from './paths.js';
import { del, get, post, put, send, type QuayHttp, type QuayOp } from './request.js';
import type { Change, Prototype, QuayError } from './types.js';

export const toPrototype = (view: PrototypeView): Prototype => ({
  id: view.id,
  role: view.role,
  delegate:
    view.delegate.kind === 'user'
      ? { kind: 'user', name: view.delegate.name, isRobot: view.delegate.is_robot }
      : { kind: 'team', name: view.delegate.name },
  ...(view.activating_user != null ? { activatingUser: view.activating_user.name } : {}),
});

export const listDefaultPermissions = (org: string): QuayOp<readonly Prototype[]> =>
  pipe(
    send(get(paths.prototypes(org))),
    RTE.flatMapEither((res) =>
      res.status === 200
        ? pipe(
            decodeBody(PrototypeList)(res),
            E.map((list) => list.prototypes.map(toPrototype)),
          )
        : E.left(failureOf(res)),
    ),
  );

// Quay answers 200, not 201 (§4.6); the delegate's kind and name are all it reads. This is the one write Quay does
// not deduplicate: when the POST had to be sent more than once (a dropped answer, a timeout), an earlier attempt
// may have been applied too, so the list is read again and any duplicate removed before answering.
const addPrototype = (org: string, robotName: string, role: RobotRole): QuayOp<Change> =>
  pipe(
    send(post(paths.prototypes(org), { role, delegate: { kind: 'user', name: robotName } })),
    RTE.flatMap((res): QuayOp<Change> => {
      if (res.status !== 200) return RTE.left(failureOf(res));
      const created = pipe(decodeBody(PrototypeView)(res), E.as<Change>('created'));
      if (E.isLeft(created) || (res.attempts ?? 1) === 1) return RTE.fromEither(created);
      return pipe(ensure(org, robotName, role, undefined, 1), RTE.as<Change>('created'));
    }),
  );

type Outcome = 'kept' | 'updated' | 'gone';

/** 'gone' when the prototype was deleted since it was listed. */
const setPrototypeRole = (org: string, id: string, role: RobotRole): QuayOp<Outcome> =>
  pipe(
    send(put(paths.prototype(org, id), { role })),
    RTE.flatMapEither((res) => {
      if (res.status === 200) return pipe(decodeBody(PrototypeView)(res), E.as<Outcome>('updated'));
      if (res.status === 404) return E.right<QuayError, Outcome>('gone');
      return E.left(failureOf(res));
    }),
  );

/** A prototype already gone (404) is fine: a duplicate removed concurrently, or by a retried DELETE. */
const deletePrototype = (org: string, id: string): QuayOp<undefined> =>
  pipe(
    send(del(paths.prototype(org, id))),
    RTE.flatMapEither((res) =>
      res.status === 204 || res.status === 404 ? E.right(undefined) : E.left(failureOf(res)),
    ),
  );

/** The robot's prototypes for everyone's repositories; one restricted to an activating user is someone's choice. */
const prototypesOf = (prototypes: readonly Prototype[], robotName: string): readonly Prototype[] =>
  prototypes.filter(
    (p) => p.delegate.kind === 'user' && p.delegate.name === robotName && p.activatingUser === undefined,
  );

/**
 * Exactly one prototype for the robot with the role. It keeps one with the right role if there is one, else
 * changes the first one's role in place (PUT, so the id stays), and deletes the others. `current` is the list the
 * caller just read with listDefaultPermissions, which saves this a GET; if a prototype to update is gone by then
 * (stale list, or a concurrent change) the list is read again, once.
 */
export const ensureDefaultPermission = (
  org: string,
  robotName: string,
  role: RobotRole,
  current?: readonly Prototype[],
): QuayOp<Change> => ensure(org, robotName, role, current, 1);

const ensure = (
  org: string,
  robotName: string,
  role: RobotRole,
  current: readonly Prototype[] | undefined,
  retries: number,
): QuayOp<Change> =>
  pipe(
    current !== undefined
      ? RTE.right<QuayHttp, QuayError, readonly Prototype[]>(current)
      : listDefaultPermissions(org),
    RTE.flatMap((all): QuayOp<Change> => {
      const mine = prototypesOf(all, robotName);
      const keep = mine.find((p) => p.role === role) ?? mine[0];
      if (keep === undefined) return addPrototype(org, robotName, role);
      const duplicates = mine.filter((p) => p !== keep);
      return pipe(
        keep.role === role
          ? RTE.right<QuayHttp, QuayError, Outcome>('kept')
          : setPrototypeRole(org, keep.id, role),
        RTE.flatMap((outcome): QuayOp<Change> => {
          if (outcome === 'gone')
            return retries > 0
              ? ensure(org, robotName, role, undefined, retries - 1)
              : RTE.left({
                  _tag: 'QuayRejected',
                  status: 404,
                  message: `default permission ${keep.id} of ${robotName} in ${org} vanished while being updated`,
                });
          return pipe(
            duplicates,
            RA.traverse(RTE.ApplicativeSeq)((p) => deletePrototype(org, p.id)),
            RTE.as<Change>(outcome === 'updated' || duplicates.length > 0 ? 'updated' : 'unchanged'),
          );
        }),
      );
    }),
  );
