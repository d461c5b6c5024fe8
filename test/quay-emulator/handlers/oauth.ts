// The implicit grant of Quay's web blueprint (endpoints/web.py, data/model/oauth.py's authorization provider), as
// recorded in test/fixtures/quay/signin-oauth-exchanges.json: GET /oauth/authorize (consent page or JSON, or a
// token at once for scopes already granted), POST /oauth/authorizeapp (the consent, CSRF-checked), and the
// /oauth/localapp landing page. The caller is a signed-in session or HTTP Basic with a user's password; a token
// comes back in the FRAGMENT of a 302's Location, never in a body.
import { can } from '../access.js';
import { csrfTokenOf } from '../sessions.js';
import { formBody, type Ctx, type Handler } from '../context.js';
import { pythonJson, type JsonObject } from '../json.js';
import { csrfFailure, htmlNotFound, jsonify, type Reply } from '../replies.js';
import { isScope, type Scope } from '../scopes.js';
import type { Account, OAuthApplication } from '../state.js';
import { DEFAULT_TOKEN_SECONDS, issueToken, SESSION_SCOPES } from '../tokens.js';
import { avatar, orgAvatar } from '../views.js';

/** LOCAL_OAUTH_HANDLER: always an acceptable redirect_uri, whatever the application registered. */
export const LOCAL_OAUTH_HANDLER = '/oauth/localapp';

const HTML = { 'content-type': 'text/html; charset=utf-8' };

const werkzeugPage = (status: 401 | 403): Reply => ({
  status,
  headers: HTML,
  body:
    status === 401
      ? '<!doctype html>\n<html lang=en>\n<title>401 Unauthorized</title>\n<h1>Unauthorized</h1>\n<p>The server ' +
        'could not verify that you are authorized to access the URL requested. You either supplied the wrong ' +
        'credentials (e.g. a bad password), or your browser doesn&#39;t understand how to supply the credentials ' +
        'required.</p>\n'
      : '<!doctype html>\n<html lang=en>\n<title>403 Forbidden</title>\n<h1>Forbidden</h1>\n<p>You don&#39;t ' +
        'have the permission to access the requested resource. It is either read-protected or not readable by ' +
        'the server.</p>\n',
});

// auth/scopes.py: what the consent page shows for each scope.
const SCOPE_INFO: Readonly<
  Record<Scope, { title: string; icon: string; dangerous: boolean; description: string }>
> = {
  'repo:read': {
    title: 'View all visible repositories',
    icon: 'fa-hdd-o',
    dangerous: false,
    description:
      'This application will be able to view and pull all repositories visible to the granting user',
  },
  'repo:write': {
    title: 'Read/Write to any accessible repositories',
    icon: 'fa-hdd-o',
    dangerous: false,
    description:
      'This application will be able to view, push and pull to all repositories to which the granting user has write access',
  },
  'repo:admin': {
    title: 'Administer Repositories',
    icon: 'fa-hdd-o',
    dangerous: false,
    description:
      'This application will have administrator access to all repositories to which the granting user has access',
  },
  'repo:create': {
    title: 'Create Repositories',
    icon: 'fa-plus',
    dangerous: false,
    description:
      'This application will be able to create repositories in all namespaces that the granting user is allowed to create repositories',
  },
  'user:read': {
    title: 'Read User Information',
    icon: 'fa-user',
    dangerous: false,
    description: 'This application will be able to read user information such as username and email address.',
  },
  'user:admin': {
    title: 'Administer User',
    icon: 'fa-gear',
    dangerous: true,
    description:
      'This application will be able to administer your account including creating robots and granting them permissions to your repositories. You should have absolute trust in the requesting application before granting this permission.',
  },
  'org:admin': {
    title: 'Administer Organization',
    icon: 'fa-gear',
    dangerous: true,
    description:
      'This application will be able to administer your organizations including creating robots, creating teams, adjusting team membership, and changing billing settings. You should have absolute trust in the requesting application before granting this permission.',
  },
  'super:user': {
    title: 'Super User Access',
    icon: 'fa-street-view',
    dangerous: true,
    description:
      'This application will be able to administer your installation including managing users, managing organizations and other features found in the superuser panel. You should have absolute trust in the requesting application before granting this permission.',
  },
};

interface WebUser {
  readonly user: Account;
  readonly basic: boolean;
}

