// /api/v1/organization/ and /api/v1/organization/{org} (endpoints/api/organization.py).
import { can } from '../access.js';
import { badRequest, deny, param, validatedBody, type Ctx, type Handler } from '../context.js';
import { isJsonObject, pythonTruthy, type Json, type JsonObject } from '../json.js';
import { createOrganization, markNamespaceForDeletion } from '../model-namespaces.js';
import { noContent, notFound, restful } from '../replies.js';
import type { Account } from '../state.js';
import { accountAvatar, teamAvatar, validEmail } from '../views.js';

const str = (v: Json | undefined): string | null => (typeof v === 'string' ? v : null);

/** org_view: members see the teams, admins the e-mail and billing fields. */
export const organizationView = (ctx: Ctx, org: Account): JsonObject => {
  const { world, caller } = ctx;
  const isAdmin = can.administerOrganization(world, caller, org.username);
  const isMember = can.beOrganizationMember(world, caller, org.username);
  const teams = world.teamsOf(org.id).sort((a, b) => a.id - b.id);
  const teamView = (t: (typeof teams)[number]): JsonObject => ({
    name: t.name,
    description: t.description,
    role: t.role,
    avatar: teamAvatar(t),
    can_view: isAdmin || (caller !== undefined && t.members.has(caller.user.id)),
    repo_count: [...world.repoPermissions.values()].filter((p) => p.teamId === t.id).length,
    member_count: t.members.size,
    is_synced: false,
  });
  return {
    name: org.username,
    email: isAdmin && validEmail(org.email) ? org.email : '',
    avatar: accountAvatar(org),
    is_admin: isAdmin,
    is_member: isMember,
    ...(isMember
      ? {
          teams: Object.fromEntries(teams.map((t) => [t.name, teamView(t)])),
          ordered_teams: teams.map((t) => t.name),
        }
      : {}),
    ...(isAdmin
      ? {
          invoice_email: org.invoiceEmail,
          invoice_email_address: org.invoiceEmailAddress,
          tag_expiration_s: org.tagExpirationS,
          is_free_account: true,
        }
      : {}),
  };
};

export const createOrganizationHandler: Handler = (ctx) => {
  // require_user_admin, then the schema, then the endpoint's own checks.
  if (!can.administerUser(ctx.caller) || ctx.caller === undefined) return deny(ctx);
  const body = validatedBody(ctx, 'NewOrg');
  if (!body.ok) return body.reply;
  const data = isJsonObject(body.value) ? body.value : {};
  const name = str(data['name']) ?? '';
  if (ctx.world.organization(name) !== undefined || ctx.world.userOrRobot(name) !== undefined) {
    return badRequest(ctx, 'A user or organization with this name already exists');
  }
  const contact = str(data['contact_email']);
  const given = str(data['email']);
  const email = pythonTruthy(contact) ? contact : pythonTruthy(given) ? given : null;
  if (email !== null && !validEmail(email)) return badRequest(ctx, 'Invalid email address');
  const created = createOrganization(ctx.world, name, email, ctx.caller.user);
  return created.ok ? restful('Created', 201) : badRequest(ctx, created.error.message);
};

export const getOrganization: Handler = (ctx) => {
  const org = ctx.world.organization(param(ctx, 'org'));
  return org === undefined ? notFound(ctx.req.baseUrl) : restful(organizationView(ctx, org));
};

export const updateOrganization: Handler = (ctx) => {
  const body = validatedBody(ctx, 'OrgUpdate');
  if (!body.ok) return body.reply;
  const name = param(ctx, 'org');
  if (!can.administerOrganization(ctx.world, ctx.caller, name)) return deny(ctx);
  const org = ctx.world.organization(name);
  if (org === undefined) return notFound(ctx.req.baseUrl);
  const data = isJsonObject(body.value) ? body.value : {};
  if ('invoice_email' in data) org.invoiceEmail = data['invoice_email'] === true;
  if ('invoice_email_address' in data) org.invoiceEmailAddress = str(data['invoice_email_address']) || null;
  if ('contact_email' in data || 'email' in data) {
    const wanted = ('contact_email' in data ? str(data['contact_email']) : str(data['email'])) ?? '';
    const current = validEmail(org.email) ? org.email : '';
    if (wanted !== current) {
      if (wanted !== '' && !validEmail(wanted)) return badRequest(ctx, 'Invalid email address');
      org.email = wanted !== '' ? wanted : ctx.world.random.uuid4();
    }
  }
  const expiration = data['tag_expiration_s'];
  if (typeof expiration === 'number') org.tagExpirationS = expiration;
  return restful(organizationView(ctx, org));
};

/** Permission first: a missing organization is a 403, not a 404. Deletion holds the name back until GC. */
export const deleteOrganization: Handler = (ctx) => {
  const name = param(ctx, 'org');
  if (!can.administerOrganization(ctx.world, ctx.caller, name)) return deny(ctx);
  const org = ctx.world.organization(name);
  if (org === undefined) return notFound(ctx.req.baseUrl);
  markNamespaceForDeletion(ctx.world, org);
  ctx.services.deletionScheduled();
  return noContent();
};
