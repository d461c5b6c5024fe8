// /api/v1/superuser/users/… and /api/v1/superuser/organizations/… (endpoints/api/superuser.py). All need a
// superuser token (`super:user` and the name in SUPER_USERS); require_fresh_login first turns anonymous away.
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
import { isJsonObject, type JsonObject } from '../json.js';
import { createUser, markNamespaceForDeletion, usernameIssue } from '../model-namespaces.js';
import { dataModelError, internalServerError, noContent, notFound, restful, type Reply } from '../replies.js';
import type { Account } from '../state.js';
import { accountAvatar, orgAvatar } from '../views.js';
import { encryptedPassword } from './user.js';
import { nextPage, readPageToken } from './paging.js';

const LIMIT_HELP = 'Limit to the number of results to return per page. Max 100.';

const userView = (ctx: Ctx, u: Account): JsonObject => ({
  kind: 'user',
  name: u.username,
  username: u.username,
  email: u.email,
  verified: u.verified,
  avatar: accountAvatar(u),
  super_user: ctx.world.superUsers.has(u.username),
  global_readonly_super_user: false,
  enabled: u.enabled,
});

const orgView = (o: Account): JsonObject => ({ name: o.username, email: o.email, avatar: orgAvatar(o) });

/** require_fresh_login, then the superuser check. */
const superuser = (ctx: Ctx): Reply | undefined =>
  ctx.caller === undefined || !can.beSuperUser(ctx.world, ctx.caller) ? deny(ctx) : undefined;

/** Everything, or `limit` a page ordered by id with a Fernet `next_page` token. */
const listing = (
  ctx: Ctx,
  key: string,
  items: readonly Account[],
  view: (a: Account) => JsonObject,
): Reply => {
  const limit = intArg<undefined>(ctx, 'limit', LIMIT_HELP, undefined);
  if (!limit.ok) return limit.reply;
  const denied = superuser(ctx);
  if (denied !== undefined) return denied;
  if (limit.value === undefined) return restful({ [key]: items.map(view) });
  if (limit.value > 100) return badRequest(ctx, 'Page limit cannot be above 100');
  const token = readPageToken(ctx);
  const from = items.filter((a) => a.id >= (token?.startIndex ?? -Infinity));
  const next = from[Math.max(0, limit.value)];
  return restful({
    [key]: from.slice(0, Math.max(0, limit.value)).map(view),
    ...(next === undefined ? {} : { next_page: nextPage(ctx, next.id, token) }),
  });
};

const sortedAccounts = (ctx: Ctx, keep: (a: Account) => boolean): Account[] =>
  [...ctx.world.accounts.values()].filter(keep).sort((a, b) => a.id - b.id);

export const listUsers: Handler = (ctx) => {
  if (ctx.caller === undefined) return deny(ctx);
  const includeDisabled = boolArg(ctx, 'disabled', true);
  const users = sortedAccounts(
    ctx,
    (a) => a.kind === 'user' && (includeDisabled ? !ctx.world.deletedNamespaces.has(a.id) : a.enabled),
  );
  return listing(ctx, 'users', users, (u) => userView(ctx, u));
};

/** 200, not 201, with a generated 32-character password; a taken name is a 400 B. */
export const createUserHandler: Handler = (ctx) => {
  if (ctx.caller === undefined) return deny(ctx);
  const body = validatedBody(ctx, 'CreateInstallUser');
  if (!body.ok) return body.reply;
  const denied = superuser(ctx);
  if (denied !== undefined) return denied;
  const data = isJsonObject(body.value) ? body.value : {};
  const username = typeof data['username'] === 'string' ? data['username'] : '';
  const email = typeof data['email'] === 'string' ? data['email'] : null;
  const password = ctx.world.random.token(32);
  const created = createUser(ctx.world, username, password, email);
  if (!created.ok) return dataModelError(created.error.message);
  return restful({ username, email, password, encrypted_password: encryptedPassword(ctx, password) });
};

const namedUser = (ctx: Ctx): Account | undefined => {
  const a = ctx.world.account(param(ctx, 'username'));
  return a?.kind === 'user' ? a : undefined;
};

