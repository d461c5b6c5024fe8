// Robot accounts of organizations and of the caller's own namespace (endpoints/api/robot.py).
import { can } from '../access.js';
import {
  badRequest,
  boolArg,
  deny,
  intArg,
  param,
  validatedBody,
  type Ctx,
  type Handler,
} from '../context.js';
import { isJsonObject, type Json, type JsonObject } from '../json.js';
import { createRobot, deleteRobot, listRobots, lookupRobot, regenerateRobotToken } from '../model-robots.js';
import {
  dataModelError,
  internalServerError,
  noContent,
  restAbort,
  restful,
  WERKZEUG,
  type Reply,
} from '../replies.js';
import type { Account } from '../state.js';
import { avatar, robotView } from '../views.js';

const ROBOT_MAX_JSON = 1024 * 1024;
const LIMIT_HELP = 'If specified, the number of robots to return.';

/** Who owns the robots of a request, or the reply that refuses it. */
type Owner = { readonly name: string; readonly isAdmin: boolean } | Reply;
const isReply = (o: Owner): o is Reply => 'status' in o;

/** /organization/{org}/robots…: org admin (the list only needs membership); get_organization fails as a 400 B. */
const orgOwner = (ctx: Ctx, membersMayList = false): Owner => {
  const name = param(ctx, 'org');
  const isAdmin = can.administerOrganization(ctx.world, ctx.caller, name);
  if (!isAdmin && !(membersMayList && can.beOrganizationMember(ctx.world, ctx.caller, name)))
    return deny(ctx);
  if (!membersMayList && ctx.world.organization(name) === undefined) {
    return dataModelError(`Organization does not exist: ${name}`);
  }
  return { name, isAdmin };
};

/** /user/robots…: require_user_admin, for the caller's own namespace. */
const userOwner = (ctx: Ctx): Owner =>
  ctx.caller === undefined || !can.administerUser(ctx.caller)
    ? deny(ctx)
    : { name: ctx.caller.user.username, isAdmin: true };

const listHandler =
  (owner: (ctx: Ctx) => Owner): Handler =>
  (ctx) => {
    const o = owner(ctx);
    if (isReply(o)) return o;
    const limit = intArg<undefined>(ctx, 'limit', LIMIT_HELP, undefined);
    if (!limit.ok) return limit.reply;
    const withToken = o.isAdmin && boolArg(ctx, 'token', true);
    const withPermissions = o.isAdmin && boolArg(ctx, 'permissions', false);
    const robots = listRobots(ctx.world, o.name);
    const max = limit.value === undefined || limit.value < 0 ? Infinity : limit.value;
    if (!withPermissions) {
      return restful({ robots: robots.slice(0, max).map((r) => robotView(r, { token: withToken })) });
    }
    return restful({ robots: robotsWithPermissions(ctx, robots, max, withToken) });
  };

/**
 * `permissions=true` joins each robot with its repository permissions and team memberships, so `limit` counts
 * joined rows, not robots. Repositories pending deletion appear under their UUID names.
 */
const robotsWithPermissions = (
  ctx: Ctx,
  robots: readonly Account[],
  max: number,
  withToken: boolean,
): JsonObject[] => {
  const rows: { robot: Account; repo: string | null; team: string | null }[] = [];
  for (const robot of robots) {
    const repos = [...ctx.world.repoPermissions.values()]
      .filter((p) => p.userId === robot.id)
      .map((p) => ctx.world.repositories.get(p.repoId)?.name ?? null);
    const teams = [...ctx.world.teams.values()].filter((t) => t.members.has(robot.id)).map((t) => t.name);
    for (const repo of repos.length > 0 ? repos : [null]) {
      for (const team of teams.length > 0 ? teams : [null]) rows.push({ robot, repo, team });
    }
  }
  const byName = new Map<string, { robot: Account; repos: string[]; teams: string[] }>();
  for (const row of rows.slice(0, max)) {
    const entry = byName.get(row.robot.username) ?? { robot: row.robot, repos: [], teams: [] };
    byName.set(row.robot.username, entry);
    if (row.repo !== null && !entry.repos.includes(row.repo)) entry.repos.push(row.repo);
    if (row.team !== null && !entry.teams.includes(row.team)) entry.teams.push(row.team);
  }
  return [...byName.values()].map(({ robot, repos, teams }) => {
    const base = robotView(robot, { token: withToken });
    const { token, ...rest } = base;
    return {
      ...rest,
      teams: teams.map((name) => ({ name, avatar: avatar(name, name, 'team') })),
      repositories: repos,
      ...(token === undefined ? {} : { token }),
    };
  });
};

