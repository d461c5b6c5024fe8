// The requests to Quay, exactly as its web UI makes them (recorded in test/fixtures/quay/signin-oauth-exchanges.json),
// and what each answer means. Each `interpret*` is pure: an answer in, the next value or a TokenError out.
import * as E from 'fp-ts/lib/Either.js';
import type { TokenError } from './errors.js';
import { BRIDGE_SCOPE_STRING } from './scopes.js';
import type { QuayWeb, WebResponse } from './web.js';

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === 'object' && u !== null && !Array.isArray(u);
const field = (u: unknown, k: string): unknown => (isRecord(u) ? u[k] : undefined);
const text = (u: unknown, k: string): string | undefined => {
  const v = field(u, k);
  return typeof v === 'string' ? v : undefined;
};

/**
 * A short, single-line excerpt of an answer for an error message: never a header (cookies), and every long
 * token-like word (tokens, secrets, CSRF tokens are 20 characters or more) blanked.
 */
const excerpt = (res: WebResponse): string => {
  const one = res.text
    .replace(/\s+/g, ' ')
    .replace(/[A-Za-z0-9_\-.=]{20,}/g, '…')
    .trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
};

const unexpected = (request: string, res: WebResponse): TokenError => ({
  _tag: 'QuayUnexpected',
  request,
  status: res.status,
  body: excerpt(res),
});

/** verify_csrf's refusal: 403 `{"error": "CSRF token was invalid or missing…"}`, labelled text/html. */
const isCsrfRefusal = (res: WebResponse): boolean =>
  res.status === 403 && (text(res.json, 'error') ?? '').startsWith('CSRF token was invalid or missing');

const header = (res: WebResponse, name: string): string | undefined => {
  const v = res.headers[name];
  return typeof v === 'string' ? v : v?.[0];
};

// ---- the first user (--initialize) ----

export interface Initialized {
  readonly token: string;
}

export const interpretInitialize = (url: string, res: WebResponse): E.Either<TokenError, Initialized> => {
  const token = text(res.json, 'access_token');
  if (res.status === 200 && token !== undefined) return E.right({ token });
  // route_show_if(FEATURE_USER_INITIALIZE): the route is not there at all.
  if (res.status === 404) return E.left({ _tag: 'InitializeUnavailable', url });
  const message = text(res.json, 'message');
  if (res.status === 400 && message !== undefined)
    return E.left(
      message.includes('non-empty database')
        ? { _tag: 'AlreadyInitialized' }
        : { _tag: 'InitializeRefused', message },
    );
  return E.left(unexpected('POST /api/v1/user/initialize', res));
};

export const initialize = async (
  web: QuayWeb,
  user: { readonly username: string; readonly password: string; readonly email: string | undefined },
): Promise<E.Either<TokenError, Initialized>> => {
  const res = await web.send({
    method: 'POST',
    path: '/api/v1/user/initialize',
    json: {
      username: user.username,
      password: user.password,
      ...(user.email === undefined ? {} : { email: user.email }),
      access_token: true,
    },
  });
  return E.isLeft(res) ? res : interpretInitialize(web.url, res.right);
};

// ---- sign-in as the web UI does ----

export const interpretCsrfToken = (url: string, res: WebResponse): E.Either<TokenError, string> => {
  const token = text(res.json, 'csrf_token');
  if (res.status === 200 && token !== undefined) return E.right(token);
  return E.left({ _tag: 'NotQuay', url, detail: `GET /csrf_token answered HTTP ${res.status}` });
};

