// Default permission prototypes (endpoints/api/prototype.py).
import { can } from '../access.js';
import { badRequest, deny, param, validatedBody, type Ctx, type Handler } from '../context.js';
import { isJsonObject, pythonTruthy, type Json } from '../json.js';
import { pythonStrRepr } from '../python-repr.js';
import { dataModelError, noContent, notFound, restful, type Reply } from '../replies.js';
import type { RepoRole } from '../scopes.js';
import type { Account, Prototype } from '../state.js';
import { prototypeView } from '../views.js';

/** Admin check first, then the organization (a 404 only for a caller who passed the check). */
const adminOrg = (ctx: Ctx): Account | Reply => {
  const name = param(ctx, 'org');
  if (!can.administerOrganization(ctx.world, ctx.caller, name)) return deny(ctx);
  return ctx.world.organization(name) ?? notFound(ctx.req.baseUrl);
};
const isAccount = (v: Account | Reply): v is Account => 'username' in v;

export const listPrototypes: Handler = (ctx) => {
  const org = adminOrg(ctx);
  if (!isAccount(org)) return org;
  const prototypes = ctx.world.prototypesOf(org.id).sort((a, b) => a.id - b.id);
  return restful({ prototypes: prototypes.map((p) => prototypeView(ctx.world, p)) });
};

const nameOf = (v: Json | undefined): string | undefined =>
  isJsonObject(v) && typeof v['name'] === 'string' ? v['name'] : undefined;

/** Duplicates are allowed (the same body twice makes two prototypes); the answer is a 200, not a 201. */
export const createPrototype: Handler = (ctx) => {
  const body = validatedBody(ctx, 'NewPrototype');
  if (!body.ok) return body.reply;
  const org = adminOrg(ctx);
  if (!isAccount(org)) return org;
  const data = isJsonObject(body.value) ? body.value : {};
  const activatingName = pythonTruthy(data['activating_user']) ? nameOf(data['activating_user']) : undefined;
  const delegate = isJsonObject(data['delegate']) ? data['delegate'] : {};
  const delegateName = typeof delegate['name'] === 'string' ? delegate['name'] : '';
  const activating = activatingName ? ctx.world.userOrRobot(activatingName) : undefined;
  const delegateUser =
    delegate['kind'] === 'user' && delegateName !== '' ? ctx.world.userOrRobot(delegateName) : undefined;
  let delegateTeam;
  if (delegate['kind'] === 'team' && delegateName !== '') {
    delegateTeam = ctx.world.team(org.id, delegateName);
    if (delegateTeam === undefined) {
      // Quay raises InvalidTeamException with a tuple, so the message is the tuple's repr.
      const parts = ['Team does not exist: %s/%s', org.username, delegateName].map(pythonStrRepr).join(', ');
      return dataModelError(`(${parts})`);
    }
  }
  if (activatingName && activating === undefined) return badRequest(ctx, 'Unknown activating user');
  if (delegateUser === undefined && delegateTeam === undefined)
    return badRequest(ctx, 'Missing delegate user or team');
  const prototype: Prototype = {
    id: ctx.world.nextId(),
    uuid: ctx.world.random.uuid4(),
    orgId: org.id,
    activatingUserId: activating?.id ?? null,
    delegateUserId: delegateUser?.id ?? null,
    delegateTeamId: delegateTeam?.id ?? null,
    role: data['role'] as RepoRole,
  };
  ctx.world.prototypes.set(prototype.id, prototype);
  return restful(prototypeView(ctx.world, prototype));
};

const findPrototype = (ctx: Ctx, org: Account): Prototype | undefined =>
  ctx.world.prototypesOf(org.id).find((p) => p.uuid === param(ctx, 'prototype'));

export const updatePrototype: Handler = (ctx) => {
  const body = validatedBody(ctx, 'PrototypeUpdate');
  if (!body.ok) return body.reply;
  const org = adminOrg(ctx);
  if (!isAccount(org)) return org;
  const prototype = findPrototype(ctx, org);
  if (prototype === undefined) return notFound(ctx.req.baseUrl);
  prototype.role = (isJsonObject(body.value) ? body.value['role'] : 'read') as RepoRole;
  return restful(prototypeView(ctx.world, prototype));
};

export const deletePrototype: Handler = (ctx) => {
  const org = adminOrg(ctx);
  if (!isAccount(org)) return org;
  const prototype = findPrototype(ctx, org);
  if (prototype === undefined) return notFound(ctx.req.baseUrl);
  ctx.world.prototypes.delete(prototype.id);
  return noContent();
};
