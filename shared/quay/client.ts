// The QuayClient over HTTP: the operations of this folder run against one transport (http.ts) per client.
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { redactError } from './errors.js';
import { createTransport, type TransportOptions } from './http.js';
import {
  deleteOrganization,
  ensureOrganization,
  getOrganization,
  getOrganizationOwner,
  setOrganizationEmail,
} from './organizations.js';
import {
  deleteRepositoryPermission,
  listRepositoryPermissions,
  setRepositoryPermission,
} from './permissions.js';
import { ensureDefaultPermissions, listDefaultPermissions, type WantedPermission } from './prototypes.js';
import { deleteRepository, ensureRepository, getRepository, listRepositories } from './repositories.js';
import type { QuayHttp, QuayOp } from './request.js';
import { deleteRobot, ensureRobot, getRobot, listRobots, regenerateRobot } from './robots.js';
import { keyedLock } from '../runtime/one-at-a-time.js';
import { listTags, tagVersions } from './tags.js';
import type { Change, Prototype, QuayClient, QuayError } from './types.js';
import { currentUser } from './user.js';

export type QuayClientOptions = TransportOptions;

export interface HttpQuayClient extends QuayClient {
  /** Closes the client's pooled connections; idle ones never keep the process alive, so this is optional. */
  readonly close: () => void;
}

/** The client for one Quay; build one per QuayIntegration and keep it, so that connections are reused. */
export const createQuayClient = (opts: QuayClientOptions): HttpQuayClient => {
  const transport = createTransport(opts);
  return { ...bindQuayClient(transport, opts.token.reveal()), close: transport.close };
};

/**
 * The operations bound to a transport. The transport already keeps the token out of what it reports; the same guard
 * is applied to every error an operation builds, so that no message ever carries it, whatever Quay sends back.
 */
export const bindQuayClient = (http: QuayHttp, secret: string): QuayClient => {
  const run =
    <Args extends readonly unknown[], A>(op: (...args: Args) => QuayOp<A>) =>
    (...args: Args): TE.TaskEither<QuayError, A> =>
      pipe(op(...args)(http), TE.mapLeft(redactError(secret)));
  const listPrototypes = run(listDefaultPermissions);
  const ensurePrototypes = run(ensureDefaultPermissions);
  // Default permissions of one robot are changed by one call at a time in this process (two deliveries of the same
  // ServiceAccount's events must not both add one), and a list read before another call changed them is not
  // trusted: each list is stamped when its request starts, each change when it ends, and a list older than a
  // robot's last change is read again. Other processes are handled by the re-read after an add (prototypes.ts).
  const oneAtATime = keyedLock();
  let clock = 0;
  const listedAt = new WeakMap<readonly Prototype[], number>();
  const changedAt = new Map<string, number>();
  const keyOf = (org: string, robotName: string): string => `${org}\n${robotName}`;
  const locked = <A>(keys: readonly string[], task: () => Promise<A>): Promise<A> => {
    // Always in the same order, so that two batches never wait for each other in a circle.
    const [first, ...rest] = [...new Set(keys)].sort();
    return first === undefined ? task() : oneAtATime(first, () => locked(rest, task));
  };
  const ensurePermissions =
    (org: string, wanted: readonly WantedPermission[], current?: readonly Prototype[]) =>
    (): Promise<E.Either<QuayError, readonly Change[]>> => {
      const keys = wanted.map((w) => keyOf(org, w.robotName));
      return locked(keys, async () => {
        // A list this client did not read (or did not stamp) counts as older than any change made here.
        const stamp = current === undefined ? undefined : (listedAt.get(current) ?? 0);
        const stale = stamp !== undefined && keys.some((k) => (changedAt.get(k) ?? -1) > stamp);
        const result = await ensurePrototypes(org, wanted, stale ? undefined : current)();
        const at = ++clock;
        // A failure may come after a write (e.g. the re-read after an add): it counts as a change too.
        keys.forEach((k, i) => {
          if (E.isLeft(result) || result.right[i] !== 'unchanged') changedAt.set(k, at);
        });
        return result;
      });
    };
  return {
    currentUser: run(currentUser),
    getOrganization: run(getOrganization),
    ensureOrganization: run(ensureOrganization),
    deleteOrganization: run(deleteOrganization),
    getOrganizationOwner: run(getOrganizationOwner),
    setOrganizationEmail: run(setOrganizationEmail),
    getRobot: run(getRobot),
    ensureRobot: run(ensureRobot),
    deleteRobot: run(deleteRobot),
    regenerateRobot: run(regenerateRobot),
    listRobots: run(listRobots),
    listDefaultPermissions: (org) => {
      const at = ++clock;
      return pipe(
        listPrototypes(org),
        TE.tap((list) => {
          listedAt.set(list, at);
          return TE.right(undefined);
        }),
      );
    },
    ensureDefaultPermissions: ensurePermissions,
    ensureDefaultPermission: (org, robotName, role, current, robotCreated) =>
      pipe(
        ensurePermissions(org, [{ robotName, role, robotCreated: robotCreated === true }], current),
        TE.map((changes): Change => changes[0] ?? 'unchanged'),
      ),
    getRepository: run(getRepository),
    ensureRepository: run(ensureRepository),
    deleteRepository: run(deleteRepository),
    listRepositoryPermissions: run(listRepositoryPermissions),
    setRepositoryPermission: run(setRepositoryPermission),
    deleteRepositoryPermission: run(deleteRepositoryPermission),
    listRepositories: run(listRepositories),
    listTags: run(listTags),
    tagVersions: run(tagVersions),
  };
};