/** The sign-in's answer: the CSRF token of the signed-in session (Quay rotates it), or why not. */
export const interpretSignin = (
  url: string,
  username: string,
  res: WebResponse,
): E.Either<TokenError, string | undefined> => {
  if (res.status === 200 && field(res.json, 'success') === true)
    return E.right(header(res, 'x-next-csrf-token'));
  if (isCsrfRefusal(res)) return E.left({ _tag: 'CsrfRefused', during: 'signing in' });
  if (res.status === 403 && field(res.json, 'needsEmailVerification') === true)
    return E.left({ _tag: 'EmailNotVerified', user: username });
  if (res.status === 403 && field(res.json, 'invalidCredentials') === true)
    return E.left({ _tag: 'WrongPassword', user: username });
  if (res.status === 429) {
    const raw = Number(header(res, 'retry-after'));
    return E.left({
      _tag: 'SigninThrottled',
      user: username,
      retryAfterSeconds: Number.isFinite(raw) ? Math.max(1, Math.ceil(raw)) : undefined,
    });
  }
  if (res.status === 404) return E.left({ _tag: 'SigninUnavailable', url });
  return E.left(unexpected('POST /api/v1/signin', res));
};

/** A signed-in session and its CSRF token (sent as X-CSRF-Token on every write). */
export interface Session {
  readonly web: QuayWeb;
  readonly csrf: string;
}

export const signIn = async (
  web: QuayWeb,
  username: string,
  password: string,
): Promise<E.Either<TokenError, Session>> => {
  const first = await web.send({ method: 'GET', path: '/csrf_token' });
  if (E.isLeft(first)) return first;
  const csrf = interpretCsrfToken(web.url, first.right);
  if (E.isLeft(csrf)) return csrf;
  const res = await web.send({
    method: 'POST',
    path: '/api/v1/signin',
    json: { username, password },
    headers: { 'x-csrf-token': csrf.right },
  });
  if (E.isLeft(res)) return res;
  const next = interpretSignin(web.url, username, res.right);
  if (E.isLeft(next)) return next;
  // The session must be signed in now: a proxy that drops the cookie would otherwise show up later as an anonymous
  // caller, who is "not an admin" of anything.
  const me = await web.send({ method: 'GET', path: '/api/v1/user/' });
  if (E.isLeft(me)) return me;
  if (me.right.status !== 200 || text(me.right.json, 'username') === undefined)
    return E.left({ _tag: 'SessionLost', during: 'reading the signed-in user' });
  if (next.right !== undefined) return E.right({ web, csrf: next.right });
  // A Quay that does not send X-Next-CSRF-Token: the session's token, read again.
  const again = await web.send({ method: 'GET', path: '/csrf_token' });
  if (E.isLeft(again)) return again;
  const token = interpretCsrfToken(web.url, again.right);
  return E.isLeft(token) ? token : E.right({ web, csrf: token.right });
};

export const signOut = async (session: Session): Promise<void> => {
  await session.web.send({
    method: 'POST',
    path: '/api/v1/signout',
    headers: { 'x-csrf-token': session.csrf },
  });
};

// ---- the organization and its OAuth application ----

const sessionRefusal = (during: string, res: WebResponse): TokenError | undefined =>
  isCsrfRefusal(res)
    ? { _tag: 'CsrfRefused', during }
    : res.status === 401
      ? { _tag: 'SessionLost', during }
      : undefined;

export type OrganizationState = 'admin' | 'missing';

export const interpretOrganization = (
  user: string,
  org: string,
  res: WebResponse,
): E.Either<TokenError, OrganizationState> => {
  if (res.status === 404) return E.right('missing');
  const lost = sessionRefusal(`reading the organization ${org}`, res);
  if (lost !== undefined) return E.left(lost);
  if (res.status === 200)
    return field(res.json, 'is_admin') === true
      ? E.right('admin')
      : E.left({ _tag: 'NotOrganizationAdmin', user, org });
  return E.left(unexpected(`GET /api/v1/organization/${org}`, res));
};

const orgPath = (org: string): string => `/api/v1/organization/${encodeURIComponent(org)}`;

