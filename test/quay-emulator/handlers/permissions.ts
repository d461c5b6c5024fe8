// Repository user and team permissions (endpoints/api/permission.py). Every route needs repository admin, checked
// before anything else; the PUTs are upserts.
import { can } from '../access.js';
import { badRequest, deny, param, validatedBody, type Ctx, type Handler } from '../context.js';
import { isJsonObject } from '../json.js';
import { setTeamPermission, setUserPermission, teamPermission, userPermission } from '../model-repos.js';
import { dataModelError, internalServerError, noContent, notFound, restful, type Reply } from '../replies.js';
import type { RepoRole } from '../scopes.js';
import type { Account } from '../state.js';
import { teamPermissionView, userPermissionView } from '../views.js';
import { repoPath } from './repositories.js';

const NO_USER_PERMISSION = 'User does not have permission for repo.';
const NO_TEAM_PERMISSION = 'Team does not have permission for repo.';

interface Target {
  readonly namespace: string;
  readonly name: string;
  /** The namespace, as a view decides `is_org_member` from it. */
  readonly owner: Account | undefined;
}

const administered = (ctx: Ctx): Target | Reply => {
  const { namespace, name } = repoPath(ctx);
  if (!can.administerRepository(ctx.world, ctx.caller, namespace, name)) return deny(ctx);
  return { namespace, name, owner: ctx.world.namespace(namespace) };
};
const isReply = (t: Target | Reply): t is Reply => 'status' in t;

const roleOf = (body: unknown): RepoRole => (isJsonObject(body) ? body['role'] : 'read') as RepoRole;

/** Only the repository's direct user permissions; a missing repository simply has none. */
export const listUserPermissions: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const repo = ctx.world.repository(t.namespace, t.name);
  const entries = (repo === undefined ? [] : ctx.world.permissionsOf(repo.id)).flatMap((p) => {
    const user = p.userId === null ? undefined : ctx.world.accounts.get(p.userId);
    return user === undefined || t.owner === undefined
      ? []
      : [[user.username, userPermissionView(ctx.world, user, p.role, t.owner)] as const];
  });
  return restful({ permissions: Object.fromEntries(entries) });
};

/** A missing permission is a DataModelException here (400 B), unlike on DELETE (400 A). */
export const getUserPermission: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const repo = ctx.world.repository(t.namespace, t.name);
  const user = ctx.world.account(param(ctx, 'username'));
  const perm = repo && user ? userPermission(ctx.world, repo, user) : undefined;
  if (perm === undefined || user === undefined || t.owner === undefined)
    return dataModelError(NO_USER_PERMISSION);
  return restful(userPermissionView(ctx.world, user, perm.role, t.owner));
};

/** A repository that does not exist is a 500: Quay's model raises DoesNotExist, which nothing catches. */
export const putUserPermission: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const body = validatedBody(ctx, 'UserPermission');
  if (!body.ok) return body.reply;
  const repo = ctx.world.repository(t.namespace, t.name);
  const set = setUserPermission(ctx.world, t.namespace, repo, param(ctx, 'username'), roleOf(body.value));
  if (set === 'no-repository' || t.owner === undefined) return internalServerError();
  if (!set.ok) return badRequest(ctx, set.error.message);
  return restful(userPermissionView(ctx.world, set.value.user, set.value.role, t.owner));
};

export const deleteUserPermission: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const username = param(ctx, 'username');
  if (username === t.namespace) return badRequest(ctx, 'Namespace owner must always be admin.');
  const repo = ctx.world.repository(t.namespace, t.name);
  const user = ctx.world.account(username);
  const perm = repo && user ? userPermission(ctx.world, repo, user) : undefined;
  if (perm === undefined) return badRequest(ctx, NO_USER_PERMISSION);
  ctx.world.repoPermissions.delete(perm.id);
  return noContent();
};

/** Direct and team-derived roles of a user on the repository. */
export const getTransitivePermission: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const user = ctx.world.userOrRobot(param(ctx, 'username'));
  const repo = ctx.world.repository(t.namespace, t.name);
  if (user === undefined || repo === undefined) return notFound(ctx.req.baseUrl);
  const roles = ctx.world.permissionsOf(repo.id).filter((p) => {
    const team = p.teamId === null ? undefined : ctx.world.teams.get(p.teamId);
    return p.userId === user.id || team?.members.has(user.id) === true;
  });
  if (roles.length === 0) return notFound(ctx.req.baseUrl);
  return restful({ permissions: roles.map((p) => ({ role: p.role })) });
};

export const listTeamPermissions: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const repo = ctx.world.repository(t.namespace, t.name);
  const entries = (repo === undefined ? [] : ctx.world.permissionsOf(repo.id)).flatMap((p) => {
    const team = p.teamId === null ? undefined : ctx.world.teams.get(p.teamId);
    return team === undefined ? [] : [[team.name, teamPermissionView(team, p.role)] as const];
  });
  return restful({ permissions: Object.fromEntries(entries) });
};

const teamOf = (ctx: Ctx, t: Target) =>
  t.owner?.kind === 'org' ? ctx.world.team(t.owner.id, param(ctx, 'team')) : undefined;

export const getTeamPermission: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const repo = ctx.world.repository(t.namespace, t.name);
  const team = teamOf(ctx, t);
  const perm = repo && team ? teamPermission(ctx.world, repo, team) : undefined;
  return perm === undefined ? dataModelError(NO_TEAM_PERMISSION) : restful({ role: perm.role });
};

export const putTeamPermission: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const body = validatedBody(ctx, 'TeamPermission');
  if (!body.ok) return body.reply;
  const repo = ctx.world.repository(t.namespace, t.name);
  const org = t.owner?.kind === 'org' ? t.owner : undefined;
  const set = setTeamPermission(ctx.world, org, t.namespace, repo, param(ctx, 'team'), roleOf(body.value));
  if (set === 'no-repository') return internalServerError();
  if (!set.ok) return badRequest(ctx, set.error.message);
  return restful(teamPermissionView(set.value.team, set.value.role));
};

export const deleteTeamPermission: Handler = (ctx) => {
  const t = administered(ctx);
  if (isReply(t)) return t;
  const repo = ctx.world.repository(t.namespace, t.name);
  const team = teamOf(ctx, t);
  const perm = repo && team ? teamPermission(ctx.world, repo, team) : undefined;
  if (perm === undefined) return badRequest(ctx, NO_TEAM_PERMISSION);
  ctx.world.repoPermissions.delete(perm.id);
  return noContent();
};
