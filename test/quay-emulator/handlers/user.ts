// GET /api/v1/user/ and POST /api/v1/user/initialize (endpoints/api/user.py, endpoints/web.py).
import { can } from '../access.js';
import { jsonBody, type Ctx, type Handler } from '../context.js';
import { isJsonObject, pythonTruthy, type JsonObject } from '../json.js';
import { createUser } from '../model-namespaces.js';
import { apiError, internalServerError, jsonify, restful, type Reply } from '../replies.js';
import type { Account, World } from '../state.js';
import { ALL_SCOPES, INITIALIZE_TOKEN_SECONDS, issueToken } from '../tokens.js';
import { accountAvatar, orgAvatar } from '../views.js';

/** Organizations in which the user is on a team, oldest first. */
export const organizationsOf = (world: World, user: Account): Account[] =>
  [...world.accounts.values()]
    .filter((a) => a.kind === 'org' && a.enabled && world.teamsOf(a.id).some((t) => t.members.has(user.id)))
    .sort((a, b) => a.id - b.id);

export const getUser: Handler = (ctx) => {
  const caller = ctx.caller;
  if (caller === undefined || caller.user.kind !== 'user' || !can.readUser(caller)) {
    return apiError(ctx.req.baseUrl, 'invalid_token', 401, 'Requires authentication', {
      session_required: false,
    });
  }
  const user = caller.user;
  const isAdmin = can.administerUser(caller);
  const orgView = (o: Account): JsonObject => ({
    name: o.username,
    avatar: orgAvatar(o),
    can_create_repo: can.createRepository(ctx.world, caller, o.username),
    public: false,
    ...(isAdmin
      ? {
          is_org_admin: can.administerOrganization(ctx.world, caller, o.username),
          preferred_namespace: false,
        }
      : {}),
  });
  return restful({
    anonymous: false,
    username: user.username,
    avatar: accountAvatar(user),
    ...(isAdmin
      ? {
          can_create_repo: true,
          is_me: true,
          verified: user.verified,
          email: user.email,
          logins: [],
          invoice_email: user.invoiceEmail,
          invoice_email_address: user.invoiceEmailAddress,
          preferred_namespace: false,
          tag_expiration_s: user.tagExpirationS,
          prompts: [],
          company: null,
          family_name: null,
          given_name: null,
          location: null,
          is_free_account: true,
          has_password_set: user.password !== null,
        }
      : {}),
    organizations: organizationsOf(ctx.world, user).map(orgView),
    ...(can.beSuperUser(ctx.world, caller) ? { super_user: true } : {}),
  });
};

/** What Quay's authentication.encrypt_user_password hands back: an opaque encrypted string. */
export const encryptedPassword = (ctx: Ctx, password: string): string =>
  ctx.services.pageTokens.encrypt(`password:${password}`, ctx.world.now());

/**
 * The first user of an empty database, with an optional all-scopes access token (web blueprint: no CSRF, no
 * auth). The emulator bootstraps `quayadmin` this way at start, so later calls meet a non-empty database.
 */
export const initializeUser = (
  world: World,
  data: { readonly username: string; readonly password: string; readonly email: string | null },
): { readonly user: Account; readonly token: string } | { readonly error: string } => {
  const created = createUser(world, data.username, data.password, data.email);
  if (!created.ok) return { error: created.error.message };
  return { user: created.value, token: automationToken(world, created.value) };
};

export const postInitialize: Handler = (ctx): Reply => {
  if ([...ctx.world.accounts.values()].some((a) => a.kind !== 'robot')) {
    return jsonify({ message: 'Cannot initialize user in a non-empty database' }, 400);
  }
  const body = jsonBody(ctx, true);
  const data = body.ok ? body.value : undefined;
  // user_data["username"] on a missing body or field is a KeyError/TypeError in Quay: a 500.
  if (!isJsonObject(data) || typeof data['username'] !== 'string' || typeof data['password'] !== 'string') {
    return internalServerError();
  }
  const email = typeof data['email'] === 'string' ? data['email'] : null;
  const username = data['username'];
  const password = data['password'];
  const wantsToken = pythonTruthy(data['access_token']);
  const created = createUser(ctx.world, username, password, email);
  if (!created.ok) return jsonify({ message: `Failed to initialize user: ${created.error.message}` }, 400);
  // common_login: the new user is signed in (a permanent session and a fresh CSRF token).
  const session = ctx.session.ensure(false);
  ctx.services.sessions.signIn(session, created.value);
  ctx.session.changed();
  const reply = jsonify(
    {
      username,
      email,
      encrypted_password: encryptedPassword(ctx, password),
      ...(wantsToken ? { access_token: automationToken(ctx.world, created.value) } : {}),
    },
    200,
  );
  return { ...reply, headers: { ...reply.headers, 'x-next-csrf-token': session.csrf } };
};

/** An application `automation` owned by the user, client_id = the username, and its all-scopes 9000 s token. */
const automationToken = (world: World, user: Account): string => {
  world.applications.set(user.username, {
    clientId: user.username,
    clientSecret: world.random.token(40),
    orgId: user.id,
    name: 'automation',
    description: 'Application token generated via /api/v1/user/initialize',
    applicationUri: '',
    redirectUri: '',
    avatarEmail: null,
  });
  return issueToken(world, user, ALL_SCOPES, INITIALIZE_TOKEN_SECONDS, user.username);
};
