// The QuayClient over HTTP: the operations of this folder run against one transport (http.ts) per client.
import { pipe } from 'fp-ts/lib/function.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { redactError } from './errors.js';
import { createTransport, type TransportOptions } from './http.js';
import { deleteOrganization, ensureOrganization, getOrganization } from './organizations.js';
import {
  deleteRepositoryPermission,
  listRepositoryPermissions,
  setRepositoryPermission,
} from './permissions.js';
import { ensureDefaultPermission, listDefaultPermissions } from './prototypes.js';
import { deleteRepository, ensureRepository, getRepository, listRepositories } from './repositories.js';
import type { QuayHttp, QuayOp } from './request.js';
import { deleteRobot, ensureRobot, getRobot, listRobots, regenerateRobot } from './robots.js';
import { listTags } from './tags.js';
import type { QuayClient, QuayError } from './types.js';
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
  return {
    currentUser: run(currentUser),
    getOrganization: run(getOrganization),
    ensureOrganization: run(ensureOrganization),
    deleteOrganization: run(deleteOrganization),
    getRobot: run(getRobot),
    ensureRobot: run(ensureRobot),
    deleteRobot: run(deleteRobot),
    regenerateRobot: run(regenerateRobot),
    listRobots: run(listRobots),
    listDefaultPermissions: run(listDefaultPermissions),
    ensureDefaultPermission: run(ensureDefaultPermission),
    getRepository: run(getRepository),
    ensureRepository: run(ensureRepository),
    deleteRepository: run(deleteRepository),
    listRepositoryPermissions: run(listRepositoryPermissions),
    setRepositoryPermission: run(setRepositoryPermission),
    deleteRepositoryPermission: run(deleteRepositoryPermission),
    listRepositories: run(listRepositories),
    listTags: run(listTags),
  };
};
