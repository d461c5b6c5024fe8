// Default permissions ("prototypes") of an organization (docs/quay-api.md#default-permissions): what each robot gets on every
// repository created later. Quay accepts duplicates (two POSTs make two prototypes) and QBO never removed them, nor
// fixed a wrong role (docs/qbo-compatibility.md#b9), so ensuring one converges to exactly one prototype per robot.
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

// Quay answers 200, not 201 (docs/quay-api.md#default-permissions); the delegate's kind and name are all it reads. This is the one write Quay does
// not deduplicate: another process may add the same prototype at the same time (two deliveries of one
// ServiceAccount's events in two pods), and a POST sent more than once (a dropped answer, a timeout) may have been
// applied twice. So an add is followed by a re-read that removes the duplicates (ensureDefaultPermissions), except
// for a robot this process has just created, when the POST went once (see WantedPermission.robotCreated).
// 'added', or 'resent' when the POST had to be sent more than once.
const addPrototype = (org: string, robotName: string, role: RobotRole): QuayOp<Added> =>
  pipe(
    send(post(paths.prototypes(org), { role, delegate: { kind: 'user', name: robotName } })),
    RTE.flatMapEither((res) =>
      res.status === 200
        ? pipe(decodeBody(PrototypeView)(res), E.as<Added>((res.attempts ?? 1) > 1 ? 'resent' : 'added'))
        : E.left<QuayError, Added>(failureOf(res)),
    ),
  );

type Outcome = 'kept' | 'updated' | 'gone';

/** A prototype POSTed: 'resent' when the POST was sent more than once (it may have made two). */
type Added = 'added' | 'resent';

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
 * The one prototype to keep among the robot's: the first by id with the wanted role, else the first by id. It does
 * not depend on the order Quay lists them in, so two processes removing the same duplicates at once keep the same
 * one (each keeping its own would delete both).
 */
export const keeperOf = (mine: readonly Prototype[], role: RobotRole): Prototype | undefined => {
  const byId = [...mine].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return byId.find((p) => p.role === role) ?? byId[0];
};

/** A robot's wanted organization-wide default permission. */
export interface WantedPermission {
  readonly robotName: string;
  readonly role: RobotRole;
  /**
   * This process has just created the robot (its PUT answered 201, which only one caller gets): its add is not
   * re-read, unless the POST had to be sent more than once. Another delivery could add the same prototype only if it found the robot existing and listed the
   * prototypes before this add, then re-read them before it too; the duplicate that narrow race leaves is harmless
   * (the same robot, the same role) and the resync removes it (docs/design.md#default-permissions).
   */
  readonly robotCreated?: boolean;
}

const listed = (org: string, current: readonly Prototype[] | undefined): QuayOp<readonly Prototype[]> =>
  current !== undefined ? RTE.right(current) : listDefaultPermissions(org);

/**
 * One robot's prototypes brought to exactly one with the role, from a list: the keeper's role fixed in place (PUT,
 * so the id stays), the others deleted. Added when there was none and one was POSTed (the caller re-reads).
 * `addMissing` false: right after our own add, a prototype missing from the re-read is not added again (another
 * process removed it as the duplicate of its keeper, or the robot was deleted), so that two processes never loop.
 */
const settle = (
  org: string,
  wanted: WantedPermission,
  all: readonly Prototype[],
  addMissing: boolean,
  retries = 1,
): QuayOp<Change | Added> => {
  const { robotName, role } = wanted;
  const mine = prototypesOf(all, robotName);
  const keep = keeperOf(mine, role);
  if (keep === undefined) return addMissing ? addPrototype(org, robotName, role) : RTE.right('unchanged');
  const duplicates = mine.filter((p) => p !== keep);
  return pipe(
    keep.role === role
      ? RTE.right<QuayHttp, QuayError, Outcome>('kept')
      : setPrototypeRole(org, keep.id, role),
    RTE.flatMap((outcome): QuayOp<Change | Added> => {
      // The list was stale (or someone else changed it meanwhile): read it again, once.
      if (outcome === 'gone')
        return retries > 0
          ? pipe(
              listDefaultPermissions(org),
              RTE.flatMap((again) => settle(org, wanted, again, addMissing, retries - 1)),
            )
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
};

/**
 * Exactly one prototype per robot with its role (docs/qbo-compatibility.md#b9: a wrong role is fixed, duplicates go). `current` is a
 * list the caller just read with listDefaultPermissions, which saves a GET. When a prototype was added for a robot
 * this process did not just create, the list is read once more, after every add, and the duplicates removed keeping
 * keeperOf's: of two processes adding the same prototype at once, the one whose add came last reads both, so the
 * world ends with one either way.
 */
export const ensureDefaultPermissions = (
  org: string,
  wanted: readonly WantedPermission[],
  current?: readonly Prototype[],
): QuayOp<readonly Change[]> =>
  pipe(
    listed(org, current),
    RTE.flatMap((all) =>
      pipe(
        wanted,
        RA.traverse(RTE.ApplicativeSeq)((w) => settle(org, w, all, true)),
      ),
    ),
    RTE.flatMap((results) =>
      !results.some((r, i) => r === 'resent' || (r === 'added' && wanted[i]?.robotCreated !== true))
        ? RTE.right(results.map((r): Change => (r === 'added' || r === 'resent' ? 'created' : r)))
        : pipe(
            listDefaultPermissions(org),
            RTE.flatMap((after) =>
              pipe(
                wanted,
                RA.traverseWithIndex(RTE.ApplicativeSeq)((i, w) =>
                  results[i] === 'added' || results[i] === 'resent'
                    ? pipe(settle(org, w, after, false), RTE.as<Change>('created'))
                    : RTE.right<QuayHttp, QuayError, Change>(results[i] as Change),
                ),
              ),
            ),
          ),
    ),
  );

/** ensureDefaultPermissions for one robot. */
export const ensureDefaultPermission = (
  org: string,
  robotName: string,
  role: RobotRole,
  current?: readonly Prototype[],
  robotCreated?: boolean,
): QuayOp<Change> =>
  pipe(
    ensureDefaultPermissions(org, [{ robotName, role, robotCreated: robotCreated === true }], current),
    RTE.map((changes) => changes[0] ?? 'unchanged'),
  );