/** The organization, created when asked to; its admin must be the signed-in user. */
export const ensureOrganization = async (
  session: Session,
  user: string,
  org: string,
  create: boolean,
): Promise<E.Either<TokenError, 'existing' | 'created'>> => {
  const res = await session.web.send({ method: 'GET', path: orgPath(org) });
  if (E.isLeft(res)) return res;
  const state = interpretOrganization(user, org, res.right);
  if (E.isLeft(state)) return state;
  if (state.right === 'admin') return E.right('existing');
  if (!create) return E.left({ _tag: 'OrganizationNotFound', org });
  const made = await session.web.send({
    method: 'POST',
    path: '/api/v1/organization/',
    json: { name: org },
    headers: { 'x-csrf-token': session.csrf },
  });
  if (E.isLeft(made)) return made;
  if (made.right.status === 201) return E.right('created');
  return E.left(
    sessionRefusal(`creating the organization ${org}`, made.right) ??
      unexpected('POST /api/v1/organization/', made.right),
  );
};

export interface Application {
  readonly clientId: string;
  readonly redirectUri: string;
}

const applicationOf = (u: unknown): (Application & { readonly name: string }) | undefined => {
  const name = text(u, 'name');
  const clientId = text(u, 'client_id');
  return name === undefined || clientId === undefined
    ? undefined
    : { name, clientId, redirectUri: text(u, 'redirect_uri') ?? '' };
};

export const interpretApplications = (
  user: string,
  org: string,
  res: WebResponse,
): E.Either<TokenError, readonly (Application & { readonly name: string })[]> => {
  const lost = sessionRefusal(`listing the OAuth applications of ${org}`, res);
  if (lost !== undefined) return E.left(lost);
  if (res.status === 403) return E.left({ _tag: 'NotOrganizationAdmin', user, org });
  const list = field(res.json, 'applications');
  if (res.status === 200 && Array.isArray(list)) return E.right(list.flatMap((a) => applicationOf(a) ?? []));
  return E.left(unexpected(`GET ${orgPath(org)}/applications`, res));
};

/**
 * The application named `name` (the first, as Quay allows duplicates), else a new one whose redirect URI is Quay's
 * own local handler at the URL used here: a redirect URI the implicit grant accepts for that application.
 */
export const ensureApplication = async (
  session: Session,
  user: string,
  org: string,
  name: string,
): Promise<E.Either<TokenError, { readonly app: Application; readonly created: boolean }>> => {
  const listed = await session.web.send({ method: 'GET', path: `${orgPath(org)}/applications` });
  if (E.isLeft(listed)) return listed;
  const apps = interpretApplications(user, org, listed.right);
  if (E.isLeft(apps)) return apps;
  const found = apps.right.find((a) => a.name === name);
  if (found !== undefined) return E.right({ app: found, created: false });
  const made = await session.web.send({
    method: 'POST',
    path: `${orgPath(org)}/applications`,
    json: {
      name,
      description: 'quay-bridge: the token of the QuayIntegration (npm run quay-token)',
      redirect_uri: `${session.web.url}/oauth/localapp`,
    },
    headers: { 'x-csrf-token': session.csrf },
  });
  if (E.isLeft(made)) return made;
  const app = made.right.status === 200 ? applicationOf(made.right.json) : undefined;
  if (app !== undefined) return E.right({ app, created: true });
  const refused = sessionRefusal(`creating the OAuth application ${name}`, made.right);
  if (refused !== undefined) return E.left(refused);
  return E.left(
    made.right.status === 403
      ? { _tag: 'NotOrganizationAdmin', user, org }
      : unexpected(`POST ${orgPath(org)}/applications`, made.right),
  );
};

// ---- the implicit grant ----