const getHandler =
  (owner: (ctx: Ctx) => Owner): Handler =>
  (ctx) => {
    const o = owner(ctx);
    if (isReply(o)) return o;
    const robot = lookupRobot(ctx.world, `${o.name}+${param(ctx, 'robot')}`);
    if (!robot.ok) return dataModelError(robot.error.message);
    return restful(robotView(robot.value, { token: true, metadata: 'stored' }));
  };

/** Not idempotent: an existing robot is a 400 A "Existing robot with name". */
const createHandler =
  (owner: (ctx: Ctx) => Owner): Handler =>
  (ctx) => {
    // max_json_size raises InvalidRequest() without its required argument: a TypeError, so a 500.
    if (ctx.req.headers['content-type']?.includes('json') === true && ctx.req.body.length > ROBOT_MAX_JSON) {
      return internalServerError();
    }
    const body = validatedBody(ctx, 'CreateRobot', true);
    if (!body.ok) return body.reply;
    const o = owner(ctx);
    if (isReply(o)) return o;
    const data: JsonObject = isJsonObject(body.value) ? body.value : {};
    const description = typeof data['description'] === 'string' ? data['description'] : '';
    const metadata: Json = data['unstructured_metadata'] ?? null;
    const created = createRobot(ctx.world, o.name, param(ctx, 'robot'), description, metadata);
    if (!created.ok) return badRequest(ctx, created.error.message);
    return restful(robotView(created.value, { token: true, metadata: { value: metadata } }), 201);
  };

/** Not idempotent either: deleting a missing robot is a 400 B. */
const deleteHandler =
  (owner: (ctx: Ctx) => Owner): Handler =>
  (ctx) => {
    const o = owner(ctx);
    if (isReply(o)) return o;
    const deleted = deleteRobot(ctx.world, `${o.name}+${param(ctx, 'robot')}`);
    return deleted.ok ? noContent() : dataModelError(deleted.error.message);
  };

const regenerateHandler =
  (owner: (ctx: Ctx) => Owner): Handler =>
  (ctx) => {
    const o = owner(ctx);
    if (isReply(o)) return o;
    const robot = regenerateRobotToken(ctx.world, `${o.name}+${param(ctx, 'robot')}`);
    if (!robot.ok) return dataModelError(robot.error.message);
    return restful(robotView(robot.value, { token: true }));
  };

const permissionsView = (ctx: Ctx, robot: Account): Reply =>
  restful({
    permissions: [...ctx.world.repoPermissions.values()]
      .filter((p) => p.userId === robot.id)
      .flatMap((p) => {
        const repo = ctx.world.repositories.get(p.repoId);
        return repo === undefined
          ? []
          : [{ repository: { name: repo.name, is_public: repo.visibility === 'public' }, role: p.role }];
      }),
  });

/** Needs user:admin and org admin; a non-admin gets Flask's bare abort(403), shape C. */
const orgPermissions: Handler = (ctx) => {
  if (ctx.caller === undefined || !can.administerUser(ctx.caller)) return deny(ctx);
  const name = param(ctx, 'org');
  if (!can.administerOrganization(ctx.world, ctx.caller, name)) return restAbort(403, WERKZEUG.forbidden);
  if (ctx.world.organization(name) === undefined)
    return dataModelError(`Organization does not exist: ${name}`);
  const robot = lookupRobot(ctx.world, `${name}+${param(ctx, 'robot')}`);
  return robot.ok ? permissionsView(ctx, robot.value) : dataModelError(robot.error.message);
};

const userPermissions: Handler = (ctx) => {
  const o = userOwner(ctx);
  if (isReply(o)) return o;
  const robot = lookupRobot(ctx.world, `${o.name}+${param(ctx, 'robot')}`);
  return robot.ok ? permissionsView(ctx, robot.value) : dataModelError(robot.error.message);
};

/** Deleting an org robot does not look the organization up first. */
const orgDeleteOwner = (ctx: Ctx): Owner => {
  const name = param(ctx, 'org');
  return can.administerOrganization(ctx.world, ctx.caller, name) ? { name, isAdmin: true } : deny(ctx);
};

export const robotRoutes = {
  orgList: listHandler((ctx) => orgOwner(ctx, true)),
  orgGet: getHandler((ctx) => orgOwner(ctx)),
  orgCreate: createHandler((ctx) => orgOwner(ctx)),
  orgDelete: deleteHandler(orgDeleteOwner),
  orgRegenerate: regenerateHandler((ctx) => orgOwner(ctx)),
  orgPermissions,
  userList: listHandler(userOwner),
  userGet: getHandler(userOwner),
  userCreate: createHandler(userOwner),
  userDelete: deleteHandler(userOwner),
  userRegenerate: regenerateHandler(userOwner),
  userPermissions,
} satisfies Record<string, Handler>;