/** process_auth_or_cookie: HTTP Basic with a user's password, else the signed-in session. */
const webUser = (ctx: Ctx): WebUser | undefined => {
  const header = ctx.req.headers.authorization ?? '';
  const m = /^basic\s+(\S+)$/i.exec(header);
  if (m !== null) {
    const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? undefined : ctx.world.userOrRobot(decoded.slice(0, colon));
    return user?.kind === 'user' && user.enabled && user.password === decoded.slice(colon + 1)
      ? { user, basic: true }
      : undefined;
  }
  return ctx.callerVia === 'session' && ctx.caller !== undefined
    ? { user: ctx.caller.user, basic: false }
    : undefined;
};

/** Names split on spaces; unknown names are left out (an all-unknown string is the empty set). */
const scopeSet = (scope: string): Set<Scope> => new Set(scope.split(' ').filter(isScope));
const validScopeString = (scope: string): boolean => {
  const names = scope.split(' ').filter((s) => s !== '');
  return names.length > 0 && names.every(isScope);
};

const ownerOf = (ctx: Ctx, app: OAuthApplication): Account | undefined => ctx.world.accounts.get(app.orgId);

const administersApp = (ctx: Ctx, user: Account, app: OAuthApplication): boolean =>
  can.administerOrganization(ctx.world, { user, scopes: SESSION_SCOPES }, ownerOf(ctx, app)?.username ?? '');

/** validate_redirect_uri: the local handler, or the application's own scheme and host and a path under its path. */
const validRedirectUri = (ctx: Ctx, app: OAuthApplication | undefined, uri: string): boolean => {
  if (uri === `${ctx.req.baseUrl}${LOCAL_OAUTH_HANDLER}`) return true;
  if (app === undefined) return false;
  try {
    const wanted = new URL(uri);
    const registered = new URL(app.redirectUri);
    return (
      wanted.protocol === registered.protocol &&
      wanted.host === registered.host &&
      wanted.pathname.startsWith(registered.pathname)
    );
  } catch {
    return false;
  }
};

/** validate_has_scopes: an unexpired token of this user for this application that covers the scopes. */
const alreadyGranted = (ctx: Ctx, user: Account, clientId: string, scope: string): boolean => {
  const wanted = scopeSet(scope);
  return [...ctx.world.tokens.values()].some(
    (t) =>
      t.userId === user.id &&
      t.clientId === clientId &&
      t.expiresAtMs > ctx.world.now() &&
      [...wanted].every((s) => t.scopes.has(s)),
  );
};

const redirect = (location: string): Reply => ({ status: 302, headers: { ...HTML, location }, body: '' });
const redirectError = (uri: string, error: string): Reply =>
  redirect(`${uri}${uri.includes('?') ? '&' : '?'}error=${error}`);

/** get_token_response for response_type=token: checks, then a new ten-year token in the Location fragment. */
const tokenResponse = (
  ctx: Ctx,
  user: Account,
  clientId: string,
  redirectUri: string,
  scope: string,
  state: string | undefined,
): Reply => {
  const app = ctx.world.applications.get(clientId);
  if (!validRedirectUri(ctx, app, redirectUri)) {
    return {
      status: 400,
      headers: { 'content-type': 'application/json;charset=UTF-8' },
      body: pythonJson({ error: 'invalid_request' }, 'dumps'),
    };
  }
  if (app === undefined || !administersApp(ctx, user, app))
    return redirectError(redirectUri, 'unauthorized_client');
  if (!validScopeString(scope)) return redirectError(redirectUri, 'invalid_scope');
  const token = issueToken(ctx.world, user, [...scopeSet(scope)], DEFAULT_TOKEN_SECONDS, clientId);
  const query = new URLSearchParams({ scope, ...(state === undefined ? {} : { state }) });
  return redirect(
    `${redirectUri}?${query.toString()}#access_token=${token}&token_type=Bearer&expires_in=${DEFAULT_TOKEN_SECONDS}`,
  );
};

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** abort(404) in the web blueprint: Quay's web-app page, which carries the session's CSRF token like every page. */
const webAppNotFound = (csrf: string): Reply => {
  const page = htmlNotFound();
  return {
    ...page,
    body: page.body.replace(
      '</head>',
      `<script type="text/javascript">\n  window.__token = '${csrf}';\n</script>\n</head>`,
    ),
  };
};