/** A 302 from the grant: the token in the Location's fragment, or `?error=` when Quay refused. */
export const interpretGrantRedirect = (res: WebResponse): E.Either<TokenError, string> | undefined => {
  const location = header(res, 'location');
  if (res.status !== 302 || location === undefined) return undefined;
  let target: URL;
  try {
    target = new URL(location);
  } catch {
    return E.left({ _tag: 'AuthorizationRefused', error: 'an unreadable redirect' });
  }
  const token = new URLSearchParams(target.hash.replace(/^#/, '')).get('access_token');
  if (token !== null && token !== '') return E.right(token);
  return E.left({
    _tag: 'AuthorizationRefused',
    error: target.searchParams.get('error') ?? 'no token in the redirect',
  });
};

/** GET /oauth/authorize?format=json: a token at once (scopes granted before), or the consent's CSRF token. */
export const interpretAuthorize = (
  user: string,
  org: string,
  res: WebResponse,
): E.Either<TokenError, { readonly token: string } | { readonly consentCsrf: string }> => {
  const redirected = interpretGrantRedirect(res);
  if (redirected !== undefined) return E.map((token: string) => ({ token }))(redirected);
  const csrf = text(res.json, 'csrf_token_val');
  if (res.status === 200 && csrf !== undefined) return E.right({ consentCsrf: csrf });
  if (res.status === 401) return E.left({ _tag: 'SessionLost', during: 'opening the authorization' });
  if (res.status === 403) return E.left({ _tag: 'NotOrganizationAdmin', user, org });
  if (res.status === 400)
    return E.left({ _tag: 'AuthorizationRefused', error: text(res.json, 'error') ?? 'HTTP 400' });
  return E.left(unexpected('GET /oauth/authorize', res));
};

export const interpretConsent = (res: WebResponse): E.Either<TokenError, string> => {
  const redirected = interpretGrantRedirect(res);
  if (redirected !== undefined) return redirected;
  if (isCsrfRefusal(res)) return E.left({ _tag: 'CsrfRefused', during: 'consenting to the token' });
  if (res.status === 401) return E.left({ _tag: 'SessionLost', during: 'consenting to the token' });
  if (res.status === 400)
    return E.left({ _tag: 'AuthorizationRefused', error: text(res.json, 'error') ?? 'HTTP 400' });
  return E.left(unexpected('POST /oauth/authorizeapp', res));
};

/** The implicit grant of quay-bridge's scopes for the application, as the UI's "Generate Token" does it. */
export const grantToken = async (
  session: Session,
  user: string,
  org: string,
  app: Application,
): Promise<E.Either<TokenError, string>> => {
  const redirectUri = app.redirectUri !== '' ? app.redirectUri : `${session.web.url}/oauth/localapp`;
  const params = {
    response_type: 'token',
    client_id: app.clientId,
    scope: BRIDGE_SCOPE_STRING,
    redirect_uri: redirectUri,
  };
  const query = new URLSearchParams({ ...params, format: 'json' }).toString().replace(/\+/g, '%20');
  const asked = await session.web.send({ method: 'GET', path: `/oauth/authorize?${query}` });
  if (E.isLeft(asked)) return asked;
  const step = interpretAuthorize(user, org, asked.right);
  if (E.isLeft(step)) return step;
  if ('token' in step.right) return E.right(step.right.token);
  const consent = await session.web.send({
    method: 'POST',
    path: '/oauth/authorizeapp',
    form: { ...params, state: '', _csrf_token: step.right.consentCsrf },
  });
  return E.isLeft(consent) ? consent : interpretConsent(consent.right);
};

// ---- the check the bridge makes ----

export const interpretTokenCheck = (user: string, res: WebResponse): E.Either<TokenError, string> => {
  const name = text(res.json, 'username');
  if (res.status === 200 && name !== undefined)
    return name.toLowerCase() === user.toLowerCase()
      ? E.right(name)
      : E.left({ _tag: 'TokenRejected', detail: `it belongs to "${name}", not "${user}"` });
  return E.left({
    _tag: 'TokenRejected',
    detail: `GET /api/v1/user/ answered HTTP ${res.status} ${excerpt(res)}`,
  });
};

/** GET /api/v1/user/ with the token, as the bridge checks it (CredentialsValid). */
export const checkToken = async (
  web: QuayWeb,
  user: string,
  token: string,
): Promise<E.Either<TokenError, string>> => {
  const res = await web.send({
    method: 'GET',
    path: '/api/v1/user/',
    headers: { authorization: `Bearer ${token}` },
    cookieless: true,
  });
  return E.isLeft(res) ? res : interpretTokenCheck(user, res.right);
};