export const getUserHandler: Handler = (ctx) => {
  const denied = superuser(ctx);
  if (denied !== undefined) return denied;
  const user = namedUser(ctx);
  return user === undefined ? notFound(ctx.req.baseUrl) : restful(userView(ctx, user));
};

export const deleteUserHandler: Handler = (ctx) => {
  const denied = superuser(ctx);
  if (denied !== undefined) return denied;
  const user = namedUser(ctx);
  if (user === undefined) return notFound(ctx.req.baseUrl);
  if (ctx.world.superUsers.has(user.username)) return badRequest(ctx, 'Cannot delete a superuser');
  markNamespaceForDeletion(ctx.world, user);
  ctx.services.deletionScheduled();
  return noContent();
};

export const updateUserHandler: Handler = (ctx) => {
  if (ctx.caller === undefined) return deny(ctx);
  const body = validatedBody(ctx, 'UpdateUser');
  if (!body.ok) return body.reply;
  const denied = superuser(ctx);
  if (denied !== undefined) return denied;
  const user = namedUser(ctx);
  if (user === undefined) return notFound(ctx.req.baseUrl);
  if (ctx.world.superUsers.has(user.username)) return badRequest(ctx, 'Cannot update a superuser');
  const data = isJsonObject(body.value) ? body.value : {};
  const view: Record<string, unknown> = {};
  if (typeof data['password'] === 'string') {
    if (/\s/.test(data['password']) || data['password'].length < 8) {
      return dataModelError(
        'Invalid password, password must be at least 8 characters and contain no whitespace.',
      );
    }
    user.password = data['password'];
    view['encrypted_password'] = encryptedPassword(ctx, data['password']);
  }
  if (typeof data['email'] === 'string') {
    user.email = data['email'];
    user.verified = true;
  }
  if ('enabled' in data) user.enabled = data['enabled'] === true;
  if ('superuser' in data) {
    if (data['superuser'] === true) ctx.world.superUsers.add(user.username);
    else ctx.world.superUsers.delete(user.username);
  }
  return restful({ ...userView(ctx, user), ...(view as JsonObject) });
};

export const listOrganizations: Handler = (ctx) => {
  if (ctx.caller === undefined) return deny(ctx);
  const orgs = sortedAccounts(ctx, (a) => a.kind === 'org' && a.enabled);
  return listing(ctx, 'organizations', orgs, orgView);
};

/** A missing organization is a 404 here; the name is held back after deletion as with the ordinary DELETE. */
export const deleteOrganizationHandler: Handler = (ctx) => {
  const denied = superuser(ctx);
  if (denied !== undefined) return denied;
  const org = ctx.world.organization(param(ctx, 'name'));
  if (org === undefined) return notFound(ctx.req.baseUrl);
  markNamespaceForDeletion(ctx.world, org);
  ctx.services.deletionScheduled();
  return noContent();
};

/** Renames the organization (and its robots). */
export const renameOrganizationHandler: Handler = (ctx) => {
  if (ctx.caller === undefined) return deny(ctx);
  const body = validatedBody(ctx, 'SuperUserUpdateOrg');
  if (!body.ok) return body.reply;
  const denied = superuser(ctx);
  if (denied !== undefined) return denied;
  const name = param(ctx, 'name');
  const org = ctx.world.organization(name);
  if (org === undefined) return dataModelError(`Organization does not exist: ${name}`);
  const wanted = isJsonObject(body.value) ? body.value['name'] : undefined;
  if (typeof wanted === 'string') {
    const issue = usernameIssue(wanted);
    if (issue !== undefined) return dataModelError(`Invalid username ${wanted}: ${issue}`);
    // A taken name violates the database's unique index: an uncaught IntegrityError.
    if (ctx.world.account(wanted) !== undefined && wanted !== org.username) return internalServerError();
    for (const robot of ctx.world.robotsOf(org.username)) {
      robot.username = `${wanted}+${robot.username.slice(robot.username.indexOf('+') + 1)}`;
    }
    org.username = wanted;
  }
  return restful(orgView(org));
};