/** The consent page, reduced to what a program reads from Quay's: the token and the form's hidden fields. */
const consentPage = (
  app: OAuthApplication,
  fields: Readonly<Record<string, string>>,
  csrf: string,
): Reply => {
  const hidden = Object.entries(fields)
    .map(([k, v]) => `    <input type="hidden" name="${k}" value="${escapeHtml(v)}">`)
    .join('\n');
  return {
    status: 200,
    headers: HTML,
    body:
      `<!DOCTYPE html>\n<html>\n<head>\n<title>Authorize ${escapeHtml(app.name)} · Quay</title>\n` +
      `<script type="text/javascript">\n  window.__token = '${csrf}';\n</script>\n</head>\n<body>\n` +
      `  <form method="post" action="/oauth/authorizeapp">\n${hidden}\n` +
      '    <button type="submit">Authorize Application</button>\n  </form>\n</body>\n</html>\n',
  };
};

export const getAuthorize: Handler = (ctx) => {
  const q = ctx.req.query;
  const clientId = q.get('client_id');
  const redirectUri = q.get('redirect_uri');
  const scope = q.get('scope');
  // param_required
  if (clientId === null || redirectUri === null || scope === null)
    return jsonify({ message: 'Missing parameter' }, 400);
  const who = webUser(ctx);
  if (who === undefined) return werkzeugPage(401);
  const state = q.get('state') ?? undefined;
  if (alreadyGranted(ctx, who.user, clientId, scope))
    return tokenResponse(ctx, who.user, clientId, redirectUri, scope, state);

  const app = ctx.world.applications.get(clientId);
  if (app === undefined) return webAppNotFound(ctx.session.ensure(who.basic).csrf);
  if (!validRedirectUri(ctx, app, redirectUri))
    return redirectError(app.redirectUri, 'redirect_uri_mismatch');
  if (!administersApp(ctx, who.user, app)) return werkzeugPage(403);
  const scopes = [...scopeSet(scope)];
  if (scopes.length === 0) return webAppNotFound(ctx.session.ensure(who.basic).csrf);
  const csrf = ctx.session.ensure(who.basic).csrf;
  if (q.get('format') !== 'json') {
    return consentPage(
      app,
      { response_type: 'token', client_id: clientId, redirect_uri: redirectUri, scope, _csrf_token: csrf },
      csrf,
    );
  }
  const owner = ownerOf(ctx, app);
  const appEmail = app.avatarEmail ?? owner?.email ?? null;
  const view: JsonObject = {
    application: {
      avatar: pythonJson(avatar(app.name, appEmail, 'app'), 'dumps'),
      description: app.description,
      name: app.name,
      organization: {
        avatar: owner === undefined ? '' : pythonJson(orgAvatar(owner), 'dumps'),
        name: owner?.username ?? '',
      },
      url: app.applicationUri,
    },
    assignment_uuid: null,
    client_id: clientId,
    csrf_token_val: csrf,
    has_dangerous_scopes: scopes.some((s) => SCOPE_INFO[s].dangerous),
    redirect_uri: redirectUri,
    response_type: q.get('response_type') ?? 'code',
    scope,
    scopes: scopes.map((s) => ({ ...SCOPE_INFO[s], scope: s })),
    state: state ?? null,
  };
  return jsonify(view, 200);
};

/** The consent: CSRF always (DIRECT_OAUTH_CLIENTID_WHITELIST is empty), with the session's token in `_csrf_token`. */
export const postAuthorizeApp: Handler = (ctx) => {
  const who = webUser(ctx);
  if (who === undefined) return werkzeugPage(401);
  const form = formBody(ctx) ?? new URLSearchParams();
  const session = ctx.session.current;
  const sent = csrfTokenOf(ctx.req.headers, ctx.req.query, form);
  if (session === undefined || sent !== session.csrf) return csrfFailure(who.user.username);
  return tokenResponse(
    ctx,
    who.user,
    form.get('client_id') ?? '',
    form.get('redirect_uri') ?? '',
    form.get('scope') ?? '',
    form.get('state') ?? undefined,
  );
};

/** Only a landing page: the token is in the fragment, which never reaches the server. */
export const getLocalApp: Handler = (ctx) => {
  if (webUser(ctx) === undefined) return werkzeugPage(401);
  if (ctx.req.query.get('format') === 'json') return jsonify({ access_token: null }, 200);
  return {
    status: 200,
    headers: HTML,
    body: '<!DOCTYPE html>\n<html>\n<head><title>Quay</title></head>\n<body>\n<p>Generated token</p>\n</body>\n</html>\n',
  };
};
