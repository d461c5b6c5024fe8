// /api/v1/organization/{org}/applications: an organization's OAuth applications (endpoints/api/organization.py).
// Only organization admins may list or create them; the list shows each client_secret.
import { can } from '../access.js';
import { deny, param, validatedBody, type Ctx, type Handler } from '../context.js';
import { isJsonObject, type Json, type JsonObject } from '../json.js';
import { notFound, restful, type Reply } from '../replies.js';
import type { Account, OAuthApplication } from '../state.js';

export const applicationView = (a: OAuthApplication): JsonObject => ({
  name: a.name,
  description: a.description,
  application_uri: a.applicationUri,
  client_id: a.clientId,
  client_secret: a.clientSecret,
  redirect_uri: a.redirectUri,
  avatar_email: a.avatarEmail,
});

/** AdministerOrganizationPermission first, then the organization (a missing one is a 404 only for who may ask). */
const administeredOrg = (ctx: Ctx): { ok: true; org: Account } | { ok: false; reply: Reply } => {
  const name = param(ctx, 'org');
  if (!can.administerOrganization(ctx.world, ctx.caller, name)) return { ok: false, reply: deny(ctx) };
  const org = ctx.world.organization(name);
  return org === undefined ? { ok: false, reply: notFound(ctx.req.baseUrl) } : { ok: true, org };
};

export const listApplications: Handler = (ctx) => {
  const found = administeredOrg(ctx);
  if (!found.ok) return found.reply;
  const apps = [...ctx.world.applications.values()].filter((a) => a.orgId === found.org.id);
  return restful({ applications: apps.map(applicationView) });
};

const str = (v: Json | undefined, fallback: string): string => (typeof v === 'string' ? v : fallback);

/** 200 (not 201) with the new client_id (20 × [A-Z0-9]) and client_secret (40); names need not be unique. */
export const createApplication: Handler = (ctx) => {
  // validate_json_request runs before the permission check.
  const body = validatedBody(ctx, 'NewApp');
  if (!body.ok) return body.reply;
  const found = administeredOrg(ctx);
  if (!found.ok) return found.reply;
  const data = isJsonObject(body.value) ? body.value : {};
  const app: OAuthApplication = {
    clientId: ctx.world.random.token(20),
    clientSecret: ctx.world.random.token(40),
    orgId: found.org.id,
    name: str(data['name'], ''),
    description: str(data['description'], ''),
    applicationUri: str(data['application_uri'], ''),
    redirectUri: str(data['redirect_uri'], ''),
    avatarEmail: typeof data['avatar_email'] === 'string' ? data['avatar_email'] : null,
  };
  ctx.world.applications.set(app.clientId, app);
  return restful(applicationView(app));
};
